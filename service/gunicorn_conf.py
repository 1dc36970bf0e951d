"""gunicorn hooks (`--config python:service.gunicorn_conf`): keep multiprocess metrics right when workers exit."""

from prometheus_client import multiprocess


def child_exit(server, worker):
    """Drop a dead worker's live gauges from the shared metrics directory."""
    multiprocess.mark_process_dead(worker.pid)

