"""Open a Redis client from any URL the service accepts, Sentinel included (shared with the service).

redis://[:password@]host:port/db, rediss://... (TLS), unix:///path/to/socket, and
redis+sentinel://[:password@]sentinel1:26379,sentinel2:26379/<master name>[/db]
which asks the Sentinels for the current master and follows failovers.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

import redis
from redis.sentinel import Sentinel

SENTINEL_SCHEME = "redis+sentinel"


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


def connect(url: str, *, timeout: float, decode_responses: bool = True, **kwargs) -> redis.Redis:
    """A client for the URL; no I/O happens until the first command."""
    if urlsplit(url).scheme == SENTINEL_SCHEME:
        conf = parse_sentinel_url(url)
        sentinel = Sentinel(conf["sentinels"], socket_timeout=timeout, socket_connect_timeout=timeout)
        return sentinel.master_for(conf["master"], db=conf["db"], password=conf["password"], socket_timeout=timeout,
                                   socket_connect_timeout=timeout, decode_responses=decode_responses, **kwargs)
    return redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout,
                                decode_responses=decode_responses, **kwargs)
