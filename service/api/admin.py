"""Admin endpoints: people's tokens."""

from __future__ import annotations

from flask import Blueprint

from ..storage import tokens
from . import runtime
from .auth import require

bp = Blueprint("admin", __name__)


@bp.get("/v1/admin/tokens")
@require("admin")
def list_tokens():
    """List who has a token, with role and creation time (never the token)."""
    return {"tokens": tokens.list_all(runtime().redis)}


@bp.delete("/v1/admin/tokens/<name>")
@require("admin")
def revoke_token(name: str):
    """Revoke a person's token at once, on every instance."""
    tokens.revoke(runtime().redis, name)
    return "", 204
