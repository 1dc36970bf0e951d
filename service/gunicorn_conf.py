"""gunicorn hooks (`--config python:service.gunicorn_conf`): a frozen heap before fork, each worker's helper
processes, and multiprocess metrics kept right when workers exit."""

import gc

from prometheus_client import multiprocess


def when_ready(server):
    """Freeze the master's heap once the app and its model are loaded (`--preload`), before any worker forks.

    The model's vocabularies are hundreds of thousands of objects: every full
    collection walked them, about 85 ms, and once in a while inside a request
    (measured on `POST /v1/score`: 17 ms a call on average). Frozen objects
    are never walked again, in the master or in the workers, whose copies of
    those pages then also stay shared. A model promoted later, while the
    workers run, is collected as usual until the next restart.
    """
    gc.freeze()


def post_fork(server, worker):
    """Fork the new worker's helpers for large batches (service.helpers) now, while it runs no thread yet."""
    worker.app.wsgi().extensions["moderation"].helpers.start(close=worker.sockets)


def worker_exit(server, worker):
    """Let the worker's helpers go (they would also exit once it is gone, its end of their pipes closed)."""
    worker.app.wsgi().extensions["moderation"].helpers.stop()


def child_exit(server, worker):
    """Drop a dead worker's live gauges from the shared metrics directory, and free its slot in the table that
    sends new connections to the worker holding fewest (service.worker.AcceptShares)."""
    multiprocess.mark_process_dead(worker.pid)
    if release := getattr(worker, "release_slot", None):
        release()
