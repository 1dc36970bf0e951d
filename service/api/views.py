"""What each audience sees of a stored comment."""

from __future__ import annotations

# Personal data is shown to moderators only.
PRIVATE_FIELDS = ("email", "ip", "user_agent")
# The website learns that a person decided, not who, nor what they noted (a note may quote personal data).
PRIVATE_EVENT_FIELDS = ("note",)
SYSTEM = "system"


def public_view(record: dict) -> dict:
    """Return what the website may see of a stored comment."""
    view = {
        "id": record["id"],
        "status": record["status"],
        "score": record["score"],
        "model_version": record["model_version"],
        "language": record.get("language"),
        "reasons": record["reasons"],
        "features": record.get("features", []),
        "created_at": record["created_at"],
        "updated_at": record["updated_at"],
        "decided_by": _role_of(record.get("decided_by")),
        "decided_at": record.get("decided_at"),
        "comment": {k: v for k, v in record["submission"].items() if k not in PRIVATE_FIELDS},
    }
    if "history" in record:
        view["history"] = [_public_event(e) for e in record["history"]]
    return view


def _role_of(actor: str | None) -> str | None:
    """"system" for the service itself, "moderator" for any person."""
    return actor if actor in (None, SYSTEM) else "moderator"


def _public_event(event: dict) -> dict:
    out = {k: v for k, v in event.items() if k not in PRIVATE_EVENT_FIELDS}
    if "by" in out:
        out["by"] = _role_of(out["by"])
    return out


def moderator_view(record: dict) -> dict:
    """Return everything a moderator needs: the public view plus personal data, the note and the lease."""
    view = public_view(record)
    view["comment"] = dict(record["submission"])
    view["decided_by"] = record.get("decided_by")
    if "history" in record:
        view["history"] = record["history"]
    view["decision_note"] = record.get("decision_note") or None
    view["shadow"] = record.get("shadow")
    view["lease"] = ({"holder": record["lease_holder"], "expires_at": record["lease_expires_at"]}
                     if record.get("lease_holder") else None)
    return view
