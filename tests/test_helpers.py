"""A worker's helper processes (service.helpers): a large batch shared between processes, and nothing lost when a
helper fails, stalls or dies."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
import urllib.request

import orjson
import pytest

from benchmarks.load import children
from service.app import create_app
from service.helpers import MIN_PART, Declined, Helpers
from service.storage import tokens

from .conftest import bearer, gunicorn_master, running_service
from .test_observability import samples, value


# The parts' functions: module-level, as a helper runs its own copy, found by name.
def tagged(context, part, offset, tag):
    """Each item with its index in the batch, the tag, and the process that handled it."""
    return [(offset + i, item, tag, os.getpid(), context) for i, item in enumerate(part)]


def fails_in_helper(context, part, offset):
    if os.getpid() != context:
        raise RuntimeError("the helper's own trouble")
    return list(part)


def declined_in_helper(context, part, offset):
    if os.getpid() != context:
        raise Declined("not here")
    return list(part)


def slow_in_helper(context, part, offset, seconds):
    if os.getpid() != context:
        time.sleep(seconds)
    return [(item, os.getpid()) for item in part]


def fails_here_once(context, part, offset, call):
    if os.getpid() == context and call == "first":
        raise ValueError("the worker's own part failed")
    return [(item, call) for item in part]


def gone(pid: int, timeout: float = 10.0) -> bool:
    """Whether the process exits within `timeout` (a zombie counts as gone)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.05)
    return False


def cpu_ticks(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


@pytest.fixture
def helpers():
    started = []

    def start(count, context=None, **kwargs):
        h = Helpers(count, os.getpid() if context is None else context, **kwargs)
        h.start()
        started.append(h)
        return h

    yield start
    for h in started:
        h.stop()


def test_a_large_batch_is_shared_in_order_and_a_small_one_is_not(helpers):
    h = helpers(2)
    pids = [helper.pid for helper in h._helpers]
    items = list(range(3 * MIN_PART + 7))
    parts = h.split(tagged, items, "t")
    assert len(parts) == 3
    flat = [entry for part in parts for entry in part]
    assert [(index, item) for index, item, *_ in flat] == list(enumerate(items))  # every item once, in order
    assert {tag for _, _, tag, _, _ in flat} == {"t"}
    assert [part[0][3] for part in parts] == [os.getpid(), *pids]  # the first part here, one each on the helpers
    assert {context for *_, context in flat} == {os.getpid()}  # each process's copy of the context
    small = h.split(tagged, list(range(2 * MIN_PART - 1)), "s")
    assert len(small) == 1 and {entry[3] for entry in small[0]} == {os.getpid()}
    h.stop()
    assert all(gone(pid, 0.1) for pid in pids)  # stop waits for them


def test_a_helper_that_fails_or_declines_leaves_its_part_to_the_worker(helpers, caplog):
    h = helpers(1)
    items = list(range(2 * MIN_PART))
    with caplog.at_level(logging.WARNING, logger="service.helpers"):
        assert h.split(declined_in_helper, items) == [items[:MIN_PART], items[MIN_PART:]]
        assert caplog.records == []  # declining is not a failure
        assert h.split(fails_in_helper, items) == [items[:MIN_PART], items[MIN_PART:]]
    assert "could not do its part of a batch, done by the worker: RuntimeError" in caplog.text
    assert "own trouble" not in caplog.text  # only the error's type: its message might quote a comment
    assert h.alive == 1  # still there for the next batch


def test_a_dead_helper_is_not_waited_for_and_its_part_is_done_here(helpers, caplog):
    h = helpers(1)
    (pid,) = [helper.pid for helper in h._helpers]
    os.kill(pid, signal.SIGKILL)
    assert gone(pid)
    items = list(range(2 * MIN_PART))
    with caplog.at_level(logging.WARNING, logger="service.helpers"):
        parts = h.split(tagged, items, "after")
    assert [entry[1] for part in parts for entry in part] == items
    assert {entry[3] for part in parts for entry in part} == {os.getpid()}
    assert h.alive == 0 and f"helper {pid} is gone" in caplog.text
    assert len(h.split(tagged, items, "again")) == 1  # no helper left: not split


def test_a_stalled_helper_is_killed_after_the_timeout_and_its_part_done_here(helpers, caplog):
    h = helpers(1, timeout=0.5)
    (pid,) = [helper.pid for helper in h._helpers]
    items = list(range(2 * MIN_PART))
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="service.helpers"):
        parts = h.split(slow_in_helper, items, 30)
    assert time.monotonic() - started < 10
    assert [item for part in parts for item, _ in part] == items
    assert gone(pid) and h.alive == 0 and "no answer within 0.5 s" in caplog.text


