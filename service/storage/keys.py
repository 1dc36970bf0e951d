"""Every Redis key the service uses, built in this one place."""

PREFIX = "mod"
STATUSES = ("pending", "approved", "rejected")


def comment(comment_id: str) -> str:
    """Hash holding one comment's record."""
    return f"{PREFIX}:comment:{comment_id}"


def history(comment_id: str) -> str:
    """List of JSON events: every state change of one comment."""
    return f"{PREFIX}:comment:{comment_id}:history"


def by_status(status: str) -> str:
    """Sorted set of comment ids with one status, scored by creation time (ms)."""
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r}")
    return f"{PREFIX}:status:{status}"


def review_queue() -> str:
    """Sorted set of pending comment ids, scored by review priority (lower first)."""
    return f"{PREFIX}:queue:pending"
