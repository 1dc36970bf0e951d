"""Comments: submit (website), read (website, moderators), list and override (moderators)."""

from __future__ import annotations

from flask import Blueprint, g, request, url_for

from ..errors import AuthenticationError, ValidationError
from ..moderation.reviewing import STATUSES, is_comment_id
from . import runtime
from .auth import ROLE_RANK, optional_user, optional_user_deferred, require
from .bodies import read_fields, read_json_object
from .clientip import commenter_ip
from .params import MAX_PAGE, int_param, parse_decision, since_param
from .schemas import validate_submission
from .views import moderator_view, public_view

bp = Blueprint("comments", __name__)


@bp.post("/v1/comments")
def submit_comment():
    """Validate, check the limits, score, decide and store a comment; answer 201 with the decision."""
    rt = runtime()
    site, site_check = optional_user_deferred()  # a key seen before is confirmed by the admission's round trip
    if site is None and rt.settings.require_site_key:
        raise AuthenticationError("This service requires the website's key: send 'Authorization: Bearer SITE_KEY'.")
    submission = validate_submission(read_fields(), rt.submission_fields)
    ip = commenter_ip(submission.pop("ip", None), rt.settings.trusted_proxies, site_authenticated=site is not None)
    if ip:
        submission["ip"] = ip
    record = rt.submit(submission, ip=ip, site=site["name"] if site else None, site_check=site_check)
    g.log_fields = {"comment_id": record["id"], "decision": record["status"], "score": record["score"],
                    "model_version": record["model_version"], "reasons": [r["code"] for r in record["reasons"]]}
    body = {k: record[k] for k in ("id", "status", "score", "model_version", "reasons")}
    return body, 201, {"Location": url_for("comments.get_comment", comment_id=record["id"])}


@bp.get("/v1/comments/<comment_id>")
def get_comment(comment_id: str):
    """Return a comment's status, decision and history; moderators also see personal data."""
    user = optional_user()
    record = runtime().reviewing.load(comment_id)
    return moderator_view(record) if user and ROLE_RANK[user["role"]] >= ROLE_RANK["moderator"] else public_view(record)


@bp.get("/v1/comments")
@require("moderator")
def list_comments():
    """List comments with one status, newest first, filtered by article and creation time."""
    status = request.args.get("status", "")
    if status not in STATUSES:
        raise ValidationError([{"field": "status", "message": f"must be one of {', '.join(STATUSES)}"}])
    cursor = request.args.get("cursor") or None
    if cursor is not None and not is_comment_id(cursor):
        raise ValidationError([{"field": "cursor", "message": "is not a cursor this service returned"}])
    records, next_cursor = runtime().reviewing.by_status(
        status, after_id=cursor, since_ms=since_param(request.args.get("since")),
        article_url=request.args.get("article") or None,
        limit=int_param(request.args.get("limit"), "limit", 20, 1, MAX_PAGE))
    return {"items": [moderator_view(r) for r in records], "next_cursor": next_cursor}


@bp.post("/v1/comments/<comment_id>/decision")
@require("moderator")
def override(comment_id: str):
    """Change an automatic or earlier decision: rejected to approved or the reverse."""
    status, note = parse_decision(read_json_object())
    reviewing = runtime().reviewing
    reviewing.load(comment_id)  # 404 before anything else
    record = reviewing.decide(comment_id, g.user["name"], status, note, override=True)
    g.log_fields = {"comment_id": comment_id, "decision": status, "override": True}
    return moderator_view(record)
