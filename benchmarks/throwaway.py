"""A throw-away redis-server for the benchmarks, and the real app in front of it."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from service.app import create_app
from service.storage.server import RedisServer, free_port

# The abuse limits count every comment from one machine; the benchmarks measure the work, not the limits.
NO_LIMITS = {"flood_seconds": 0, "rate_limit_ip": None, "rate_limit_email": None, "rate_limit_site": None}


@contextmanager
def throwaway_redis() -> Iterator[tuple[RedisServer, Path]]:
    """Start a redis-server without persistence on a free local port; yield it and its directory, then stop it."""
    with tempfile.TemporaryDirectory() as tmp:
        server = RedisServer(Path(tmp), port=free_port(), persistent=False).start()
        try:
            yield server, Path(tmp)
        finally:
            server.stop()


def benchmark_app(redis: RedisServer, data_dir: Path, **settings):
    """The real app on a throw-away Redis: quiet logs, no background threads, `settings` on top."""
    return create_app({"redis_url": redis.url, "embedded_redis": False, "data_dir": data_dir, "log_level": "WARNING",
                       "run_deliverer": False, **settings})
