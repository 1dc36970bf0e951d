"""Parsers of query and body parameters shared by the blueprints, and the limits they enforce (also in the OpenAPI)."""

from __future__ import annotations

from ..clock import parse_since
from ..errors import ValidationError

MAX_PAGE = 100
MAX_BULK = 100
MAX_BATCH = 1000  # comments per POST /v1/score
MAX_FEATURES = 50  # n-grams each POST /v1/score result may list (?explain=)
MAX_NOTE = 2000
DECISIONS = {"approve": "approved", "reject": "rejected"}


def int_param(value, name: str, default: int, low: int, high: int) -> int:
    """Read an integer query or body parameter within bounds; 422 otherwise."""
    if value is None or value == "":
        return default
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValidationError([{"field": name, "message": f"must be an integer from {low} to {high}"}])
    try:
        number = int(value)
    except ValueError:
        number = None
    if number is None or not low <= number <= high:
        raise ValidationError([{"field": name, "message": f"must be an integer from {low} to {high}"}])
    return number


def parse_decision(item, field: str = "") -> tuple[str, str]:
    """Read {"decision": "approve"|"reject", "note": "..."}; return (status, note)."""
    prefix = f"{field}." if field else ""
    if not isinstance(item, dict):
        raise ValidationError([{"field": field or "", "message": "must be an object"}])
    decision, note = item.get("decision"), item.get("note", "")
    errors = []
    if decision not in DECISIONS:
        errors.append({"field": f"{prefix}decision", "message": "must be 'approve' or 'reject'"})
    if note is None:
        note = ""
    if not isinstance(note, str) or len(note) > MAX_NOTE:
        errors.append({"field": f"{prefix}note", "message": f"must be a string of at most {MAX_NOTE} characters"})
    if errors:
        raise ValidationError(errors)
    return DECISIONS[decision], note


def since_param(raw: str | None) -> int | None:
    """Read the `since` query parameter (ISO 8601 date or date-time) as ms since the epoch; 422 if malformed."""
    try:
        return parse_since(raw)
    except ValueError:
        raise ValidationError([{"field": "since", "message": "must be an ISO 8601 date or date-time"}]) from None
