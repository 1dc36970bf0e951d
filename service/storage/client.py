"""Create Redis clients with short timeouts, so a hung Redis cannot pin every worker."""

from __future__ import annotations

import redis

from ..errors import StorageUnavailableError

# The exceptions that mean "Redis is not there right now", as opposed to a bug.
UNAVAILABLE = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, redis.exceptions.BusyLoadingError)


def connect(url: str, *, timeout: float = 0.5, max_connections: int = 32) -> redis.Redis:
    """Return a pooled client for a redis://, rediss:// or unix:// URL (no I/O happens yet)."""
    return redis.Redis.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        max_connections=max_connections,
        health_check_interval=30,
        decode_responses=True,
    )


def ping(client: redis.Redis) -> None:
    """Raise StorageUnavailableError unless Redis answers."""
    try:
        client.ping()
    except UNAVAILABLE as exc:
        raise StorageUnavailableError(f"Redis is not reachable ({type(exc).__name__}).") from exc
