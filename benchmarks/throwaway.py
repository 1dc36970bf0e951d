"""A throw-away redis-server for the benchmarks that talk to Redis directly."""

from __future__ import annotations

import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from service.storage.server import RedisServer


@contextmanager
def throwaway_redis() -> Iterator[tuple[RedisServer, Path]]:
    """Start a redis-server without persistence on a free local port; yield it and its directory, then stop it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with tempfile.TemporaryDirectory() as tmp:
        server = RedisServer(Path(tmp), port=port, persistent=False).start()
        try:
            yield server, Path(tmp)
        finally:
            server.stop()
