"""service.worker: new connections go to the gunicorn worker holding fewest, and never wait long for it."""

from __future__ import annotations

import http.client
import os
import signal
import time

from benchmarks.load import children, held_by_worker
from service.worker import AcceptShares

from .conftest import gunicorn_master, running_service


def test_the_shared_table_is_seen_across_a_fork_and_counts_only_accepting_workers():
    shares = AcceptShares()
    first, second, third = shares.claim(), shares.claim(), shares.claim()
    assert (first, second, third) == (0, 1, 2)
    assert shares.fewest() is None  # nobody accepts yet
    child = os.fork()
    if child == 0:  # a worker writes its own slot
        shares.publish(second, accepting=True, open_connections=3)
        os._exit(0)
    os.waitpid(child, 0)
    shares.publish(first, accepting=True, open_connections=5)
    shares.publish(third, accepting=False, open_connections=0)  # stopping, or full: not a place for new ones
    assert shares.fewest() == 3
    shares.release(second)
    assert shares.fewest() == 5
    assert shares.claim() == second  # a freed slot is handed out again, cleared
    assert shares.fewest() == 5


def served(connection: http.client.HTTPConnection) -> bool:
    """One request on the connection (http.client opens it again if it was closed); True if the answer closed it."""
    connection.request("GET", "/healthz")
    with connection.getresponse() as response:
        response.read()
        assert response.status == 200
        return response.will_close


def test_keep_alive_connections_are_spread_over_the_workers_and_a_stopped_worker_delays_nobody(redis_server):
    with running_service(MODERATION_REDIS_URL=redis_server.url, MODERATION_WORKERS=2,
                         MODERATION_SCORE_HELPERS=0) as base:
        port = int(base.rsplit(":", 1)[1])
        master = gunicorn_master(base)
        deadline = time.monotonic() + 30
        while len(workers := children(master)) < 2:
            assert time.monotonic() < deadline
            time.sleep(0.1)

        def split() -> list[int]:
            """Two connections, one after the other, each served once: how many each worker holds."""
            connections = [http.client.HTTPConnection("127.0.0.1", port, timeout=10) for _ in range(2)]
            for connection in connections:
                served(connection)
            held = sorted(held_by_worker(port, workers).values())
            for connection in connections:
                connection.close()
            time.sleep(0.2)  # the workers see the closes
            return held

        while split() != [1, 1]:  # until the second worker has booted and accepts
            assert time.monotonic() < deadline
        # Left to the race, the worker that served the first connection often takes the second too (as likely as
        # not when both wake for it): eight rounds in a row would all come out even about once in 256.
        assert [split() for _ in range(8)] == [[1, 1]] * 8
        # A worker holding fewest that cannot accept (stopped here; in life, hung) costs a new connection a short
        # wait at most: the other worker takes it. Holding more than one connection while the stopped worker
        # holds none, that worker is crowded: it answers `Connection: close` so that the client connects again.
        os.kill(workers[0], signal.SIGSTOP)
        try:
            connections = [http.client.HTTPConnection("127.0.0.1", port, timeout=10) for _ in range(3)]
            closed = 0
            for connection in connections:
                started = time.monotonic()
                closed += served(connection)
                assert time.monotonic() - started < 1
            assert held_by_worker(port, workers)[workers[0]] == 0
            assert closed >= 1
        finally:
            os.kill(workers[0], signal.SIGCONT)
        # Back, the worker takes the connections the clients open again.
        time.sleep(1.5)
        for _ in range(2):
            for connection in connections:
                served(connection)
        assert sorted(held_by_worker(port, workers).values()) == [1, 2]
        for connection in connections:
            connection.close()
