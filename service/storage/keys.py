"""Every Redis key the service uses, built in this one place."""

import hashlib

PREFIX = "mod"
# Commenters' IP and e-mail addresses are personal data: a key names one by its digest (see `personal`), never by
# the address itself, since key names are what Redis's key listings show whoever runs them (SCAN, --bigkeys).
PERSONAL_KINDS = frozenset({"ip", "email"})


def personal(address: str) -> str:
    """How a key names a commenter's IP or e-mail address: the sha256 of the case-folded address, 128 bits of it.

    It keeps addresses out of key names, not secret from whoever can read
    Redis: the comment records themselves hold them.
    """
    return hashlib.sha256(address.casefold().encode()).hexdigest()[:32]


def label_stream() -> str:
    """Stream of the moderators' decisions, one entry per decision (field `label`: JSON, as scripts.DECIDE writes it);
    the label exporter moves them to the archive files and trims what it wrote."""
    return f"{PREFIX}:labels:stream"


def label_exporter_lease() -> str:
    """String: the token of the one instance exporting labels, with the lease's expiry as TTL."""
    return f"{PREFIX}:labels:exporter"


def retrain_runs() -> str:
    """List of JSON reports of retraining runs, promoted or not, newest first (moderation.retraining)."""
    return f"{PREFIX}:model:retrain_runs"


def active_model() -> str:
    """Hash: the record (version, sha256, by, at) of the model every instance serves."""
    return f"{PREFIX}:model:active"


def shadow_model() -> str:
    """Hash: the record of the model every instance also scores with, in shadow."""
    return f"{PREFIX}:model:shadow"


def model_history() -> str:
    """List of JSON records of earlier active models, newest first (for rollback)."""
    return f"{PREFIX}:model:history"


def model_channel() -> str:
    """Pub/sub channel on which a change of the active or shadow model is announced."""
    return f"{PREFIX}:model:changes"
STATUSES = ("pending", "approved", "rejected")


def comment(comment_id: str) -> str:
    """Hash holding one comment's record."""
    return f"{PREFIX}:comment:{comment_id}"


def history(comment_id: str) -> str:
    """List of JSON events: every state change of one comment."""
    return f"{PREFIX}:comment:{comment_id}:history"


def by_status(status: str) -> str:
    """Sorted set of comment ids with one status, all scored 0: ids sort by creation time, read with ZRANGEBYLEX."""
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r}")
    return f"{PREFIX}:status:{status}"


def review_queue() -> str:
    """Sorted set of pending comment ids, scored by review priority (lower first; ties oldest first)."""
    return f"{PREFIX}:queue:pending"


def leases() -> str:
    """Sorted set of leased comment ids, scored by lease expiry (ms since the epoch)."""
    return f"{PREFIX}:queue:leases"


def webhook_outbox() -> str:
    """Stream of events waiting for webhook delivery (consumer group: the instances)."""
    return f"{PREFIX}:webhooks:outbox"


def webhook_endpoints() -> str:
    """Hash: endpoint id -> JSON {id, url, secrets: [{id, secret, created_at}], created_at}."""
    return f"{PREFIX}:webhooks:endpoints"


def webhook_deliveries() -> str:
    """Sorted set of pending deliveries (JSON: event, endpoint, attempt) scored by when they are due (ms)."""
    return f"{PREFIX}:webhooks:deliveries"


def webhook_log() -> str:
    """Capped list of delivery attempts (JSON), newest first."""
    return f"{PREFIX}:webhooks:log"


def webhook_dead() -> str:
    """List of deliveries given up after the last attempt (JSON), newest first."""
    return f"{PREFIX}:webhooks:dead"


WEBHOOK_GROUP = "deliverers"
"""Consumer group of the instances reading the webhook outbox."""


def shadow_results(version: str) -> str:
    """Hash: comment id -> JSON {score, status, active_score, active_status} for one shadow model."""
    return f"{PREFIX}:shadow:{version}"


def _subject(kind: str, subject: str) -> str:
    return personal(subject) if kind in PERSONAL_KINDS else subject


def rate(kind: str, subject: str) -> str:
    """Counter of submissions from one IP, e-mail (named by `personal`) or site in the current window."""
    return f"{PREFIX}:rate:{kind}:{_subject(kind, subject)}"


def flood(kind: str, subject: str) -> str:
    """Marker of a recent submission from one IP or e-mail, named by `personal` (expires after the flood window)."""
    return f"{PREFIX}:flood:{kind}:{_subject(kind, subject)}"


def author(email: str) -> str:
    """Sorted set of one commenter's recent comment ids (named by `personal`), scored by time (ms)."""
    return f"{PREFIX}:author:{personal(email)}"


def duplicate(text_hash: str) -> str:
    """Counter of submissions with one normalised text."""
    return f"{PREFIX}:dup:{text_hash}"


def simhash_blocks(block: int, values: list[int]) -> list[str]:
    """Sets of text fingerprints with these 16-bit values in one block (near-duplicate candidates)."""
    prefix = f"{PREFIX}:simhash16:{block}:"
    return [f"{prefix}{value:04x}" for value in values]


def abuse_list(name: str) -> str:
    """Set of entries of one block, allow or disposable-domain list."""
    return f"{PREFIX}:list:{name}"


def token(token_id: str) -> str:
    """Hash holding one API token's name, role, sha256 and creation time."""
    return f"{PREFIX}:token:{token_id}"


def token_names() -> str:
    """Hash mapping a person's name to their token id (one token per name)."""
    return f"{PREFIX}:tokens"


def session(session_id: str) -> str:
    """String: the token id of one open review-page session (expires with the session)."""
    return f"{PREFIX}:session:{session_id}"


def secret_key() -> str:
    """String holding the session-signing key shared by every instance."""
    return f"{PREFIX}:secret-key"
