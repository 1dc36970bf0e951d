"""Webhooks: signed comment.decided events, retried with backoff against a local receiver, never lost."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from service.moderation.webhooks import Deliverer, backoff_seconds
from service.storage import keys, webhooks

from .test_api_review import make_comment


def website_verifies(secret: str, header: str, body: bytes, tolerance: int = 300) -> bool:
    """How the website checks a delivery: any v1 matches HMAC-SHA256(secret, "t.body") and t is recent."""
    parts = [p.split("=", 1) for p in header.split(",")]
    timestamp = int(next(v for k, v in parts if k == "t"))
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    fresh = abs(time.time() - timestamp) <= tolerance
    return fresh and any(k == "v1" and hmac.compare_digest(v, expected) for k, v in parts)


class Receiver:
    """A local HTTP endpoint that answers 500 to the first `failures` requests, then 200."""

    def __init__(self, failures: int = 0):
        self.failures = failures
        self.requests: list[tuple[dict, bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                failing = len(receiver.requests) <= receiver.failures
                self.send_response(500 if failing else 200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/moderation"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def drain(deliverer: Deliverer, until, timeout: float = 10.0) -> None:
    """Run the deliverer until a condition holds."""
    deadline = time.monotonic() + timeout
    while not until():
        assert time.monotonic() < deadline, "deliveries did not complete in time"
        deliverer.run_once()
        time.sleep(0.02)


def setup_endpoint(client, admin, url) -> tuple[str, str]:
    response = client.post("/v1/admin/webhooks", json={"url": url}, headers=admin)
    assert response.status_code == 201
    body = response.get_json()
    return body["id"], body["secret"]


def test_decisions_are_delivered_signed_with_the_verdict(client, admin, moderator, redis_client, receiver):
    endpoint_id, secret = setup_endpoint(client, admin, receiver.url)
    webhooks.ensure_group(redis_client)
    pending, rejected = make_comment(redis_client, 0.5), make_comment(redis_client, 0.97, status="rejected")
    client.post(f"/v1/review/{pending}/decision", json={"decision": "approve"}, headers=moderator)
    client.post(f"/v1/comments/{rejected}/decision", json={"decision": "approve"}, headers=moderator)
    deliverer = Deliverer(redis_client, backoff_base=0.01)
    drain(deliverer, lambda: len(receiver.requests) == 2)
    events = []
    for headers, body in receiver.requests:
        assert website_verifies(secret, headers["X-Moderation-Signature"], body)
        assert not website_verifies("whsec_wrong", headers["X-Moderation-Signature"], body)
        assert headers["X-Moderation-Event"] == "comment.decided"
        events.append(json.loads(body))
    assert [(e["type"], e["data"]["id"], e["data"]["status"], e["data"]["decided_by"], e["data"]["override"])
            for e in events] == [("comment.decided", pending, "approved", "awa", False),
                                 ("comment.decided", rejected, "approved", "awa", True)]
    assert all(e["data"]["decided_at"] for e in events)
    log = client.get("/v1/admin/webhooks", headers=admin).get_json()
    assert [entry["result"] for entry in log["log"]] == ["delivered", "delivered"]
    assert log["pending_deliveries"] == 0


def test_a_failing_endpoint_is_retried_with_backoff_until_it_answers(client, admin, moderator, redis_client):
    receiver = Receiver(failures=2)
    try:
        _, secret = setup_endpoint(client, admin, receiver.url)
        webhooks.ensure_group(redis_client)
        comment_id = make_comment(redis_client, 0.5)
        client.post(f"/v1/review/{comment_id}/decision", json={"decision": "reject"}, headers=moderator)
        drain(Deliverer(redis_client, backoff_base=0.05), lambda: len(receiver.requests) == 3)
    finally:
        receiver.close()
    bodies = {body for _, body in receiver.requests}
    assert len(bodies) == 1  # the same event each time
    log = [json.loads(e) for e in redis_client.lrange(keys.webhook_log(), 0, -1)][::-1]
    assert [(e["attempt"], e["result"], e["status"]) for e in log] == [(1, "retry", 500), (2, "retry", 500),
                                                                       (3, "delivered", 200)]
    assert [e["retry_in_seconds"] for e in log[:2]] == [0.05, 0.1]


def test_backoff_doubles_up_to_a_cap():
    assert [backoff_seconds(a, 2.0) for a in range(5)] == [2.0, 4.0, 8.0, 16.0, 32.0]
    assert backoff_seconds(30, 2.0) == 3600.0


def test_unreachable_endpoint_is_given_up_after_the_last_attempt(client, admin, moderator, redis_client):
    setup_endpoint(client, admin, "http://127.0.0.1:9/unreachable")
    webhooks.ensure_group(redis_client)
    comment_id = make_comment(redis_client, 0.5)
    client.post(f"/v1/review/{comment_id}/decision", json={"decision": "reject"}, headers=moderator)
    deliverer = Deliverer(redis_client, backoff_base=0.01, max_attempts=3, timeout=0.5)
    drain(deliverer, lambda: redis_client.llen(keys.webhook_dead()) == 1)
    assert redis_client.zcard(keys.webhook_deliveries()) == 0
    assert client.get("/v1/admin/webhooks", headers=admin).get_json()["given_up"] == 1


def test_events_wait_in_redis_while_no_instance_delivers(client, admin, moderator, redis_client, receiver):
    setup_endpoint(client, admin, receiver.url)
    webhooks.ensure_group(redis_client)
    ids = [make_comment(redis_client, 0.5) for _ in range(3)]
    for comment_id in ids:
        client.post(f"/v1/review/{comment_id}/decision", json={"decision": "approve"}, headers=moderator)
    assert receiver.requests == [] and redis_client.xlen(keys.webhook_outbox()) == 3
    drain(Deliverer(redis_client), lambda: len(receiver.requests) == 3)  # a new process starts delivering
    assert sorted(json.loads(b)["data"]["id"] for _, b in receiver.requests) == sorted(ids)


def test_a_delivery_claimed_by_an_instance_that_died_is_delivered_after_its_lease(client, admin, moderator,
                                                                                 redis_client, receiver):
    setup_endpoint(client, admin, receiver.url)
    webhooks.ensure_group(redis_client)
    comment_id = make_comment(redis_client, 0.5)
    client.post(f"/v1/review/{comment_id}/decision", json={"decision": "approve"}, headers=moderator)
    dying = Deliverer(redis_client, lease_ms=300)
    webhooks.fan_out(redis_client, int(time.time() * 1000))
    assert len(dying.deliveries.claim(int(time.time() * 1000), lease_ms=300)) == 1  # claimed, then the process dies
    survivor = Deliverer(redis_client, lease_ms=300)
    assert survivor.run_once() == 0  # still leased to the dead instance
    time.sleep(0.35)
    drain(survivor, lambda: len(receiver.requests) == 1)


def test_key_rotation_signs_with_every_secret_until_the_old_one_is_removed(client, admin, moderator, redis_client,
                                                                           receiver):
    endpoint_id, old = setup_endpoint(client, admin, receiver.url)
    rotated = client.post(f"/v1/admin/webhooks/{endpoint_id}/secrets", headers=admin)
    assert rotated.status_code == 201
    new = rotated.get_json()["secret"]
    old_id = rotated.get_json()["secrets"][0]["id"]
    webhooks.ensure_group(redis_client)
    deliverer = Deliverer(redis_client)
    first = make_comment(redis_client, 0.5)
    client.post(f"/v1/review/{first}/decision", json={"decision": "approve"}, headers=moderator)
    drain(deliverer, lambda: len(receiver.requests) == 1)
    headers, body = receiver.requests[0]
    assert headers["X-Moderation-Signature"].count("v1=") == 2
    assert website_verifies(old, headers["X-Moderation-Signature"], body)
    assert website_verifies(new, headers["X-Moderation-Signature"], body)
    assert client.delete(f"/v1/admin/webhooks/{endpoint_id}/secrets/{old_id}", headers=admin).status_code == 200
    second = make_comment(redis_client, 0.5)
    client.post(f"/v1/review/{second}/decision", json={"decision": "approve"}, headers=moderator)
    drain(deliverer, lambda: len(receiver.requests) == 2)
    headers, body = receiver.requests[1]
    assert not website_verifies(old, headers["X-Moderation-Signature"], body)
    assert website_verifies(new, headers["X-Moderation-Signature"], body)
    last_id = client.get("/v1/admin/webhooks", headers=admin).get_json()["endpoints"][0]["secrets"][0]["id"]
    assert client.delete(f"/v1/admin/webhooks/{endpoint_id}/secrets/{last_id}", headers=admin).status_code == 409


def test_webhook_admin_endpoints_validate_and_hide_secrets(client, admin, moderator):
    assert client.post("/v1/admin/webhooks", json={"url": "ftp://x"}, headers=admin).status_code == 422
    assert client.post("/v1/admin/webhooks", json={"url": "https://x.example.com"}, headers=moderator).status_code == 403
    endpoint_id, secret = setup_endpoint(client, admin, "https://site.example.sn/hooks")
    listing = client.get("/v1/admin/webhooks", headers=admin).get_data(as_text=True)
    assert secret not in listing and "https://site.example.sn/hooks" in listing
    assert client.delete(f"/v1/admin/webhooks/{endpoint_id}", headers=admin).status_code == 204
    assert client.delete(f"/v1/admin/webhooks/{endpoint_id}", headers=admin).status_code == 404
