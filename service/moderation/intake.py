"""The submission use case: score, decide, store, and say what happened."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from model_training.features import UNDETERMINED, detect_language

from ..storage import comments
from .model import LoadedModel
from .policy import Decision, Thresholds, decide
from .scorer import Score

FEATURES_SHOWN = 8


def effective_thresholds(model: LoadedModel, approve_below: float | None, reject_at: float | None) -> Thresholds:
    """Return the model's thresholds, each overridden by the setting when one is given."""
    own = model.thresholds
    return Thresholds(
        approve_below=own["approve_below"] if approve_below is None else approve_below,
        reject_at=own["reject_at"] if reject_at is None else reject_at,
    )


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


def assess(model: LoadedModel, thresholds: Thresholds, submission: dict) -> Assessment:
    """Score a validated submission and decide its status."""
    score = model.scorer.score(submission["text"])
    language = language_of(score, submission.get("lang"))
    decision = decide(score, thresholds, language=language, known_languages=model.known_languages)
    return Assessment(score, decision, language)


def utc_now() -> str:
    """Return the current UTC time as ISO 8601 with milliseconds."""
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds")


def submit(client, model: LoadedModel, thresholds: Thresholds, submission: dict) -> dict:
    """Score, decide and store one validated submission; return the stored record."""
    result = assess(model, thresholds, submission)
    now = utc_now()
    record = {
        "id": comments.new_comment_id(),
        "status": result.decision.status,
        "score": round(result.score.probability, 6),
        "model_version": model.version,
        "language": result.language,
        "reasons": result.decision.reasons,
        "features": result.score.top_features(FEATURES_SHOWN),
        "submission": submission,
        "created_at": now,
        "updated_at": now,
    }
    event = {"at": now, "event": "created", "by": "system", "status": record["status"],
             "score": record["score"], "model_version": model.version}
    comments.save_new(client, record, event)
    return record
