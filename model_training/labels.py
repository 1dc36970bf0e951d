"""Moderators' decisions as labelled data: the record format, where the service keeps it, and the export.

Shared with the service (like `features` and `artifact`): the service writes
label records as it records decisions, and `export-labels` reads them, so the
key names and the record format live here, in one place.
"""

from __future__ import annotations

import datetime as dt
import json

LABELS_KEY = "mod:labels"  # hash: comment id -> current label record (JSON)
LABELS_BY_TIME_KEY = "mod:labels:by_time"  # sorted set: comment id scored by decision time (ms)
# Everything a label keeps: what training needs and what explains it, never e-mail, IP or user agent.
EXPORT_FIELDS = ("comment_id", "text", "label", "lang", "decided_by", "decided_at", "model_version", "score",
                 "auto_status", "previous_status", "revisions")


def parse_since(raw: str | None) -> int | None:
    """Read an ISO 8601 date or date-time (UTC when no zone is given); return ms since the epoch."""
    if not raw:
        return None
    moment = dt.datetime.fromisoformat(raw)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return max(0, int(moment.timestamp() * 1000))


def iter_labels(client, since_ms: int | None = None, batch: int = 500):
    """Yield label records (dicts) in decision order, from since_ms on.

    Pages are read by rank, each in O(log N + batch): an offset into a score
    range would rescan everything before it on every page.
    """
    rank = client.zcount(LABELS_BY_TIME_KEY, "-inf", f"({since_ms}") if since_ms is not None else 0
    while True:
        ids = client.zrange(LABELS_BY_TIME_KEY, rank, rank + batch - 1)
        if not ids:
            return
        for raw in client.hmget(LABELS_KEY, ids):
            if raw:
                record = json.loads(raw)
                yield {k: record.get(k) for k in EXPORT_FIELDS}
        rank += len(ids)


def export_lines(client, since_ms: int | None = None):
    """Yield the JSONL export, one label per line."""
    for record in iter_labels(client, since_ms):
        yield json.dumps(record, ensure_ascii=False) + "\n"
