"""The submission use case: score, decide, store, and say what happened."""

from __future__ import annotations

from dataclasses import dataclass

from model_training.features import UNDETERMINED, detect_language, normalize_text

from ..clock import iso
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


def normalized_text(submission: dict) -> str:
    """The submission's text as every loaded model sees it (they all share one features version)."""
    return normalize_text(submission["text"])


def assess(model: LoadedModel, thresholds: Thresholds, submission: dict, hits=(),
           normalized: str | None = None) -> Assessment:
    """Score a validated submission and decide its status within the bounds the rule hits set."""
    score = model.scorer.score(submission["text"], explain=FEATURES_SHOWN, normalized=normalized)
    language = language_of(score, submission.get("lang"))
    decision = decide(score, thresholds, language=language, known_languages=model.known_languages)
    status, reasons = combine(decision.status, decision.reasons, list(hits))
    return Assessment(score, Decision(status, reasons), language)


def submit(client, state: ModelState, submission: dict, *, hits=(), keep_rejected_ms: int = 0,
           normalized: str | None = None) -> dict:
    """Score, decide and store one validated submission (and its shadow verdict); return the stored record."""
    normalized = normalized_text(submission) if normalized is None else normalized
    result = assess(state.active, state.thresholds, submission, hits, normalized)
    now = iso()
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
        verdict = assess(state.shadow, state.shadow_thresholds, submission, hits, normalized)
        shadow = {"version": state.shadow.version, "score": round(verdict.score.probability, 6),
                  "status": verdict.decision.status, "active_score": record["score"], "active_status": record["status"]}
        record["shadow"] = {k: shadow[k] for k in ("version", "score", "status")}
    event = {"at": now, "event": "created", "by": "system", "status": record["status"],
             "score": record["score"], "model_version": state.active.version}
    comments.save_new(client, record, event, keep_rejected_ms=keep_rejected_ms, shadow=shadow)
    return record
