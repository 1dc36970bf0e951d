"""The submission use case: score, decide, admit and store, and say what happened."""

from __future__ import annotations

from dataclasses import dataclass

from model_training.features import URL_TOKEN, normalize_text, sentence_tails
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
    if score.probability < thresholds.for_language(language).reject_at or URL_TOKEN not in score.normalized.split():
        return None
    return normalize_text(submission["text"], trusted=thresholds.trusted_domains, keep_links=False)


@dataclass(frozen=True)
class Judged:
    """A normalised text the policy judges, with its score and the approve-below its parts are held to (None:
    the text is judged whole, not by its parts)."""

    normalized: str
    score: float
    approve_parts_below: float | None


def highest_parts(model: LoadedModel, texts: list[Judged]) -> list[float | None]:
    """For each text of several sentences held to an approve-parts-below, the highest score among it and its
    sentence tails; None for the others (judged whole).

    The tails are scored only where they can change the outcome: a text
    already at or above its threshold gets its own score, which rules
    approval out as surely. The tails of every text are scored together.
    """
    out: list[float | None] = [None] * len(texts)
    tails, owners = [], []
    for i, text in enumerate(texts):
        if text.approve_parts_below is None:
            continue
        own = sentence_tails(text.normalized)
        if own:
            out[i] = text.score
            if text.score < text.approve_parts_below:
                tails += own
                owners += [i] * len(own)
    for i, probability in zip(owners, model.scorer.probabilities(tails), strict=True):
        out[i] = max(out[i], probability)
    return out


def model_verdicts(model: LoadedModel, thresholds: Thresholds, submissions: list[dict], scores: list[Score],
                   languages: list[str]) -> list[Decision]:
    """What one model's scores decide for submissions, before the rules bound them.

    Around the scores, what the policy needs: the highest part of texts of
    several sentences, and the score without links (its highest part too)
    of a text its link could reject. Each of these is scored as one batch.
    """
    bounds = [thresholds.for_language(language) for language in languages]
    parts = highest_parts(model, [Judged(s.normalized, s.probability, b.approve_parts_below)
                                  for s, b in zip(scores, bounds, strict=True)])
    bare = [link_free_text(thresholds, *args) for args in zip(submissions, scores, languages, strict=True)]
    linked = [i for i, text in enumerate(bare) if text is not None]
    wholes = model.scorer.probabilities([bare[i] for i in linked])
    # The link-free text of a comment judged by its parts is judged by its parts too.
    held_to = [bounds[i].approve_parts_below if parts[i] is not None else None for i in linked]
    bare_parts = highest_parts(model, [Judged(bare[i], whole, below)
                                       for i, whole, below in zip(linked, wholes, held_to, strict=True)])
    without_links: list[float | None] = [None] * len(scores)
    for i, whole, part in zip(linked, wholes, bare_parts, strict=True):
        without_links[i] = whole if part is None else part
    return [model_decision(score, thresholds, language=language, known_languages=model.known_languages,
                           without_links=bare_score, parts=part)
            for score, language, bare_score, part in zip(scores, languages, without_links, parts, strict=True)]


def scored_verdict(model: LoadedModel, thresholds: Thresholds, submission: dict, normalized: str,
                   language: str) -> tuple[Score, Decision]:
    """One model's score of a submission (with its explanation) and what that score decides."""
    score = model.scorer.score(submission["text"], explain=FEATURES_SHOWN, normalized=normalized)
    return score, model_verdicts(model, thresholds, [submission], [score], [language])[0]


def preview(state: ModelState, submissions: list[dict], hits: list[list[Hit]], *,
            explain: int = FEATURES_SHOWN) -> list[Assessment]:
    """The decisions validated submissions would get as new texts, each within its rules' hits (nothing stored).

    The batch is scored at once (`LinearScorer.score_many`), with `explain`
    contributions each (0: none), and so are the texts the policy scores
    around them (sentence tails, texts without their links).
    """
    model, thresholds = state.active, state.thresholds
    scores = model.scorer.score_many([normalized_text(s, thresholds) for s in submissions], explain=explain)
    languages = [language_of(detected, s.get("lang"))
                 for detected, s in zip(detect_languages([s["text"] for s in submissions]), submissions, strict=True)]
    verdicts = model_verdicts(model, thresholds, submissions, scores, languages)
    return [Assessment(score, within_rules(verdict, bounds), language)
            for score, verdict, language, bounds in zip(scores, verdicts, languages, hits, strict=True)]


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
