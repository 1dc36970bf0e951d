"""gunicorn config for benchmarks/live_stages.py: the service's own hooks, and a timer around each stage of a
submission inside the worker that serves it.

Each timer reads the thread's CPU clock and the wall clock around one function of the submission path, where
the request looks it up (a module's global or a class's method), and only in request threads: the background
threads' Redis calls are not counted. Every request's times are kept; each worker writes them to
$LIVE_STAGES_DIR/<pid>.json when it exits. The first $LIVE_STAGES_SKIP requests of a worker (default 300) are
its warm-up and are left out.
"""

from __future__ import annotations

import functools
import importlib
import json
import os
import threading
import time

from service.gunicorn_conf import child_exit, when_ready  # noqa: F401 - the service's hooks, unchanged

# The stages that hold others.
REQUEST, APP, SUBMIT, ADMIT = ("request", "the Flask app (WSGI call)", "submit: score, decide, admit, store",
                               "admit and store")
# (label, label of the stage it runs inside, module, attribute): the stages of POST /v1/comments, in order.
STAGES = (
    (APP, REQUEST, "service.api.bodylimit", "SizedBodies.__call__"),
    ("Flask: before-request hooks", APP, "flask.app", "Flask.preprocess_request"),
    ("Flask: the view's answer made a response", APP, "flask.app", "Flask.make_response"),
    ("Flask: after-request hooks (metrics, headers, request id)", APP, "flask.app", "Flask.process_response"),
    ("Location header (url_for)", APP, "service.api.comments", "url_for"),
    ("site key (known to the worker: checked by the admission script)", APP, "service.api.comments",
     "optional_user_deferred"),
    ("read the JSON body", APP, "service.api.comments", "read_fields"),
    ("validate the fields", APP, "service.api.comments", "validate_submission"),
    (SUBMIT, APP, "service.runtime", "Runtime.submit"),
    ("normalise the text", SUBMIT, "service.moderation.intake", "normalized_text"),
    ("identify the language", SUBMIT, "service.moderation.intake", "detect_language"),
    ("score", SUBMIT, "service.moderation.intake", "scored_verdict"),
    ("explanation (top n-grams)", SUBMIT, "service.moderation.scorer", "Score.top_features"),
    ("rules that need no Redis", SUBMIT, "service.moderation.guard", "Guard.rules"),
    ("decide, for each class of text", SUBMIT, "service.moderation.intake", "within_rules"),
    (ADMIT, SUBMIT, "service.moderation.guard", "Guard.admit"),
    ("fingerprint (SimHash)", ADMIT, "service.storage.abuse", "simhash"),
    ("bucket names", ADMIT, "service.storage.abuse", "bucket_keys"),
    ("the record's payload", ADMIT, "service.storage.abuse", "comment_spec"),
    ("admission script call (redis-py)", ADMIT, "redis.commands.core", "Script.__call__"),
)

_local = threading.local()
_rows: list[dict[str, tuple[float, float]]] = []
_skip = int(os.environ.get("LIVE_STAGES_SKIP", "300"))
_seen = [0]


def _timed(function, label):
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        times = getattr(_local, "times", None)
        if times is None:
            return function(*args, **kwargs)
        cpu, wall = time.thread_time(), time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            spent_cpu, spent_wall = times.get(label, (0.0, 0.0))
            times[label] = (spent_cpu + time.thread_time() - cpu, spent_wall + time.perf_counter() - wall)
    return wrapper


def post_fork(server, worker):
    """Put a timer around every stage (in the worker: each process patches its own copy)."""
    for label, _parent, module_name, attribute in STAGES:
        owner = importlib.import_module(module_name)
        *path, name = attribute.split(".")
        for part in path:
            owner = getattr(owner, part)
        setattr(owner, name, _timed(getattr(owner, name), label))


def pre_request(worker, req):
    _local.times = {}
    _local.started = (time.thread_time(), time.perf_counter())


def post_request(worker, req, environ, resp):
    times, (cpu, wall) = _local.times, _local.started
    _local.times = None
    times[REQUEST] = (time.thread_time() - cpu, time.perf_counter() - wall)
    _seen[0] += 1
    if _seen[0] > _skip and req.path == "/v1/comments" and resp.status_code == 201:
        _rows.append(times)


def worker_exit(server, worker):
    out = os.environ.get("LIVE_STAGES_DIR")
    if out and _rows:
        with open(os.path.join(out, f"{os.getpid()}.json"), "w") as f:
            json.dump(_rows, f)
