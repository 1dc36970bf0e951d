"""Redis failures with real processes: SIGKILL during a stream of submissions loses nothing that was answered 201."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
import uuid

from redis import Redis

from service.storage.server import RedisServer

from .conftest import free_port, running_service


def submit(base: str) -> tuple[int, str | None, str | None]:
    n = uuid.uuid4().hex[:10]
    body = json.dumps({"name": "Lecteur", "email": f"{n}@exemple.sn", "text": f"Commentaire numéro {n}"}).encode()
    request = urllib.request.Request(f"{base}/v1/comments", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())["id"], None
    except urllib.error.HTTPError as exc:
        return exc.code, None, exc.headers.get("Retry-After")


def test_sigkill_of_redis_loses_no_acknowledged_comment_and_the_service_recovers(tmp_path):
    redis_port = free_port()
    redis = RedisServer(tmp_path / "redis", port=redis_port, fsync="always").start()
    results, stop = [], threading.Event()
    with running_service(MODERATION_REDIS_URL=redis.url, MODERATION_WORKERS=2, MODERATION_DATA_DIR=tmp_path,
                         MODERATION_REDIS_TIMEOUT=0.3) as base:

        def stream():
            while not stop.is_set():
                results.append(submit(base))

        threads = [threading.Thread(target=stream) for _ in range(3)]
        for t in threads:
            t.start()
        try:
            time.sleep(1.0)
            redis.kill()  # SIGKILL: no chance to flush anything
            time.sleep(1.0)
            outage = results[-20:]
            try:
                urllib.request.urlopen(f"{base}/readyz", timeout=5)
                readyz_status = 200
            except urllib.error.HTTPError as exc:
                readyz_status = exc.code
            redis = RedisServer(tmp_path / "redis", port=redis_port, fsync="always").start()
            time.sleep(1.5)
        finally:
            stop.set()
            for t in threads:
                t.join()
        after = [submit(base) for _ in range(5)]
    statuses = {status for status, _, _ in results}
    assert statuses <= {201, 503}, statuses  # never a 500, never anything else
    assert readyz_status == 503
    unavailable = [r for r in results if r[0] == 503]
    assert unavailable and all(retry == "5" for _, _, retry in unavailable)
    assert any(status == 503 for status, _, _ in outage)
    assert [status for status, _, _ in after] == [201] * 5  # recovered by itself
    accepted = [comment_id for status, comment_id, _ in results + after if status == 201]
    assert len(accepted) > 20
    client = Redis.from_url(redis.url, decode_responses=True)
    try:
        missing = [i for i in accepted if not client.exists(f"mod:comment:{i}")]
    finally:
        client.close()
        redis.stop()
    assert missing == []
