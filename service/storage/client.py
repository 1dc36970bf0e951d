"""Create Redis clients with short timeouts, so a hung Redis cannot pin every worker."""

from __future__ import annotations

import redis

from model_training.connection import connect as shared_connect

from ..errors import StorageUnavailableError

# The exceptions that mean "Redis is not there right now", as opposed to a bug.
UNAVAILABLE = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, redis.exceptions.BusyLoadingError,
               redis.exceptions.ReadOnlyError)  # ReadOnlyError: talking to a replica during a failover


def connect(url: str, *, timeout: float = 0.5, max_connections: int = 32) -> redis.Redis:
    """Return a pooled client for a redis://, rediss://, unix:// or redis+sentinel:// URL (no I/O happens yet)."""
    return shared_connect(url, timeout=timeout, max_connections=max_connections, health_check_interval=30)


# The same words in every command line tool (model_training's CLI says them too).
START_REDIS_HINT = "start the service with `make run` (it runs its own Redis) or set MODERATION_REDIS_URL"


def ping(client: redis.Redis) -> None:
    """Raise StorageUnavailableError unless Redis answers."""
    try:
        client.ping()
    except UNAVAILABLE as exc:
        raise StorageUnavailableError(f"Redis is not reachable ({type(exc).__name__}); {START_REDIS_HINT}.") from exc
