"""`POST /v1/score` with batches of 1,000 comments through the live service, as `make run` serves it.

Usage: .venv/bin/python benchmarks/score_load.py [--data DIR] [--seconds 20] [--connections 1 2]

Starts a throw-away redis-server and the service (`python -m service serve`: gunicorn with the service's
default workers and threads, the master's heap frozen before the workers fork), and posts batches of 1,000
comments over keep-alive HTTP connections for a fixed time at each connection count, in two ways:

- **the same batch** every call (a data scientist re-scoring a test set, or any fixed-body load tool): the
  workers' caches (words' n-grams, e-mail syntax, phone numbers) have seen every text;
- **distinct batches**: the UCI corpora, shuffled and cut into batches of 1,000 comments, each sent once (the
  batches are shared out between the connection counts), so no text or address is seen twice; only words
  are, as a site's comments share words. There are only a few such batches: these rows are short and noisy.

The bodies are encoded once, before the clock starts; the client only sends them and reads the answers. One
connection is one batch's latency; two can keep both workers (and both cores) busy, but a keep-alive
connection stays with the worker that accepted it, and both may land on the same one (the call's median then
doubles), so with more than one connection the same batch is also sent on a new connection for each call.
The same batch is also sent with `?explain=0`: results without their `features` (explanations on request).
Prints Markdown: comments/s over the whole run, and the median and 90th percentile of a call.
"""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import load  # noqa: E402
from scoring import distinct_items  # noqa: E402

BATCH = 1000


def batches(data: Path) -> list[bytes]:
    """The UCI corpora, shuffled, as request bodies of BATCH valid comments with distinct texts and addresses."""
    items = distinct_items(data)
    return [orjson.dumps({"comments": items[k:k + BATCH]}) for k in range(0, len(items) - BATCH + 1, BATCH)]


def drive(base: str, key: str, next_body, until: float, calls: list[float], keep_alive: bool, path: str) -> None:
    """Post next_body() on one connection (or a new one for each call) until `until` or until it returns None."""
    url = urlsplit(base)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}
    while time.monotonic() < until and (body := next_body()) is not None:
        began = time.perf_counter()
        if not keep_alive:
            connection.close()  # the next request connects again, to whichever worker accepts first
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        answer = response.read()
        if response.status != 200:
            raise SystemExit(f"/v1/score answered {response.status}: {answer[:300]!r}")
        calls.append(time.perf_counter() - began)
    connection.close()


def measure(base: str, key: str, next_body, connections: int, seconds: float, keep_alive: bool = True,
            path: str = "/v1/score") -> dict:
    """comments/s with `connections` connections sending next_body() for `seconds` (or until it returns None),
    and the median and p90 of one call (ms)."""
    calls: list[float] = []
    until = time.monotonic() + seconds
    began = time.perf_counter()
    threads = [threading.Thread(target=drive, args=(base, key, next_body, until, calls, keep_alive, path))
               for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    return {"rate": len(calls) * BATCH / elapsed, "p50": 1000 * statistics.median(calls),
            "p90": 1000 * float(np.percentile(calls, 90)), "calls": len(calls)}


def each_once(bodies: list[bytes]):
    """A next_body that hands out each body once, to whichever connection asks (thread-safe), then None."""
    remaining = iter(bodies)
    lock = threading.Lock()

    def next_body():
        with lock:
            return next(remaining, None)

    return next_body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "uci")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--connections", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    distinct = batches(args.data)
    with load.throwaway_service() as (redis, _, base):
        key = load.site_key(redis.url)
        same, distinct = distinct[0], distinct[1:]
        measure(base, key, lambda: same, 2, 3)  # warm-up: both workers have answered the same batch
        print("## `POST /v1/score`, 1,000 comments a call, through the live service\n\n"
              f"{os.cpu_count()} cores; the service as `make run` serves it; one batch of the UCI corpora sent "
              f"again and again, then {len(distinct)} others sent once each; {args.seconds:g} s per measurement "
              f"at most. Command: `.venv/bin/python benchmarks/score_load.py {' '.join(sys.argv[1:])}`.\n\n"
              "| batches | connections | comments/s | call p50 ms | call p90 ms | calls |\n|---|---|---|---|---|---|")

        def row(name, connections, result):
            print(f"| {name} | {connections} | {result['rate']:,.0f} | {result['p50']:.0f} | {result['p90']:.0f} | "
                  f"{result['calls']} |", flush=True)

        for connections in args.connections:
            row("the same batch", connections, measure(base, key, lambda: same, connections, args.seconds))
            row("the same batch, no explanations (`?explain=0`)", connections,
                measure(base, key, lambda: same, connections, args.seconds, path="/v1/score?explain=0"))
            if connections > 1:  # keep-alive connections stay with the worker that accepted them, maybe the same
                row("the same batch, a new connection a call", connections,
                    measure(base, key, lambda: same, connections, args.seconds, keep_alive=False))
        share = len(distinct) // len(args.connections)  # each connection count gets batches of its own
        for n, connections in enumerate(args.connections):
            row("distinct batches", connections,
                measure(base, key, each_once(distinct[n * share:(n + 1) * share]), connections, args.seconds))


if __name__ == "__main__":
    main()
