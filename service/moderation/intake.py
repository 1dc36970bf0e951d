"""The submission use case: score, decide, admit and store, and say what happened."""

from __future__ import annotations

from dataclasses import dataclass

from model_training.features import URL_TOKEN, normalize_text
from model_training.language import UNDETERMINED, detect_language, detect_languages, load_identifier

from ..clock import iso
from ..storage import comments
from ..storage.comments import NewComment, Outcome
from ..storage.tokens import StillValid
from .guard import Guard
from .model import LoadedModel
from .model_manager import ModelState
from .policy import Decision, Thresholds, model_decision, within_rules
from .rules import Hit
from .scorer import Score

FEATURES_SHOWN = 8


def language_of(detected: str, declared: str | None) -> str:
    """The comment's language: `detected` from its words, else the primary tag the website declared."""
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
    load_identifier()
    normalize_text("Appelez le +221 77 123 45 67 ou le 07 07 07 07 07, https://www.rfi.fr")


def normalized_text(submission: dict, thresholds: Thresholds) -> str:
    """The submission's text as every loaded model sees it (they all share one features version)."""
    return normalize_text(submission["text"], trusted=thresholds.trusted_domains)


def link_free_text(thresholds: Thresholds, submission: dict, score: Score, language: str) -> str | None:
    """The normalised text without its links, when a link could be what pushes it to rejection; else None."""
    _, reject_at = thresholds.for_language(language)
    if score.probability < reject_at or URL_TOKEN not in score.normalized.split():
        return None
    return normalize_text(submission["text"], trusted=thresholds.trusted_domains, keep_links=False)


def score_without_links(model: LoadedModel, thresholds: Thresholds, submission: dict, score: Score,
                        language: str) -> float | None:
    """The score of the submission's link_free_text, when it has one (one text; a batch scores them together)."""
    bare = link_free_text(thresholds, submission, score, language)
    return None if bare is None else model.scorer.score(submission["text"], explain=0, normalized=bare).probability


def model_verdict(model: LoadedModel, thresholds: Thresholds, score: Score, language: str,
                  without_links: float | None) -> Decision:
    """What one model's score decides for a submission, before the rules bound it.

    `without_links` is the score of its link_free_text, None when it has none.
    """
    return model_decision(score, thresholds, language=language, known_languages=model.known_languages,
                          without_links=without_links)


def scored_verdict(model: LoadedModel, thresholds: Thresholds, submission: dict, normalized: str,
                   language: str) -> tuple[Score, Decision]:
    """One model's score of a submission (with its explanation) and what that score decides."""
    score = model.scorer.score(submission["text"], explain=FEATURES_SHOWN, normalized=normalized)
    return score, model_verdict(model, thresholds, score, language,
                                score_without_links(model, thresholds, submission, score, language))


def preview(state: ModelState, submissions: list[dict], hits: list[list[Hit]], *,
            explain: int = FEATURES_SHOWN) -> list[Assessment]:
    """The decisions validated submissions would get as new texts, each within its rules' hits (nothing stored).

    The batch is scored at once (`LinearScorer.score_many`), with `explain`
    contributions each (0: none), and so are the texts that are rescored
    without their links.
    """
    model, thresholds = state.active, state.thresholds
    scores = model.scorer.score_many([normalized_text(s, thresholds) for s in submissions], explain=explain)
    languages = [language_of(detected, s.get("lang"))
                 for detected, s in zip(detect_languages([s["text"] for s in submissions]), submissions, strict=True)]
    bare = [link_free_text(thresholds, *args) for args in zip(submissions, scores, languages, strict=True)]
    linked = [i for i, text in enumerate(bare) if text is not None]
    rescored = model.scorer.score_many([bare[i] for i in linked], explain=0)
    without_links = dict(zip(linked, (s.probability for s in rescored), strict=True))
    assessments = []
    for i, (score, language, bounds) in enumerate(zip(scores, languages, hits, strict=True)):
        verdict = model_verdict(model, thresholds, score, language, without_links.get(i))
        assessments.append(Assessment(score, within_rules(verdict, bounds), language))
    return assessments


def submit(guard: Guard, state: ModelState, submission: dict, *, ip: str | None, site: str | None,
           expire_ms: dict[str, int] | None = None, site_check: StillValid | None = None) -> dict:
    """Score, decide, admit and store one validated submission (and its shadow verdict); return the record.

    Straight through, in one Redis round trip: the models score the text,
    the rules that need no Redis bound their verdict, and that decision is
    completed for each class of text the duplicate detector can find; the
    admission script counts the limits, classes the text and stores the
    comment with its class's outcome. A limit exceeded raises
    RateLimitedError (429) and stores nothing. `expire_ms` is how long a
    comment of each status is kept; `site_check` the site key's check that
    the same round trip confirms (a refused one raises AuthenticationError).
    """
    normalized = normalized_text(submission, state.thresholds)  # once, for the duplicate detector and every model
    language = language_of(detect_language(submission["text"]), submission.get("lang"))
    score, active = scored_verdict(state.active, state.thresholds, submission, normalized, language)
    shadow_score, shadow = (scored_verdict(state.shadow, state.shadow_thresholds, submission, normalized, language)
                            if state.shadow else (None, None))
    hits = guard.rules(submission)
    outcomes = {}
    for text_class, text_hit in guard.text_hits.items():
        bounds = [*hits, text_hit] if text_hit else hits
        decision = within_rules(active, bounds)
        outcomes[text_class] = Outcome(decision.status, decision.reasons,
                                       within_rules(shadow, bounds).status if shadow else None)
    now = iso()
    fields = {"id": comments.new_comment_id(), "score": round(score.probability, 6),
              "model_version": state.active.version, "language": language,
              "features": score.top_features(FEATURES_SHOWN), "submission": submission,
              "created_at": now, "updated_at": now}
    shadow_fields = {"version": state.shadow.version, "score": round(shadow_score.probability, 6)} if shadow else None
    comment = NewComment(fields, outcomes, shadow=shadow_fields)
    admission = guard.admit(submission, ip=ip, site=site, normalized=normalized, comment=comment,
                            expire_ms=expire_ms, site_check=site_check)
    return comment.record(admission.text_class)
