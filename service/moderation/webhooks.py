"""Deliver `comment.decided` events to the website: signed, outside the request path, retried with backoff.

Signature: `X-Moderation-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>...]`
where each v1 is HMAC-SHA256(secret, "<t>.<raw body>") for one of the
endpoint's secrets (several during a key rotation).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request

import redis

from ..clock import now_ms
from ..errors import NotFoundError
from ..storage import webhooks
from ..storage.client import UNAVAILABLE

log = logging.getLogger("service.webhooks")
USER_AGENT = "comment-moderation-webhooks/1"


def signature_header(secrets: list[str], body: bytes, timestamp: int) -> str:
    """Build the X-Moderation-Signature value for a body."""
    signed = f"{timestamp}.".encode() + body
    parts = [f"t={timestamp}"] + [f"v1={hmac.new(s.encode(), signed, hashlib.sha256).hexdigest()}" for s in secrets]
    return ",".join(parts)


def backoff_seconds(attempt: int, base: float, cap: float = 3600.0) -> float:
    """Wait before the attempt after `attempt` failures: base, 2 base, 4 base... up to cap."""
    return min(cap, base * (2 ** attempt))


class Deliverer:
    """Fan events out to endpoints and deliver what is due; `run_once` is one pass, `start` runs it forever."""

    def __init__(self, client, *, timeout: float = 5.0, max_attempts: int = 10, backoff_base: float = 2.0,
                 lease_ms: int = 60_000, maintenance=None, maintenance_every: float = 600.0, on_result=None):
        self.client = client
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.lease_ms = lease_ms
        self.deliveries = webhooks.Deliveries(client)
        self.maintenance = maintenance
        self.maintenance_every = maintenance_every
        self.on_result = on_result or (lambda result: None)
        self._last_maintenance = 0.0

    def post(self, url: str, body: bytes, headers: dict) -> int:
        """POST the body; return the HTTP status (0 when the endpoint could not be reached)."""
        request = urllib.request.Request(url, data=body, method="POST", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code
        except (urllib.error.URLError, OSError, ValueError):
            return 0

    def deliver(self, member: str, delivery: dict) -> None:
        """Attempt one delivery and record the outcome."""
        event, endpoint_id, attempt = delivery["event"], delivery["endpoint"], delivery["attempt"]
        entry = {"event": event["id"], "type": event["type"], "endpoint": endpoint_id, "attempt": attempt + 1}
        try:
            endpoint = webhooks.get_endpoint(self.client, endpoint_id)
        except NotFoundError:  # the endpoint was removed: nothing to deliver
            self.deliveries.done(member, {**entry, "result": "endpoint removed"})
            return
        body = json.dumps({"id": event["id"], "type": event["type"], "data": event["data"]}).encode()
        timestamp = int(time.time())
        status = self.post(endpoint["url"], body, {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Moderation-Event": event["type"],
            "X-Moderation-Delivery": event["id"],
            "X-Moderation-Signature": signature_header([s["secret"] for s in endpoint["secrets"]], body, timestamp),
        })
        entry.update(url=endpoint["url"], status=status)
        self.on_result("delivered" if 200 <= status < 300 else "failed")
        if 200 <= status < 300:
            self.deliveries.done(member, {**entry, "result": "delivered"})
        elif attempt + 1 >= self.max_attempts:
            log.warning("webhook %s to endpoint %s failed %d times; giving up", event["id"], endpoint_id, attempt + 1)
            self.deliveries.give_up(member, delivery, {**entry, "result": "gave up"})
        else:
            wait = backoff_seconds(attempt, self.backoff_base)
            due = now_ms() + int(wait * 1000)
            self.deliveries.retry(member, delivery, due, {**entry, "result": "retry", "retry_in_seconds": wait})

    def run_once(self, *, block_ms: int = 0) -> int:
        """Fan out new events and attempt every due delivery; return how many deliveries were attempted."""
        webhooks.fan_out(self.client, now_ms(), block_ms=block_ms)
        due = self.deliveries.claim(now_ms(), self.lease_ms)
        for member, delivery in due:
            self.deliver(member, delivery)
        if self.maintenance and time.monotonic() - self._last_maintenance >= self.maintenance_every:
            self._last_maintenance = time.monotonic()
            self.maintenance()
        return len(due)

    def run_forever(self) -> None:
        """Loop until the process ends; Redis outages only pause it."""
        while True:
            try:
                webhooks.ensure_group(self.client)
                while True:
                    if not self.run_once(block_ms=500):
                        time.sleep(0.2)
            except UNAVAILABLE:
                time.sleep(2)
            except redis.exceptions.ResponseError as exc:
                if "NOGROUP" not in str(exc):
                    log.exception("webhook deliverer failed; restarting it")
                time.sleep(0.5)  # the outbox was deleted (e.g. FLUSHDB); ensure_group recreates it
            except Exception:  # the deliverer must never die; log and start over
                log.exception("webhook deliverer failed; restarting it")
                time.sleep(2)
