"""Store and read comment records; the initial write and enqueue are one atomic script."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass

import orjson

from .. import clock
from . import keys, scripts
from .scripts import NEW_TEXT, ScriptKeys

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


@dataclass(frozen=True)
class Outcome:
    """A new comment's status and reasons for one class of text, and the shadow model's status for it."""

    status: str
    reasons: list
    shadow_status: str | None = None


@dataclass(frozen=True)
class NewComment:
    """A comment to store, decided for every class of text (scripts.TEXT_CLASSES); admission picks the class.

    `fields` is the record without `status`, `auto_status`, `reasons` and
    `shadow`; `shadow` the shadow model's `{"version", "score"}` or None.
    """

    fields: dict
    outcomes: dict[str, Outcome]
    shadow: dict | None = None

    @property
    def id(self) -> str:
        return self.fields["id"]

    def record(self, text_class: str) -> dict:
        """The record as stored for a text of this class."""
        outcome = self.outcomes[text_class]
        record = {**self.fields, "status": outcome.status, "auto_status": outcome.status, "reasons": outcome.reasons}
        if self.shadow:
            record["shadow"] = {**self.shadow, "status": outcome.shadow_status}
        return record


def created_event(record: dict) -> dict:
    """The first event of a new comment's history."""
    return {"at": record["created_at"], "event": "created", "by": "system", "status": record["status"],
            "score": record["score"], "model_version": record["model_version"]}


def _json(value) -> str:
    return orjson.dumps(value).decode()


def comment_spec(comment: NewComment, key: Callable[[str], int], *, expire_ms: dict[str, int]) -> dict:
    """The `comment` member of the STORE and ADMIT payloads; `key` files a Redis key and returns its position.

    `expire_ms` maps a status to how long a comment with it is kept (absent: for good).
    """
    fields = {name: value if isinstance(value, str) else _json(value) for name, value in comment.fields.items()}
    outcomes = {}
    for text_class, outcome in comment.outcomes.items():
        record = comment.record(text_class)
        spec = {"status": outcome.status, "reasons": _json(outcome.reasons), "event": _json(created_event(record))}
        if comment.shadow:
            spec["shadow"] = _json(record["shadow"])
            spec["shadow_result"] = _json({**record["shadow"], "active_score": record["score"],
                                           "active_status": outcome.status})
        outcomes[text_class] = spec
    statuses = {o.status for o in comment.outcomes.values()}
    spec_keys = {"record": key(keys.comment(comment.id)), "history": key(keys.history(comment.id)),
                 "index": {status: key(keys.by_status(status)) for status in sorted(statuses)}}
    if "pending" in statuses:
        spec_keys["queue"] = key(keys.review_queue())
    if comment.shadow:
        spec_keys["shadow"] = key(keys.shadow_results(comment.shadow["version"]))
    return {"id": comment.id, "keys": spec_keys, "fields": fields, "outcomes": outcomes,
            "priority": str(review_priority(comment.fields["score"])),
            "expire_ms": {status: ms for status, ms in expire_ms.items() if ms}}


def save_new(client, record: dict, *, expire_ms: dict[str, int] | None = None) -> None:
    """Store a new comment decided outside admission (a record with `status` and `reasons`): one atomic script."""
    fields = {k: v for k, v in record.items() if k not in ("status", "auto_status", "reasons", "shadow")}
    comment = NewComment(fields, {NEW_TEXT: Outcome(record["status"], record.get("reasons", []))})
    script_keys = ScriptKeys()
    payload = {"comment": comment_spec(comment, script_keys.add, expire_ms=expire_ms or {}), "text_class": NEW_TEXT}
    client.register_script(scripts.STORE)(keys=script_keys.keys, args=[_json(payload)])


JSON_FIELDS = ("score", "reasons", "features", "submission", "shadow")


def _decode(raw: dict) -> dict:
    return {k: orjson.loads(v) if k in JSON_FIELDS else v for k, v in raw.items()}


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
            record["history"] = [orjson.loads(e) for e in replies[i + 1]]
        records.append(record)
    return records


def page_by_status(client, status: str, *, after_id: str | None = None, since_ms: int | None = None,
                   article_url: str | None = None, by_person: bool | None = None, limit: int = 20,
                   scan_limit: int = 2000) -> tuple[list[dict], str | None]:
    """Return comments with one status, newest first, and the id to continue after (None at the end).

    `since_ms` keeps those created at or after a time; `article_url` those
    posted on one article; `by_person` those a moderator decided (True) or
    the service did (False); examining at most `scan_limit` ids per call.
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
            if (article_url is None or record["submission"].get("article_url") == article_url) and \
                    (by_person is None or bool(record.get("decided_by")) == by_person):
                found.append(record)
                if len(found) == limit:
                    more = client.zrevrangebylex(index, f"({record['id']}", low, start=0, num=1)
                    return found, (record["id"] if more else None)
        high = f"({ids[-1]}"
    return found, ids[-1]
