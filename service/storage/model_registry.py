"""Which model every instance serves: the active and shadow records in Redis, and the history for rollback.

Each instance watches these records (moderation.model_manager.ModelManager) and
loads `<models root>/<version>` from its own disk after checking the sha256
recorded here. Redis holds no pickle: a compromised Redis cannot make an
instance load code that is not already in its configured models directory.
"""

from __future__ import annotations

import json

from . import keys

HISTORY_KEPT = 50


def read(client, key: str | None = None) -> dict | None:
    """Return the active (or, with keys.shadow_model(), the shadow) record, or None."""
    return client.hgetall(key or keys.active_model()) or None


def shadow_version(client) -> str | None:
    """The version of the current shadow model, or None."""
    record = read(client, keys.shadow_model())
    return record["version"] if record else None


def announce(client, key: str, record: dict | None, *, previous: dict | None = None) -> None:
    """Replace the active or shadow record (keeping `previous` for rollback) and tell every instance, atomically."""
    pipe = client.pipeline(transaction=True)
    if previous:
        pipe.lpush(keys.model_history(), json.dumps(previous))
        pipe.ltrim(keys.model_history(), 0, HISTORY_KEPT - 1)
    pipe.delete(key)
    if record:
        pipe.hset(key, mapping=record)
    role = "active" if key == keys.active_model() else "shadow"
    pipe.publish(keys.model_channel(), json.dumps({role: record["version"] if record else None}))
    pipe.execute()


def history(client) -> list[dict]:
    """The earlier active records, newest first (what rollback goes back to)."""
    return [json.loads(raw) for raw in client.lrange(keys.model_history(), 0, -1)]


def record_retrain_run(client, report: dict) -> None:
    """Keep a retraining run's report (the newest HISTORY_KEPT)."""
    pipe = client.pipeline(transaction=True)
    pipe.lpush(keys.retrain_runs(), json.dumps(report, ensure_ascii=False))
    pipe.ltrim(keys.retrain_runs(), 0, HISTORY_KEPT - 1)
    pipe.execute()


def retrain_runs(client) -> list[dict]:
    """The recorded retraining runs, newest first."""
    return [json.loads(raw) for raw in client.lrange(keys.retrain_runs(), 0, -1)]


def pop_previous(client) -> dict | None:
    """Take the most recent earlier active record off the history, or None when there is none."""
    raw = client.lpop(keys.model_history())
    return json.loads(raw) if raw is not None else None
