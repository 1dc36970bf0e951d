"""Two service instances (separate gunicorn processes) sharing one real Redis: one system, no conflicts."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid

import pytest

from service.moderation import promotion
from service.storage import tokens

from .conftest import running_service, wait_for
from .test_lifecycle import models  # noqa: F401 - the shared models fixture


def call(method: str, url: str, body=None, token: str | None = None) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else {}
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


@pytest.fixture
def two_instances(redis_server, redis_client, models, tmp_path):  # noqa: F811
    """Two `python -m service serve` processes on different ports, one Redis, one models root."""
    settings = {"MODERATION_REDIS_URL": redis_server.url, "MODERATION_WORKERS": 2,
                "MODERATION_MODELS_ROOT": models["root"], "MODERATION_MODEL_POLL_SECONDS": 1,
                "MODERATION_APPROVE_BELOW": 0, "MODERATION_REJECT_AT": 1}  # everything to review: the queue fills
    with running_service(**settings, MODERATION_DATA_DIR=tmp_path / "a") as a, \
            running_service(**settings, MODERATION_DATA_DIR=tmp_path / "b") as b:
        yield a, b


def test_two_instances_share_one_queue_and_one_model(two_instances, redis_client, models, redis_server):  # noqa: F811
    a, b = two_instances
    awa = tokens.create(redis_client, "awa", "moderator")
    binta = tokens.create(redis_client, "binta", "moderator")
    ids = []
    for n in range(20):
        status, body = call("POST", f"{(a, b)[n % 2]}/v1/comments",
                            {"name": "L", "email": f"{uuid.uuid4().hex[:8]}@x.sn", "text": f"Commentaire {n} {uuid.uuid4()}"})
        assert status == 201 and body["status"] == "pending"
        ids.append(body["id"])
    queue_a = call("GET", f"{a}/v1/review/queue?limit=100", token=awa)[1]
    queue_b = call("GET", f"{b}/v1/review/queue?limit=100", token=binta)[1]
    assert {i["id"] for i in queue_a["items"]} == {i["id"] for i in queue_b["items"]} == set(ids)
    claimed_a = {c["id"] for c in call("POST", f"{a}/v1/review/claim", {"limit": 10}, token=awa)[1]["claimed"]}
    claimed_b = {c["id"] for c in call("POST", f"{b}/v1/review/claim", {"limit": 15}, token=binta)[1]["claimed"]}
    assert len(claimed_a) == 10 and len(claimed_b) == 10 and not claimed_a & claimed_b
    one = next(iter(claimed_a))
    assert call("POST", f"{b}/v1/review/{one}/decision", {"decision": "reject"}, token=binta)[0] == 409
    assert call("POST", f"{b}/v1/review/{one}/decision", {"decision": "reject"}, token=awa)[0] == 200
    assert call("GET", f"{a}/v1/comments/{one}")[1]["status"] == "rejected"
    record = promotion.promote(redis_client, models["candidate"], "test", models["root"])
    deadline = time.monotonic() + 15
    while not all(json.loads(wait_for(f"{base}/readyz"))["model_version"] == record["version"]
                  for base in (a, b) for _ in range(4)):
        assert time.monotonic() < deadline, "the promotion reaches both instances"
        time.sleep(0.2)
