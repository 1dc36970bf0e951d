"""`python -m service serve`: the embedded Redis (when no URL is set) plus gunicorn, stopped together."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys

from .config import Settings
from .storage.server import RedisServer, Supervisor

log = logging.getLogger("service.serve")


def gunicorn_command(settings: Settings) -> list[str]:
    """Build the gunicorn command line from the settings."""
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    return [
        sys.executable, "-m", "gunicorn",
        "--bind", f"{host}:{settings.port}",
        # gthread that gives a thread only to a request that has arrived (service/worker.py).
        "--worker-class", "service.worker.Worker",
        "--workers", str(settings.workers),
        "--threads", str(settings.threads),
        # Load the app (and verify the model) once in the master: a bad model or
        # config fails before any worker starts, and workers share its memory.
        "--preload",
        "--timeout", "30",
        "--graceful-timeout", "10",
        # Not used, and two instances on one host would fight over its default path.
        "--no-control-socket",
        "--config", "python:service.gunicorn_conf",
        "service.app:create_app()",
    ]


def metrics_environment(settings: Settings) -> dict:
    """A fresh directory where every worker writes its Prometheus samples (multiprocess mode)."""
    directory = settings.data_dir / "metrics"
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    return {"PROMETHEUS_MULTIPROC_DIR": str(directory)}


def start_message(settings: Settings) -> str:
    """What a person who just typed `make run` needs next: where the API and the review page are, how to sign in."""
    base = f"http://{settings.host}:{settings.port}"
    return (f"\nServing the API on {base} (documentation: {base}/docs, health: {base}/readyz).\n"
            f"Review page: {base}/review. Create a moderator's token to sign in with:\n"
            "    .venv/bin/python -m service tokens create --name NAME --role moderator\n"
            "Stop with Ctrl-C.\n")


def serve(settings: Settings) -> int:
    """Run the service until gunicorn exits or we receive SIGINT/SIGTERM; return its exit status."""
    embedded = supervisor = None
    if settings.embedded_redis:
        embedded = RedisServer(settings.data_dir, unix_socket=settings.data_dir / "redis.sock",
                               fsync=settings.redis_fsync)
        embedded.start()
        supervisor = Supervisor(embedded).start()
        log.info("embedded redis-server started, data in %s; it is restarted if it dies", settings.data_dir)
    try:
        gunicorn = subprocess.Popen(gunicorn_command(settings), env={**os.environ, **metrics_environment(settings)})

        def forward(signum, _frame):
            if gunicorn.poll() is None:
                gunicorn.send_signal(signum)

        signal.signal(signal.SIGTERM, forward)
        signal.signal(signal.SIGINT, forward)
        print(start_message(settings), file=sys.stderr, flush=True)
        return gunicorn.wait()
    finally:
        if supervisor:
            supervisor.stop()
        if embedded:
            embedded.stop()
            log.info("embedded redis-server stopped")