def test_a_failure_in_the_workers_own_part_leaves_no_stale_answer_behind(helpers):
    h = helpers(1)
    items = list(range(2 * MIN_PART))
    with pytest.raises(ValueError, match="own part failed"):
        h.split(fails_here_once, items, "first")
    # The helper's answer to the failed call was read and dropped: this call gets its own.
    parts = h.split(fails_here_once, items, "second")
    assert [entry for part in parts for entry in part] == [(item, "second") for item in items]


def test_a_busy_helper_is_not_waited_for(helpers):
    h = helpers(1)
    items = list(range(2 * MIN_PART))
    slow = threading.Thread(target=h.split, args=(slow_in_helper, items, 2))
    slow.start()
    deadline = time.monotonic() + 10
    while not h._helpers[0].lock.locked():  # until the helper is busy with the slow call's part
        assert time.monotonic() < deadline
        time.sleep(0.01)
    started = time.monotonic()
    parts = h.split(tagged, items, "meanwhile")
    assert time.monotonic() - started < 1.5
    assert len(parts) == 1 and {entry[3] for entry in parts[0]} == {os.getpid()}
    slow.join()


def test_a_helper_ignores_ctrl_c_and_exits_when_its_worker_closes_the_pipe(helpers):
    h = helpers(1)
    (pid,) = [helper.pid for helper in h._helpers]
    assert h.split(tagged, list(range(2 * MIN_PART)), "x")[1][0][3] == pid  # waiting for its next part
    os.kill(pid, signal.SIGINT)  # a terminal's Ctrl-C reaches the whole process group
    assert not gone(pid, 0.5)
    assert h.split(tagged, list(range(2 * MIN_PART)), "y")[1][0][3] == pid  # and it still works
    h._helpers[0].connection.close()  # what the kernel does when the worker dies
    assert gone(pid)


def batch(count: int, bad: tuple = ()) -> list[dict]:
    """`count` comments of the French corpus's kind, with an invalid e-mail address at the indexes `bad`."""
    texts = ["Merci pour cet article très clair sur le budget.", "Gagnez 500 000 FCFA par jour, appelez le 77 123 45 67",
             "Le ministre a raison, il faut investir dans l'école.", "Check my channel http://x.example.com subscribe!!!",
             "Wax rek, dafa neex. Bon article."]
    return [{"name": f"Lecteur {i}", "email": "pas-une-adresse" if i in bad else f"lecteur{i}@exemple.sn",
             "text": f"{texts[i % len(texts)]} ({i})"} for i in range(count)]


@pytest.fixture
def app_with_helpers(config, redis_client):
    app = create_app({**config, "score_helpers": 2})
    helpers = app.extensions["moderation"].helpers
    helpers.start()  # as gunicorn's post_fork hook does, before any request starts a thread
    yield app
    helpers.stop()


