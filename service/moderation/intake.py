"""The submission use case: score, decide, store, and say what happened."""

from __future__ import annotations

from dataclasses import dataclass

from model_training.features import UNDETERMINED, URL_TOKEN, detect_language, normalize_text

from ..clock import iso
from ..storage import comments
from .guard import Guard
from .model import LoadedModel
from .policy import Decision, Thresholds, decide
from .registry import ModelState
from .rules import combine
from .scorer import Score

FEATURES_SHOWN = 8


def language_of(text: str, declared: str | None) -> str:
    """The comment's language: detected from its words, else the primary tag the website declared."""
    detected = detect_language(text)
    if detected != UNDETERMINED or not declared:
        return detected
    return declared.split("-", 1)[0].lower()


@dataclass(frozen=True)
class Assessment:
    """What the model and the policy make of one comment."""

    score: Score
    decision: Decision
    language: str


def warm_up() -> None:
    """Load the language model and phone-number metadata now (in gunicorn's master, shared by the workers)
    rather than in each worker's first request, which would take a second."""
    detect_language("Merci pour cet article, thank you for the article.")
    normalize_text("Appelez le +221 77 123 45 67 ou le 07 07 07 07 07, https://www.rfi.fr")


def normalized_text(submission: dict, thresholds: Thresholds) -> str:
    """The submission's text as every loaded model sees it (they all share one features version)."""
    return normalize_text(submission["text"], trusted=thresholds.trusted_domains)


def score_without_links(model: LoadedModel, thresholds: Thresholds, submission: dict, score: Score,
                        language: str) -> float | None:
    """The score of the text with its links removed, when a link could be what pushes it to rejection."""
    _, reject_at = thresholds.for_language(language)
    if score.probability < reject_at or URL_TOKEN not in score.normalized.split():
        return None
    bare = normalize_text(submission["text"], trusted=thresholds.trusted_domains, keep_links=False)
    return model.scorer.score(submission["text"], explain=0, normalized=bare).probability


def judge(model: LoadedModel, thresholds: Thresholds, submission: dict, score: Score, language: str,
          hits=()) -> Assessment:
    """Decide a scored submission's status within the bounds the rule hits set."""
    decision = decide(score, thresholds, language=language, known_languages=model.known_languages,
                      without_links=score_without_links(model, thresholds, submission, score, language))
    status, reasons = combine(decision.status, decision.reasons, list(hits))
    return Assessment(score, Decision(status, reasons), language)


def assess(model: LoadedModel, thresholds: Thresholds, submission: dict, hits=(),
           normalized: str | None = None) -> Assessment:
    """Score a validated submission and decide its status within the bounds the rule hits set."""
    if normalized is None:
        normalized = normalized_text(submission, thresholds)
    score = model.scorer.score(submission["text"], explain=FEATURES_SHOWN, normalized=normalized)
    return judge(model, thresholds, submission, score, language_of(submission["text"], submission.get("lang")), hits)


@dataclass(frozen=True)
class Scores:
    """What the active model, and the shadow model if any, make of one text, and its language (found once)."""

    active: Score
    shadow: Score | None
    language: str


def score_all(state: ModelState, submission: dict, normalized: str) -> Scores:
    """Score a submission with the active model and the shadow model."""
    def score(model):
        return model.scorer.score(submission["text"], explain=FEATURES_SHOWN, normalized=normalized)
    return Scores(score(state.active), score(state.shadow) if state.shadow is not None else None,
                  language_of(submission["text"], submission.get("lang")))


def new_record(state: ModelState, submission: dict, scores: Scores, hits) -> tuple[dict, dict, dict | None]:
    """Build a new comment's record, its first history event and the shadow verdict (or None)."""
    result = judge(state.active, state.thresholds, submission, scores.active, scores.language, hits)
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
    if scores.shadow is not None:
        verdict = judge(state.shadow, state.shadow_thresholds, submission, scores.shadow, scores.language, hits)
        shadow = {"version": state.shadow.version, "score": round(verdict.score.probability, 6),
                  "status": verdict.decision.status, "active_score": record["score"], "active_status": record["status"]}
        record["shadow"] = {k: shadow[k] for k in ("version", "score", "status")}
    event = {"at": now, "event": "created", "by": "system", "status": record["status"],
             "score": record["score"], "model_version": state.active.version}
    return record, event, shadow


def submit(client, guard: Guard, state: ModelState, submission: dict, *, ip: str | None, site: str | None,
           keep_rejected_ms: int = 0) -> dict:
    """Admit, score, decide and store one validated submission (and its shadow verdict); return the record.

    The decision is made first without the duplicate signals and handed to
    the admission script, which stores it in the same Redis round trip when
    the text is new. Only a repeated or near-repeated text, whose rules can
    change the decision, takes a second round trip. Limits raise
    RateLimitedError (429) and store nothing.
    """
    normalized = normalized_text(submission, state.thresholds)  # once, for the duplicate detector and every model
    scores = score_all(state, submission, normalized)
    record, event, shadow = new_record(state, submission, scores, guard.rules(submission))
    admission = guard.admit(submission, ip=ip, site=site, normalized=normalized,
                            store=comments.store_request(record, event, keep_rejected_ms=keep_rejected_ms,
                                                         shadow=shadow))
    if not admission.stored:
        record, event, shadow = new_record(state, submission, scores, guard.rules(submission, admission))
        comments.save_new(client, record, event, keep_rejected_ms=keep_rejected_ms, shadow=shadow)
    return record
