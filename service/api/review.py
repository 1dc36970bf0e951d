"""The moderators' review queue: list, claim, decide (one or many), release."""

from __future__ import annotations

from flask import Blueprint, g, request

from ..errors import ValidationError
from . import runtime
from .auth import require
from .bodies import read_json_object
from .params import MAX_BULK, MAX_PAGE, int_param, parse_decision
from .views import moderator_view

bp = Blueprint("review", __name__)


@bp.get("/v1/review/queue")
@require("moderator")
def queue():
    """List pending comments, most useful first (order=priority) or oldest first (order=oldest)."""
    order = request.args.get("order", "priority")
    if order not in ("priority", "oldest"):
        raise ValidationError([{"field": "order", "message": "must be 'priority' or 'oldest'"}])
    limit = int_param(request.args.get("limit"), "limit", 20, 1, MAX_PAGE)
    reviewing = runtime().reviewing
    try:
        records, next_cursor = reviewing.queue_page(order=order, cursor=request.args.get("cursor"), limit=limit)
    except ValueError:
        raise ValidationError([{"field": "cursor", "message": "is not a cursor this service returned"}]) from None
    return {"items": [moderator_view(r) for r in records], "next_cursor": next_cursor, "counts": reviewing.counts()}


@bp.post("/v1/review/claim")
@require("moderator")
def claim():
    """Lease up to `limit` pending comments to the caller."""
    body = read_json_object()
    limit = int_param(body.get("limit") if isinstance(body, dict) else None, "limit", 10, 1, MAX_PAGE)
    rt = runtime()
    records = rt.reviewing.claim(g.user["name"], limit)
    return {"claimed": [moderator_view(r) for r in records], "lease_seconds": rt.settings.lease_seconds}


@bp.post("/v1/review/<comment_id>/decision")
@require("moderator")
def decide(comment_id: str):
    """Approve or reject a pending comment the caller holds (or that nobody holds)."""
    status, note = parse_decision(read_json_object())
    record = runtime().reviewing.decide(comment_id, g.user["name"], status, note)
    g.log_fields = {"comment_id": comment_id, "decision": status}
    return moderator_view(record)


@bp.post("/v1/review/decisions")
@require("moderator")
def decide_many():
    """Decide several comments; each item succeeds or fails on its own."""
    body = read_json_object()
    items = body.get("decisions") if isinstance(body, dict) else None
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_BULK:
        raise ValidationError([{"field": "decisions", "message": f"must be an array of 1 to {MAX_BULK} objects"}])
    parsed = []
    for i, item in enumerate(items):
        status, note = parse_decision(item, f"decisions[{i}]")
        comment_id = item.get("id")
        if not isinstance(comment_id, str) or not comment_id:
            raise ValidationError([{"field": f"decisions[{i}].id", "message": "must be a comment id"}])
        parsed.append((comment_id, status, note))
    outcomes = runtime().reviewing.decide_many(parsed, g.user["name"])
    results = []
    for (comment_id, status, _), outcome in zip(parsed, outcomes, strict=True):
        row = {"id": comment_id, "ok": outcome.ok}
        if outcome.ok:
            row["status"] = status
        else:
            row["error"] = outcome.code
            row["detail"] = outcome.detail or None
        results.append(row)
    return {"results": results}


@bp.post("/v1/review/<comment_id>/release")
@require("moderator")
def release(comment_id: str):
    """Give a leased comment back to the queue."""
    return moderator_view(runtime().reviewing.release(comment_id, g.user["name"]))
