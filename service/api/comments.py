"""Comments: submit (website), read (website, moderators), list and override (moderators)."""

from __future__ import annotations

from flask import Blueprint, g, request, url_for

from ..errors import AuthenticationError, NotFoundError, ValidationError
from ..moderation import intake
from ..storage import comments
from ..storage.keys import STATUSES
from . import runtime
from .auth import ROLE_RANK, optional_user, require
from .bodies import read_fields, read_json_object
from .clientip import commenter_ip
from .params import MAX_PAGE, int_param, parse_decision, since_param
from .schemas import validate_submission
from .views import moderator_view, public_view, raise_for

bp = Blueprint("comments", __name__)


def load_or_404(comment_id: str) -> dict:
    """Return a stored comment or raise a 404 problem."""
    record = comments.load(runtime().redis, comment_id) if comments.is_comment_id(comment_id) else None
    if record is None:
        raise NotFoundError(f"There is no comment with id {comment_id!r}.")
    return record


@bp.post("/v1/comments")
def submit_comment():
    """Validate, check the limits, score, decide and store a comment; answer 201 with the decision."""
    rt = runtime()
    site = optional_user()
    if site is None and rt.settings.require_site_key:
        raise AuthenticationError("This service requires the website's key: send 'Authorization: Bearer SITE_KEY'.")
    submission = validate_submission(read_fields(), rt.submission_fields)
    ip = commenter_ip(submission.pop("ip", None), rt.settings.trusted_proxies, site_authenticated=site is not None)
    if ip:
        submission["ip"] = ip
    record = intake.submit(rt.redis, rt.guard, rt.models.state, submission, ip=ip,
                           site=site["name"] if site else None,
                           keep_rejected_ms=rt.settings.keep_rejected_days * 86_400_000)
    g.log_fields = {"comment_id": record["id"], "decision": record["status"], "score": record["score"],
                    "model_version": record["model_version"], "reasons": [r["code"] for r in record["reasons"]]}
    body = {k: record[k] for k in ("id", "status", "score", "model_version", "reasons")}
    return body, 201, {"Location": url_for("comments.get_comment", comment_id=record["id"])}


@bp.get("/v1/comments/<comment_id>")
def get_comment(comment_id: str):
    """Return a comment's status, decision and history; moderators also see personal data."""
    user = optional_user()
    record = load_or_404(comment_id)
    return moderator_view(record) if user and ROLE_RANK[user["role"]] >= ROLE_RANK["moderator"] else public_view(record)


@bp.get("/v1/comments")
@require("moderator")
def list_comments():
    """List comments with one status, newest first, filtered by article and creation time."""
    status = request.args.get("status", "")
    if status not in STATUSES:
        raise ValidationError([{"field": "status", "message": f"must be one of {', '.join(STATUSES)}"}])
    cursor = request.args.get("cursor") or None
    if cursor is not None and not comments.is_comment_id(cursor):
        raise ValidationError([{"field": "cursor", "message": "is not a cursor this service returned"}])
    records, next_cursor = comments.page_by_status(
        runtime().redis, status, after_id=cursor, since_ms=since_param(request.args.get("since")),
        article_url=request.args.get("article") or None,
        limit=int_param(request.args.get("limit"), "limit", 20, 1, MAX_PAGE))
    return {"items": [moderator_view(r) for r in records], "next_cursor": next_cursor}


@bp.post("/v1/comments/<comment_id>/decision")
@require("moderator")
def override(comment_id: str):
    """Change an automatic or earlier decision: rejected to approved or the reverse."""
    status, note = parse_decision(read_json_object())
    load_or_404(comment_id)
    rt = runtime()
    raise_for(rt.queue.decide(comment_id, g.user["name"], status, note, mode="override"), comment_id)
    g.log_fields = {"comment_id": comment_id, "decision": status, "override": True}
    return moderator_view(comments.load(rt.redis, comment_id))
