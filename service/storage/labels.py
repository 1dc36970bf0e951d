"""Moderators' decisions as labelled data: what a label keeps, and the export (records written by scripts.DECIDE)."""

from __future__ import annotations

import json

from . import keys

# Everything a label keeps: what training needs and what explains it, never e-mail, IP or user agent.
EXPORT_FIELDS = ("comment_id", "text", "label", "lang", "decided_by", "decided_at", "model_version", "score",
                 "auto_status", "previous_status", "revisions")


def iter_labels(client, since_ms: int | None = None, batch: int = 500):
    """Yield label records (dicts) in decision order, from since_ms on.

    Pages are read by rank, each in O(log N + batch): an offset into a score
    range would rescan everything before it on every page.
    """
    rank = client.zcount(keys.labels_by_time(), "-inf", f"({since_ms}") if since_ms is not None else 0
    while True:
        ids = client.zrange(keys.labels_by_time(), rank, rank + batch - 1)
        if not ids:
            return
        for raw in client.hmget(keys.labels(), ids):
            if raw:
                record = json.loads(raw)
                yield {k: record.get(k) for k in EXPORT_FIELDS}
        rank += len(ids)


def export_lines(client, since_ms: int | None = None):
    """Yield the JSONL export, one label per line."""
    for record in iter_labels(client, since_ms):
        yield json.dumps(record, ensure_ascii=False) + "\n"
