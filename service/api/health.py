"""Liveness and readiness for operators: GET /healthz, GET /readyz."""

from __future__ import annotations

from flask import Blueprint

from ..errors import NotReadyError, StorageUnavailableError
from . import runtime

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """Answer 200 while the process is up."""
    return {"status": "ok"}


@bp.get("/readyz")
def readyz():
    """Answer 200 when Redis answers and a model is loaded, else 503 with Retry-After."""
    rt = runtime()
    try:
        rt.check_storage()
    except StorageUnavailableError as exc:
        raise NotReadyError(f"Not ready: {exc.detail}") from exc
    return {"status": "ready", "model_version": rt.models.state.active.version}
