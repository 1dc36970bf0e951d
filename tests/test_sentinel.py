"""High availability: the service reaches Redis through Sentinel and follows a failover."""

from __future__ import annotations

import subprocess
import time

import pytest
import redis

from service.app import create_app
from service.config import Settings
from service.storage.client import parse_sentinel_url
from service.storage.server import RedisServer, find_redis_server

from .conftest import free_port


@pytest.mark.parametrize(("url", "expected"), [
    ("redis+sentinel://s1:26379,s2:26380/mymaster", {"sentinels": [("s1", 26379), ("s2", 26380)], "master": "mymaster",
                                                    "db": 0, "password": None}),
    ("redis+sentinel://:pw@s1/main/2", {"sentinels": [("s1", 26379)], "master": "main", "db": 2, "password": "pw"}),
])
def test_sentinel_urls_are_parsed(url, expected):
    assert parse_sentinel_url(url) == expected


def test_sentinel_url_needs_a_master_name():
    with pytest.raises(ValueError, match="must name the master"):
        parse_sentinel_url("redis+sentinel://s1:26379")


def test_sentinel_password_is_masked_in_logs():
    masked = Settings.from_env({"MODERATION_REDIS_URL": "redis+sentinel://:s3cret@s1:26379,s2:26379/mymaster"}).masked()
    assert masked["redis_url"] == "redis+sentinel://:***@s1:26379,s2:26379/mymaster"


def wait_until(condition, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while True:
        try:
            if condition():
                return
        except redis.exceptions.RedisError:
            pass
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_service_follows_a_sentinel_failover(tmp_path, config):
    binary = find_redis_server()
    master = RedisServer(tmp_path / "master", port=free_port(), persistent=False).start()
    replica_port, sentinel_port = free_port(), free_port()
    (tmp_path / "replica").mkdir()
    replica = subprocess.Popen([binary, "--port", str(replica_port), "--bind", "127.0.0.1", "--save", "",
                                "--dir", str(tmp_path / "replica"), "--replicaof", "127.0.0.1", str(master.port)],
                               stdout=subprocess.DEVNULL)
    conf = tmp_path / "sentinel.conf"
    conf.write_text(f"port {sentinel_port}\nbind 127.0.0.1\ndir {tmp_path}\n"
                    f"sentinel monitor mymaster 127.0.0.1 {master.port} 1\n"
                    "sentinel down-after-milliseconds mymaster 500\nsentinel failover-timeout mymaster 3000\n")
    sentinel = subprocess.Popen([binary, str(conf), "--sentinel"], stdout=subprocess.DEVNULL)
    try:
        sentinel_client = redis.Redis(port=sentinel_port, decode_responses=True)
        replica_client = redis.Redis(port=replica_port, decode_responses=True)
        wait_until(lambda: replica_client.info("replication")["master_link_status"] == "up")
        wait_until(lambda: sentinel_client.sentinel_master("mymaster")["num-slaves"] >= 1)
        app = create_app({**config, "redis_url": f"redis+sentinel://127.0.0.1:{sentinel_port}/mymaster",
                          "redis_timeout": 0.5})
        client = app.test_client()
        before = client.post("/v1/comments", json={"name": "A", "email": "a@b.fr", "text": "Avant la bascule"})
        assert before.status_code == 201
        comment_id = before.get_json()["id"]
        wait_until(lambda: replica_client.exists(f"mod:comment:{comment_id}"))
        master.kill()
        wait_until(lambda: int(sentinel_client.sentinel_get_master_addr_by_name("mymaster")[1]) == replica_port)
        statuses = []
        wait_until(lambda: statuses.append(client.post("/v1/comments", json={
            "name": "B", "email": "b@b.fr", "text": f"Après la bascule {len(statuses)}"}).status_code) or
            statuses[-1] == 201)
        assert set(statuses) <= {201, 503}
        assert client.get(f"/v1/comments/{comment_id}").status_code == 200
    finally:
        for process in (sentinel, replica):
            process.terminate()
            process.wait(10)
        master.stop()
