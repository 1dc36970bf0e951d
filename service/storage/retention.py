"""Redis holds the working set, not the archive: expired comments leave the indexes, old personal fields go.

Decided comments expire by themselves: their keys carry a TTL
(MODERATION_RETAIN_DECIDED_DAYS), set when they are decided, automatically
or by a person, and set again when a moderator revises the decision; pending
comments stay until decided. This sweep removes expired ids from the status
indexes, and removes the e-mail, IP and user agent of every comment older
than the personal-data limit. Labels never held them.
"""

from __future__ import annotations

import json

from .. import clock
from . import keys

PERSONAL_FIELDS = ("email", "ip", "user_agent")
STATUSES_WITH_PERSONAL_DATA = ("pending", "approved", "rejected")


def cursor_key(status: str) -> str:
    """Where the sweep remembers the last id it scrubbed in one status index."""
    return f"{keys.PREFIX}:retention:scrubbed:{status}"


def prune_expired(client, status: str, batch: int = 500) -> int:
    """Remove ids whose comment has expired from the oldest end of a status index; return how many.

    Batch after batch while every id of a batch has expired: comments expire
    in about the order they were created, so the first batch with a live
    comment is where the expired ones end.
    """
    pruned = 0
    while True:
        ids = client.zrangebylex(keys.by_status(status), "-", "+", start=0, num=batch)
        if not ids:
            return pruned
        pipe = client.pipeline(transaction=False)
        for comment_id in ids:
            pipe.exists(keys.comment(comment_id))
        gone = [i for i, exists in zip(ids, pipe.execute(), strict=True) if not exists]
        if gone:
            client.zrem(keys.by_status(status), *gone)
            pruned += len(gone)
        if len(gone) < len(ids):
            return pruned


def scrub_personal_data(client, older_than_ms: int, batch: int = 500) -> int:
    """Drop e-mail, IP and user agent from comments created before a time; return how many were scrubbed."""
    limit = f"({older_than_ms:012x}"
    scrubbed = 0
    for status in STATUSES_WITH_PERSONAL_DATA:
        start = client.get(cursor_key(status))
        ids = client.zrangebylex(keys.by_status(status), f"({start}" if start else "-", limit, start=0, num=batch)
        if not ids:
            continue
        pipe = client.pipeline(transaction=False)
        for comment_id in ids:
            pipe.hget(keys.comment(comment_id), "submission")
        for comment_id, raw in zip(ids, pipe.execute(), strict=True):
            if raw is None:
                continue
            submission = json.loads(raw)
            if any(field in submission for field in PERSONAL_FIELDS):
                cleaned = {k: v for k, v in submission.items() if k not in PERSONAL_FIELDS}
                # Only if the comment still exists: HSET on an expired key would resurrect it.
                if client.exists(keys.comment(comment_id)):
                    client.hset(keys.comment(comment_id), mapping={"submission": json.dumps(cleaned, ensure_ascii=False),
                                                                   "personal_data_removed": "1"})
                    scrubbed += 1
        client.set(cursor_key(status), ids[-1])
    return scrubbed


def sweep(client, *, now_ms: int, keep_personal_days: int) -> dict:
    """Run both retention steps once."""
    pruned = sum(prune_expired(client, status) for status in ("approved", "rejected"))
    scrubbed = scrub_personal_data(client, now_ms - keep_personal_days * clock.DAY_MS) if keep_personal_days else 0
    return {"pruned": pruned, "scrubbed": scrubbed}
