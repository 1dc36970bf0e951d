"""Create Redis clients with short timeouts, so a hung Redis cannot pin every worker.

URLs: redis://[:password@]host:port/db, rediss://... (TLS), unix:///path/to/socket,
and redis+sentinel://[:password@]sentinel1:26379,sentinel2:26379/<master name>[/db],
which asks the Sentinels for the current master and follows failovers.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

import redis
from redis.sentinel import Sentinel

from ..errors import StorageUnavailableError

SENTINEL_SCHEME = "redis+sentinel"

# The exceptions that mean "Redis is not there right now", as opposed to a bug.
UNAVAILABLE = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, redis.exceptions.BusyLoadingError,
               redis.exceptions.ReadOnlyError)  # ReadOnlyError: talking to a replica during a failover


def parse_sentinel_url(url: str) -> dict:
    """Split a redis+sentinel:// URL into sentinels, master name, db and password."""
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)
    credentials, hosts = (netloc[0], netloc[1]) if len(netloc) == 2 else ("", netloc[0])
    password = unquote(credentials.split(":", 1)[1]) if ":" in credentials else (unquote(credentials) or None)
    sentinels = []
    for host in hosts.split(","):
        name, _, port = host.strip().rpartition(":")
        if not name:
            name, port = port, "26379"
        sentinels.append((name.strip("[]"), int(port)))
    path = [p for p in parts.path.split("/") if p]
    if not path:
        raise ValueError("a redis+sentinel:// URL must name the master: redis+sentinel://host:26379/mymaster")
    return {"sentinels": sentinels, "master": path[0], "db": int(path[1]) if len(path) > 1 else 0,
            "password": password}


def connect(url: str, *, timeout: float = 0.5, max_connections: int = 32) -> redis.Redis:
    """Return a pooled client for a redis://, rediss://, unix:// or redis+sentinel:// URL (no I/O happens yet)."""
    options = {"socket_timeout": timeout, "socket_connect_timeout": timeout, "decode_responses": True,
               "max_connections": max_connections, "health_check_interval": 30}
    if urlsplit(url).scheme == SENTINEL_SCHEME:
        conf = parse_sentinel_url(url)
        sentinel = Sentinel(conf["sentinels"], socket_timeout=timeout, socket_connect_timeout=timeout)
        return sentinel.master_for(conf["master"], db=conf["db"], password=conf["password"], **options)
    return redis.Redis.from_url(url, **options)


# The same words in every command line tool.
START_REDIS_HINT = "start the service with `make run` (it runs its own Redis) or set MODERATION_REDIS_URL"


def ping(client: redis.Redis) -> None:
    """Raise StorageUnavailableError unless Redis answers."""
    try:
        client.ping()
    except UNAVAILABLE as exc:
        raise StorageUnavailableError(f"Redis is not reachable ({type(exc).__name__}); {START_REDIS_HINT}.") from exc
