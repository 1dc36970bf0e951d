"""Webhook endpoints, the queue of deliveries and the delivery log, in Redis.

Events enter as entries of the outbox stream (written by the decision
script). `fan_out` turns each into one delivery per endpoint and
acknowledges it in the same transaction; deliveries are then claimed with a
lease, so every event reaches every endpoint at least once even if an
instance dies half-way.
"""

from __future__ import annotations

import json
import os
import secrets
import socket

import redis

from ..clock import iso
from ..errors import NotFoundError
from . import keys, scripts

LOG_LENGTH = 1000


def _new_secret() -> dict:
    return {"id": secrets.token_hex(4), "secret": "whsec_" + secrets.token_urlsafe(32), "created_at": iso()}


def public(endpoint: dict) -> dict:
    """An endpoint without its secrets (their ids and dates only)."""
    return {"id": endpoint["id"], "url": endpoint["url"], "created_at": endpoint["created_at"],
            "secrets": [{"id": s["id"], "created_at": s["created_at"]} for s in endpoint["secrets"]]}


def add_endpoint(client, url: str) -> tuple[dict, str]:
    """Register an endpoint; return it and its first secret (shown once)."""
    secret = _new_secret()
    endpoint = {"id": secrets.token_hex(6), "url": url, "secrets": [secret], "created_at": iso()}
    client.hset(keys.webhook_endpoints(), endpoint["id"], json.dumps(endpoint))
    return endpoint, secret["secret"]


def endpoints(client) -> list[dict]:
    """Every endpoint, with secrets."""
    return [json.loads(raw) for raw in client.hvals(keys.webhook_endpoints())]


def get_endpoint(client, endpoint_id: str) -> dict:
    """One endpoint with its secrets; NotFoundError if there is none."""
    raw = client.hget(keys.webhook_endpoints(), endpoint_id)
    if raw is None:
        raise NotFoundError(f"There is no webhook endpoint {endpoint_id!r}.")
    return json.loads(raw)


def remove_endpoint(client, endpoint_id: str) -> None:
    """Delete an endpoint; its pending deliveries are dropped when they come due."""
    if not client.hdel(keys.webhook_endpoints(), endpoint_id):
        raise NotFoundError(f"There is no webhook endpoint {endpoint_id!r}.")


def add_secret(client, endpoint_id: str) -> tuple[dict, str]:
    """Start a key rotation: add a secret (every delivery is signed with each); return it once."""
    endpoint = get_endpoint(client, endpoint_id)
    secret = _new_secret()
    endpoint["secrets"].append(secret)
    client.hset(keys.webhook_endpoints(), endpoint_id, json.dumps(endpoint))
    return endpoint, secret["secret"]


def remove_secret(client, endpoint_id: str, secret_id: str) -> dict:
    """Finish a key rotation: drop an old secret (the last one cannot be removed)."""
    endpoint = get_endpoint(client, endpoint_id)
    kept = [s for s in endpoint["secrets"] if s["id"] != secret_id]
    if len(kept) == len(endpoint["secrets"]):
        raise NotFoundError(f"Endpoint {endpoint_id} has no secret {secret_id!r}.")
    if not kept:
        raise ValueError("an endpoint keeps at least one secret")
    endpoint["secrets"] = kept
    client.hset(keys.webhook_endpoints(), endpoint_id, json.dumps(endpoint))
    return endpoint


def ensure_group(client) -> None:
    """Create the outbox stream and its consumer group if they do not exist."""
    try:
        client.xgroup_create(keys.webhook_outbox(), keys.WEBHOOK_GROUP, id="0", mkstream=True)
    except redis.exceptions.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


def consumer_name() -> str:
    """This process's name in the consumer group."""
    return f"{socket.gethostname()}:{os.getpid()}"


def fan_out(client, now_ms: int, *, block_ms: int = 0, count: int = 50, idle_ms: int = 60_000) -> int:
    """Move outbox events into deliveries (one per endpoint), acknowledging them atomically; return how many events.

    Events another consumer read but never acknowledged (it died) are taken
    over once idle for `idle_ms`.
    """
    consumer = consumer_name()
    # Redis 6.2 answers [next id, entries], Redis 7 adds the ids of deleted entries: take the entries by position.
    stale = client.xautoclaim(keys.webhook_outbox(), keys.WEBHOOK_GROUP, consumer, idle_ms, "0-0", count=count)[1]
    fresh = client.xreadgroup(keys.WEBHOOK_GROUP, consumer, {keys.webhook_outbox(): ">"}, count=count,
                              block=block_ms or None)
    entries = list(stale) + [e for _, batch in fresh for e in batch]
    if not entries:
        return 0
    targets = [e["id"] for e in endpoints(client)]
    pipe = client.pipeline(transaction=True)
    for entry_id, fields in entries:
        if not fields:
            continue
        event = {"id": entry_id, "type": fields["type"], "data": json.loads(fields["data"])}
        for endpoint_id in targets:
            pipe.zadd(keys.webhook_deliveries(), {json.dumps({"event": event, "endpoint": endpoint_id, "attempt": 0}): now_ms})
        pipe.xack(keys.webhook_outbox(), keys.WEBHOOK_GROUP, entry_id)
    pipe.execute()
    return len(entries)


class Deliveries:
    """Claim, finish and reschedule deliveries."""

    def __init__(self, client):
        self.client = client
        self._claim = client.register_script(scripts.CLAIM_DELIVERIES)

    def claim(self, now_ms: int, lease_ms: int = 60_000, limit: int = 20) -> list[tuple[str, dict]]:
        """Return due deliveries as (member, delivery), leased to the caller."""
        members = self._claim(keys=[keys.webhook_deliveries()], args=[now_ms, lease_ms, limit])
        return [(m, json.loads(m)) for m in members]

    def done(self, member: str, log_entry: dict) -> None:
        """Forget a delivered (or dropped) delivery and log it."""
        pipe = self.client.pipeline(transaction=True)
        pipe.zrem(keys.webhook_deliveries(), member)
        self._log(pipe, log_entry)
        pipe.execute()

    def retry(self, member: str, delivery: dict, due_ms: int, log_entry: dict) -> None:
        """Schedule the next attempt of a failed delivery and log the failure."""
        pipe = self.client.pipeline(transaction=True)
        pipe.zrem(keys.webhook_deliveries(), member)
        pipe.zadd(keys.webhook_deliveries(), {json.dumps({**delivery, "attempt": delivery["attempt"] + 1}): due_ms})
        self._log(pipe, log_entry)
        pipe.execute()

    def give_up(self, member: str, delivery: dict, log_entry: dict) -> None:
        """Move a delivery that failed its last attempt to the dead list and log it."""
        pipe = self.client.pipeline(transaction=True)
        pipe.zrem(keys.webhook_deliveries(), member)
        pipe.lpush(keys.webhook_dead(), json.dumps({**delivery, "failed_at": iso()}))
        pipe.ltrim(keys.webhook_dead(), 0, LOG_LENGTH - 1)
        self._log(pipe, log_entry)
        pipe.execute()

    @staticmethod
    def _log(pipe, entry: dict) -> None:
        pipe.lpush(keys.webhook_log(), json.dumps({"at": iso(), **entry}))
        pipe.ltrim(keys.webhook_log(), 0, LOG_LENGTH - 1)


def delivery_log(client, limit: int = 100) -> list[dict]:
    """The latest delivery attempts, newest first."""
    return [json.loads(raw) for raw in client.lrange(keys.webhook_log(), 0, limit - 1)]
