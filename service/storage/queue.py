"""The review queue: list, claim (lease), decide, release and override, each atomic in Redis."""

from __future__ import annotations

import base64
import datetime as dt
import math
from dataclasses import dataclass

from ..clock import iso, now_ms
from . import keys, scripts
from .comments import is_comment_id, load_many

HISTORY_SUFFIX = keys.history("")[len(keys.comment("")):]


@dataclass(frozen=True)
class Outcome:
    """The result of one state change: ok, or an error code with a detail (a status or a lease holder)."""

    ok: bool
    code: str
    detail: str

    @classmethod
    def from_script(cls, reply) -> Outcome:
        """Build from a script's {code, detail} reply."""
        code, detail = reply
        return cls(code == "ok", code, detail or "")


NOT_FOUND = Outcome(False, "not_found", "")


class ReviewQueue:
    """Review-queue operations over one Redis client; scripts are registered once."""

    def __init__(self, client, lease_seconds: int = 600, *, expire_ms: dict[str, int] | None = None,
                 outbox_max: int = 100_000):
        self.client = client
        self.lease_ms = lease_seconds * 1000
        self.expire_ms = expire_ms or {}  # status -> ms a decided comment stays in Redis (absent or 0: for good)
        self.outbox_max = outbox_max
        self._claim = client.register_script(scripts.CLAIM)
        self._decide = client.register_script(scripts.DECIDE)
        self._release = client.register_script(scripts.RELEASE)

    def claim(self, holder: str, limit: int, *, at_ms: int | None = None) -> list[str]:
        """Lease up to `limit` pending comments to `holder`, most useful first; return their ids."""
        now = now_ms() if at_ms is None else at_ms
        expires = now + self.lease_ms
        return self._claim(keys=[keys.review_queue(), keys.leases()],
                           args=[now, expires, holder, limit, keys.comment(""), HISTORY_SUFFIX, iso(now), iso(expires)])

    def decide(self, comment_id: str, actor: str, status: str, note: str = "", *, mode: str = "review",
               at_ms: int | None = None, pipeline=None):
        """Approve or reject a pending comment (mode review) or change a decided one (mode override)."""
        if not is_comment_id(comment_id):
            return NOT_FOUND
        now = now_ms() if at_ms is None else at_ms
        result = self._decide(
            keys=[keys.comment(comment_id), keys.history(comment_id), keys.review_queue(), keys.leases(),
                  keys.by_status("pending"), keys.by_status("approved"), keys.by_status("rejected"),
                  keys.label_stream(), keys.webhook_outbox()],
            args=[comment_id, actor, status, note, now, iso(now), mode, self.expire_ms.get(status, 0), self.outbox_max],
            client=pipeline or self.client)
        return result if pipeline is not None else Outcome.from_script(result)

    def decide_many(self, items: list[tuple[str, str, str]], actor: str) -> list[Outcome]:
        """Decide several (id, status, note) items in one round trip; each is atomic on its own."""
        pipe = self.client.pipeline(transaction=False)
        valid = [is_comment_id(comment_id) for comment_id, _, _ in items]
        for (comment_id, status, note), ok in zip(items, valid, strict=True):
            if ok:
                self.decide(comment_id, actor, status, note, pipeline=pipe)
        replies = iter(pipe.execute() if any(valid) else [])
        return [Outcome.from_script(next(replies)) if ok else NOT_FOUND for ok in valid]

    def release(self, comment_id: str, actor: str, *, at_ms: int | None = None) -> Outcome:
        """Give a leased comment back to the queue; only its holder may."""
        if not is_comment_id(comment_id):
            return NOT_FOUND
        now = now_ms() if at_ms is None else at_ms
        return Outcome.from_script(self._release(keys=[keys.comment(comment_id), keys.history(comment_id), keys.leases()],
                                                 args=[comment_id, actor, now, iso(now)]))

    def counts(self, *, at_ms: int | None = None) -> dict:
        """Pending comments in all, those under a live lease, and those free to claim."""
        now = now_ms() if at_ms is None else at_ms
        pipe = self.client.pipeline(transaction=False)
        pipe.zcard(keys.review_queue())
        pipe.zcount(keys.leases(), f"({now}", "+inf")
        pending, leased = pipe.execute()
        return {"pending": pending, "leased": leased, "available": pending - leased}

    def page(self, *, order: str = "priority", cursor: str | None = None, limit: int = 20) -> tuple[list[dict], str | None]:
        """Return one page of pending comments with their live lease, and the cursor of the next page."""
        if order == "oldest":
            start = f"({decode_cursor(cursor)}" if cursor else "-"
            ids = self.client.zrangebylex(keys.by_status("pending"), start, "+", start=0, num=limit + 1)
            next_of = lambda last: encode_cursor(last)  # noqa: E731
        else:
            ids = self._priority_ids(cursor, limit + 1)
            next_of = lambda last: encode_cursor(f"{self.client.zscore(keys.review_queue(), last)!r}|{last}")  # noqa: E731
        more = len(ids) > limit
        ids = ids[:limit]
        records = load_many(self.client, ids)
        now = now_ms()
        for record in records:
            expires = record.get("lease_expires_at")
            if expires and dt.datetime.fromisoformat(expires).timestamp() * 1000 <= now:
                record.pop("lease_holder", None)
                record.pop("lease_expires_at", None)
        return records, (next_of(ids[-1]) if more and ids else None)

    def _priority_ids(self, cursor: str | None, count: int) -> list[str]:
        if not cursor:
            return self.client.zrange(keys.review_queue(), 0, count - 1)
        score_text, _, last_id = decode_cursor(cursor).partition("|")
        try:
            score = float(score_text)
        except ValueError:
            raise ValueError("cursor is not valid") from None
        if not math.isfinite(score):
            raise ValueError("cursor is not valid")
        # Equal scores are ordered by id: skip those up to and including the cursor's id, however many tie.
        ids: list[str] = []
        offset, chunk = 0, count + 200
        while len(ids) < count:
            rows = self.client.zrangebyscore(keys.review_queue(), score, "+inf", start=offset, num=chunk,
                                             withscores=True)
            ids += [i for i, s in rows if s > score or i > last_id]
            if len(rows) < chunk:
                break
            offset += chunk
        return ids[:count]


def encode_cursor(value: str) -> str:
    """Make an opaque cursor from a position."""
    return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    """Read a cursor back; raise ValueError if it is not one of ours."""
    try:
        value = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        raise ValueError("cursor is not valid") from None
    if not value or any(c in value for c in "[]()\x00") or len(value) > 100:
        raise ValueError("cursor is not valid")
    return value
