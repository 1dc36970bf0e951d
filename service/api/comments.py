"""Comment submission and lookup: POST /v1/comments, GET /v1/comments/{id}."""

from __future__ import annotations

import re

from flask import Blueprint, g, url_for

from ..errors import NotFoundError
from ..moderation import intake
from ..storage import comments
from . import runtime
from .bodies import read_fields
from .schemas import validate_submission

bp = Blueprint("comments", __name__)
COMMENT_ID_RE = re.compile(r"^[0-9a-f]{24}$")
# Personal data is not part of the public view of a comment.
PRIVATE_FIELDS = ("email", "ip", "user_agent")


def public_view(record: dict) -> dict:
    """Return what the website may see of a stored comment."""
    submission = {k: v for k, v in record["submission"].items() if k not in PRIVATE_FIELDS}
    return {
        "id": record["id"],
        "status": record["status"],
        "score": record["score"],
        "model_version": record["model_version"],
        "language": record.get("language"),
        "reasons": record["reasons"],
        "features": record.get("features", []),
        "created_at": record["created_at"],
        "updated_at": record["updated_at"],
        "decided_by": record.get("decided_by"),
        "decided_at": record.get("decided_at"),
        "comment": submission,
        "history": record["history"],
    }


@bp.post("/v1/comments")
def submit_comment():
    """Validate, score, decide and store a comment; answer 201 with the decision."""
    rt = runtime()
    submission = validate_submission(read_fields(), rt.submission_fields)
    record = intake.submit(rt.redis, rt.model, rt.thresholds, submission)
    g.log_fields = {"comment_id": record["id"], "decision": record["status"], "score": record["score"],
                    "model_version": record["model_version"]}
    body = {k: record[k] for k in ("id", "status", "score", "model_version", "reasons")}
    return body, 201, {"Location": url_for("comments.get_comment", comment_id=record["id"])}


@bp.get("/v1/comments/<comment_id>")
def get_comment(comment_id: str):
    """Return a comment's status, score, model version, decision and history."""
    record = comments.load(runtime().redis, comment_id) if COMMENT_ID_RE.match(comment_id) else None
    if record is None:
        raise NotFoundError(f"There is no comment with id {comment_id!r}.")
    return public_view(record)
