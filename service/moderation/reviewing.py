"""The moderators' use cases: read the queue and comments, claim, decide, release, override."""

from __future__ import annotations

from .. import clock
from ..clock import now_ms
from ..errors import ConflictError, NotFoundError
from ..storage import comments
from ..storage.abuse import recent_by_author
from ..storage.keys import STATUSES
from ..storage.queue import Outcome, ReviewQueue

__all__ = ["STATUSES", "Reviewing", "is_comment_id"]
is_comment_id = comments.is_comment_id


def not_found(comment_id: str, expire_ms: dict[str, int], *, now: int | None = None) -> NotFoundError:
    """The 404 for a comment id Redis does not hold: expired from the moderation store, or never there.

    A decided comment expires at the earliest its retention after its
    creation (which the id encodes), so a younger id was never stored.
    """
    kept = [ms for ms in expire_ms.values() if ms]
    if comments.is_comment_id(comment_id) and kept and \
            comments.created_ms(comment_id) < (now_ms() if now is None else now) - min(kept):
        days = max(kept) // clock.DAY_MS
        return NotFoundError(f"Comment {comment_id} has expired from the moderation store: decided comments are kept "
                             f"for {days} days (MODERATION_RETAIN_DECIDED_DAYS); the website keeps its own copy.",
                             reason="expired")
    return NotFoundError(f"There is no comment with id {comment_id!r}.")


def raise_for(outcome: Outcome, comment_id: str, expire_ms: dict[str, int]) -> None:
    """Turn a failed queue outcome into the matching 404 or 409 error."""
    if outcome.ok:
        return
    if outcome.code == "not_found":
        raise not_found(comment_id, expire_ms)
    messages = {
        "not_pending": f"Comment {comment_id} is already {outcome.detail}; it is not in the review queue.",
        "leased": f"Comment {comment_id} is leased to {outcome.detail}.",
        "same_status": f"Comment {comment_id} is already {outcome.detail}.",
        "not_leased": f"Comment {comment_id} is not leased to anyone.",
    }
    raise ConflictError(messages[outcome.code], reason=outcome.code)


class Reviewing:
    """What a moderator does and reads, over one Redis client and the review queue."""

    def __init__(self, client, queue: ReviewQueue):
        self.client = client
        self.queue = queue

    def load(self, comment_id: str) -> dict:
        """A stored comment with its history; NotFoundError if there is none."""
        record = comments.load(self.client, comment_id) if is_comment_id(comment_id) else None
        if record is None:
            raise not_found(comment_id, self.queue.expire_ms)
        return record

    def queue_page(self, *, order: str, cursor: str | None, limit: int) -> tuple[list, str | None]:
        """One page of pending comments (ValueError for a cursor this service did not give)."""
        return self.queue.page(order=order, cursor=cursor, limit=limit)

    def others_by_author(self, records: list[dict]) -> dict[str, int]:
        """How many other comments each record's author sent lately (storage.abuse.AUTHOR_WINDOW_DAYS)."""
        return recent_by_author(self.client, records)

    def counts(self) -> dict:
        """Pending comments in all, under a live lease, and free to claim."""
        return self.queue.counts()

    def by_status(self, status: str, **query) -> tuple[list, str | None]:
        """Comments with one status, newest first (see storage.comments.page_by_status)."""
        return comments.page_by_status(self.client, status, **query)

    def claim(self, holder: str, limit: int) -> list[dict]:
        """Lease up to `limit` pending comments to `holder`; return their records."""
        return comments.load_many(self.client, self.queue.claim(holder, limit), with_history=True)

    def decide(self, comment_id: str, holder: str, status: str, note: str, *, override: bool = False) -> dict:
        """Approve or reject (a pending comment, or with `override` a decided one); return the new record."""
        mode = "override" if override else "review"
        raise_for(self.queue.decide(comment_id, holder, status, note, mode=mode), comment_id, self.queue.expire_ms)
        return self.load(comment_id)

    def decide_many(self, items: list[tuple[str, str, str]], holder: str) -> list[Outcome]:
        """Decide several (id, status, note) items; each succeeds or fails on its own."""
        return self.queue.decide_many(items, holder)

    def release(self, comment_id: str, holder: str) -> dict:
        """Give a leased comment back to the queue; return its record."""
        raise_for(self.queue.release(comment_id, holder), comment_id, self.queue.expire_ms)
        return self.load(comment_id)