def test_the_endpoint_answers_the_same_with_helpers_as_without(app_with_helpers, client, redis_client):
    token = bearer(tokens.create(redis_client, "site", "site"))
    helpers = app_with_helpers.extensions["moderation"].helpers
    pids = [helper.pid for helper in helpers._helpers]
    before = [cpu_ticks(pid) for pid in pids]
    comments = batch(900)  # a few hundred comments a process: tens of ms of CPU each, whole clock ticks
    shared = app_with_helpers.test_client().post("/v1/score?explain=5", json={"comments": comments}, headers=token)
    alone = client.post("/v1/score?explain=5", json={"comments": comments}, headers=token)  # the session's app
    assert shared.status_code == alone.status_code == 200
    assert shared.get_json() == alone.get_json()
    assert all(after > was for after, was in zip([cpu_ticks(pid) for pid in pids], before, strict=True))  # they worked
    metrics = samples(app_with_helpers.test_client().get("/metrics").get_data(as_text=True))
    assert value(metrics, "moderation_score_parts_total", done_by="helper") == 2
    assert value(metrics, "moderation_score_parts_total", done_by="worker") == 1
    invalid = batch(3 * MIN_PART, bad=(3, MIN_PART + 10, 3 * MIN_PART - 1))  # one in each process's part
    shared = app_with_helpers.test_client().post("/v1/score", json={"comments": invalid}, headers=token)
    assert shared.status_code == 422
    assert [e["field"] for e in shared.get_json()["errors"]] == [
        "comments[3].email", f"comments[{MIN_PART + 10}].email", f"comments[{3 * MIN_PART - 1}].email"]
    assert shared.get_json() == client.post("/v1/score", json={"comments": invalid}, headers=token).get_json()


def test_a_lost_helper_is_counted_and_its_part_done_by_the_worker(app_with_helpers, redis_client):
    token = bearer(tokens.create(redis_client, "site", "site"))
    helpers = app_with_helpers.extensions["moderation"].helpers
    os.kill(helpers._helpers[0].pid, signal.SIGKILL)
    assert gone(helpers._helpers[0].pid)
    client = app_with_helpers.test_client()
    assert client.post("/v1/score", json={"comments": batch(3 * MIN_PART)}, headers=token).status_code == 200
    metrics = samples(client.get("/metrics").get_data(as_text=True))
    assert value(metrics, "moderation_score_helpers_lost_total") == 1
    assert value(metrics, "moderation_score_parts_total", done_by="helper") == 1  # the helper still alive
    assert value(metrics, "moderation_score_parts_total", done_by="worker") == 2  # its own, and the dead one's


def test_under_gunicorn_each_worker_has_its_helpers_and_they_go_with_it(redis_server, redis_client, tmp_path, client):
    token = bearer(tokens.create(redis_client, "site", "site"))
    with running_service(MODERATION_REDIS_URL=redis_server.url, MODERATION_WORKERS=2, MODERATION_SCORE_HELPERS=1,
                         MODERATION_DATA_DIR=tmp_path) as base:
        master = gunicorn_master(base)
        deadline = time.monotonic() + 30
        while True:  # /readyz answered from one worker; the other may still be starting
            workers = children(master)
            helpers = {worker: children(worker) for worker in workers}
            if len(workers) == 2 and all(len(h) == 1 for h in helpers.values()):
                break
            assert time.monotonic() < deadline, helpers
            time.sleep(0.1)
        assert {comm(pid) for pids in helpers.values() for pid in pids} == {"score-helper"}
        comments = batch(4 * MIN_PART)
        request = urllib.request.Request(f"{base}/v1/score", data=orjson.dumps({"comments": comments}), method="POST",
                                         headers={"Content-Type": "application/json", **token})
        with urllib.request.urlopen(request, timeout=30) as response:
            assert orjson.loads(response.read()) == client.post("/v1/score", json={"comments": comments},
                                                                headers=token).get_json()
        metrics = samples(urllib.request.urlopen(f"{base}/metrics", timeout=10).read().decode())
        assert value(metrics, "moderation_score_parts_total", done_by="helper") == 1  # every worker's, added up
        worker = workers[0]
        os.kill(worker, signal.SIGKILL)  # a worker killed outright: its helper notices and exits
        assert gone(helpers[worker][0])
    assert all(gone(pid) for pids in helpers.values() for pid in pids)  # the service stopped: nothing left


def comm(pid: int) -> str:
    with open(f"/proc/{pid}/comm") as f:
        return f.read().strip()


