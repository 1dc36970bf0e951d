"""Store and read comment records; the initial write and enqueue are one atomic script."""

from __future__ import annotations

import json
import re
import secrets

from .. import clock
from . import keys, scripts

COMMENT_ID_RE = re.compile(r"^[0-9a-f]{24}\Z")


def is_comment_id(value) -> bool:
    """Say whether a value has the form of an id new_comment_id makes (so no key of another type can be named)."""
    return isinstance(value, str) and COMMENT_ID_RE.match(value) is not None


def new_comment_id(now_ms: int | None = None) -> str:
    """Return a 24-hex-digit id that sorts by creation time: 12 digits of ms, 12 random."""
    at_ms = clock.now_ms() if now_ms is None else now_ms
    return f"{at_ms:012x}{secrets.token_hex(6)}"


def created_ms(comment_id: str) -> int:
    """Return the creation time (ms since the epoch) encoded in an id."""
    return int(comment_id[:12], 16)


def review_priority(score: float) -> float:
    """Rank pending comments: those the model is least sure about come first."""
    return round(abs(score - 0.5), 6)


def store_request(record: dict, event: dict, *, keep_rejected_ms: int = 0,
                  shadow: dict | None = None) -> tuple[list[str], str]:
    """The keys and payload of scripts.STORE_FUNCTION for a new comment.

    `record` values that are not strings are stored as JSON. A rejected
    comment expires after `keep_rejected_ms` (0: never). `shadow`, the shadow
    model's verdict, is also filed under that model's version for its report.
    """
    comment_id = record["id"]
    fields = []
    for name, value in record.items():
        fields += [name, value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)]
    payload = {"id": comment_id, "fields": fields, "event": json.dumps(event, ensure_ascii=False)}
    if record["status"] == "pending":
        payload["priority"] = str(review_priority(record["score"]))
    if shadow:
        payload["shadow"] = json.dumps(shadow)
    if record["status"] == "rejected" and keep_rejected_ms:
        payload["expire_ms"] = str(keep_rejected_ms)
    # The script takes a fixed number of keys; without a shadow verdict this one is never written.
    shadow_key = keys.shadow_results(shadow["version"]) if shadow else keys.shadow_results("-")
    store_keys = [keys.comment(comment_id), keys.history(comment_id), keys.by_status(record["status"]),
                  keys.review_queue(), shadow_key]
    return store_keys, json.dumps(payload, ensure_ascii=False)


def save_new(client, record: dict, event: dict, *, keep_rejected_ms: int = 0, shadow: dict | None = None) -> None:
    """Store a new comment, its first history event, its status index and (if pending) its queue entry.

    One atomic script: either all of it is stored or none of it. The
    arguments are those of `store_request`.
    """
    store_keys, payload = store_request(record, event, keep_rejected_ms=keep_rejected_ms, shadow=shadow)
    client.register_script(scripts.STORE)(keys=store_keys, args=[payload])


JSON_FIELDS = ("score", "reasons", "features", "submission", "shadow")


def _decode(raw: dict) -> dict:
    return {k: json.loads(v) if k in JSON_FIELDS else v for k, v in raw.items()}


def load(client, comment_id: str) -> dict | None:
    """Return a comment record with its history, or None if there is no such comment."""
    found = load_many(client, [comment_id], with_history=True)
    return found[0] if found else None


def load_many(client, comment_ids: list[str], *, with_history: bool = False) -> list[dict]:
    """Return the records of several comments in one round trip, skipping missing ones."""
    pipe = client.pipeline(transaction=False)
    for comment_id in comment_ids:
        pipe.hgetall(keys.comment(comment_id))
        if with_history:
            pipe.lrange(keys.history(comment_id), 0, -1)
    replies = pipe.execute()
    step = 2 if with_history else 1
    records = []
    for i in range(0, len(replies), step):
        if not replies[i]:
            continue
        record = _decode(replies[i])
        if with_history:
            record["history"] = [json.loads(e) for e in replies[i + 1]]
        records.append(record)
    return records


def page_by_status(client, status: str, *, after_id: str | None = None, since_ms: int | None = None,
                   article_url: str | None = None, limit: int = 20, scan_limit: int = 2000) -> tuple[list[dict], str | None]:
    """Return comments with one status, newest first, and the id to continue after (None at the end).

    `since_ms` keeps those created at or after a time; `article_url` those
    posted on one article, examining at most `scan_limit` ids per call.
    """
    index = keys.by_status(status)
    high = f"({after_id}" if after_id else "+"
    low = f"[{since_ms:012x}" if since_ms is not None else "-"
    found, examined = [], 0
    while examined < scan_limit:
        ids = client.zrevrangebylex(index, high, low, start=0, num=limit)
        if not ids:
            return found, None
        examined += len(ids)
        for record in load_many(client, ids):
            if article_url is None or record["submission"].get("article_url") == article_url:
                found.append(record)
                if len(found) == limit:
                    more = client.zrevrangebylex(index, f"({record['id']}", low, start=0, num=1)
                    return found, (record["id"] if more else None)
        high = f"({ids[-1]}"
    return found, ids[-1]
