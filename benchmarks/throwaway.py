"""A throw-away redis-server for the benchmarks that talk to Redis directly."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from service.storage.server import RedisServer, free_port


@contextmanager
def throwaway_redis() -> Iterator[tuple[RedisServer, Path]]:
    """Start a redis-server without persistence on a free local port; yield it and its directory, then stop it."""
    with tempfile.TemporaryDirectory() as tmp:
        server = RedisServer(Path(tmp), port=free_port(), persistent=False).start()
        try:
            yield server, Path(tmp)
        finally:
            server.stop()
