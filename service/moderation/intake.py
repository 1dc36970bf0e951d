"""The submission use case: score, decide, store, and say what happened."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from model_training.features import UNDETERMINED, detect_language

from ..storage import comments
from .model import LoadedModel
from .policy import Decision, Thresholds, decide
from .registry import ModelState
from .rules import combine
from .scorer import Score

FEATURES_SHOWN = 8


def language_of(score: Score, declared: str | None) -> str:
    """The comment's language: detected from its words, else the primary tag the website declared."""
    detected = detect_language(score.normalized)
    if detected != UNDETERMINED or not declared:
        return detected
    return declared.split("-", 1)[0].lower()


@dataclass(frozen=True)
class Assessment:
    """What the model and the policy make of one comment."""

    score: Score
    decision: Decision
    language: str


def assess(model: LoadedModel, thresholds: Thresholds, submission: dict, hits=()) -> Assessment:
    """Score a validated submission and decide its status within the bounds the rule hits set."""
    score = model.scorer.score(submission["text"], explain=FEATURES_SHOWN)
    language = language_of(score, submission.get("lang"))
    decision = decide(score, thresholds, language=language, known_languages=model.known_languages)
    status, reasons = combine(decision.status, decision.reasons, list(hits))
    return Assessment(score, Decision(status, reasons), language)


def utc_now() -> str:
    """Return the current UTC time as ISO 8601 with milliseconds."""
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds")


def submit(client, state: ModelState, submission: dict, *, hits=(), keep_rejected_ms: int = 0) -> dict:
    """Score, decide and store one validated submission (and its shadow verdict); return the stored record."""
    result = assess(state.active, state.thresholds, submission, hits)
    now = utc_now()
    record = {
        "id": comments.new_comment_id(),
        "status": result.decision.status,
        "auto_status": result.decision.status,
        "score": round(result.score.probability, 6),
        "model_version": state.active.version,
        "language": result.language,
        "reasons": result.decision.reasons,
        "features": result.score.top_features(FEATURES_SHOWN),
        "submission": submission,
        "created_at": now,
        "updated_at": now,
    }
    shadow = None
    if state.shadow is not None:
        verdict = assess(state.shadow, state.shadow_thresholds, submission, hits)
        shadow = {"version": state.shadow.version, "score": round(verdict.score.probability, 6),
                  "status": verdict.decision.status, "active_score": record["score"], "active_status": record["status"]}
        record["shadow"] = {k: shadow[k] for k in ("version", "score", "status")}
    event = {"at": now, "event": "created", "by": "system", "status": record["status"],
             "score": record["score"], "model_version": state.active.version}
    comments.save_new(client, record, event, keep_rejected_ms=keep_rejected_ms, shadow=shadow)
    return record
