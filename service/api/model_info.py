"""GET /v1/model: the active model's version, training date, metrics and thresholds."""

from __future__ import annotations

from flask import Blueprint

from . import runtime
from .auth import require

bp = Blueprint("model_info", __name__)


@bp.get("/v1/model")
@require("site")  # anyone with a token, the website's key included
def active_model():
    """Describe the model this instance scores with, and the thresholds in force."""
    state = runtime().models.state
    metadata = state.active.metadata
    return {
        "version": state.active.version,
        "created_at": metadata["created_at"],
        "features_version": metadata["features_version"],
        "thresholds": {**state.thresholds.bounds.as_dict(),
                       "by_language": {lang: bounds.as_dict() for lang, bounds in state.thresholds.by_language.items()},
                       "approve_unfamiliar": state.thresholds.approve_unfamiliar},
        "model_thresholds": metadata["thresholds"],
        "known_languages": sorted(state.active.known_languages or []),
        "shadow": state.shadow.version if state.shadow else None,
        "params": metadata.get("params", {}),
        "metrics": metadata.get("metrics", {}),
        "data": metadata.get("data", {}),
        "environment": metadata.get("environment", {}),
    }
