"""Turn a spam probability and what the model knows of the text into approve / review / reject, with reasons."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from model_training.features import TRUSTED_DOMAINS
from model_training.language import UNDETERMINED

from .rules import Hit
from .scorer import Score

# Below this share of known word n-grams the model is reading a language or
# style it has barely seen (French comments against an English-only model sit
# near 0.1, English comments near 0.7): its score alone does not decide.
MIN_KNOWN_WORD_SHARE = 0.35


class Bounds(NamedTuple):
    """The thresholds one comment is judged by (its language's own, or the model's)."""

    approve_below: float
    reject_at: float
    approve_parts_below: float | None = None  # for texts of several sentences; None: judged like the others

    def as_dict(self) -> dict:
        """As the API and the model's metadata name them (approve_parts_below only where there is one)."""
        return {name: value for name, value in self._asdict().items() if value is not None}


@dataclass(frozen=True)
class Thresholds:
    """score < approve_below: approved; score >= reject_at: rejected; between: pending review.

    A text of several sentences is approved only when neither it nor any of
    its sentence tails score `approve_parts_below` or more (models trained
    before that rule have none, and judge it by its whole score).
    A text in a language or style the model has not learned is never
    auto-rejected, and is auto-approved only when `approve_unfamiliar` is set:
    a low score on words the model does not know is no evidence of ham.
    Links to `trusted_domains` count as sources, not as spam evidence.
    """

    approve_below: float
    reject_at: float
    approve_parts_below: float | None = None
    approve_unfamiliar: bool = False
    trusted_domains: frozenset = TRUSTED_DOMAINS
    by_language: dict = field(default_factory=dict)  # language -> Bounds of its own

    @property
    def bounds(self) -> Bounds:
        """The Bounds of every language without its own."""
        return Bounds(self.approve_below, self.reject_at, self.approve_parts_below)

    def for_language(self, language: str) -> Bounds:
        """The Bounds that apply to a comment in this language."""
        return self.by_language.get(language) or self.bounds


@dataclass(frozen=True)
class Decision:
    """The outcome for one comment."""

    status: str
    reasons: list


def distinct(*values: float) -> list[str]:
    """Format numbers with 3 decimals, or as many more (up to 9) as it takes for unequal ones to read unequal."""
    for digits in range(3, 10):
        shown = [f"{v:.{digits}f}" for v in values]
        if len(set(shown)) == len(set(values)):  # equal numbers always read equal: no two unequal ones read alike
            return shown
    return shown


def reason(code: str, message: str, **extra) -> dict:
    """Build one entry of a decision's `reasons`."""
    return {"code": code, "message": message, **extra}


def unfamiliarity(score: Score, language: str, known_languages: frozenset | None) -> list[dict]:
    """Return the reasons the model cannot be trusted to auto-reject this text (empty when it can)."""
    reasons = []
    if known_languages is not None and language != UNDETERMINED and language not in known_languages:
        reasons.append(reason("unfamiliar_language",
                              f"The text looks {language!r}, a language the model was not trained on, "
                              "so its score alone does not decide.", language=language))
    known = score.known_share.get("word", 1.0)
    if known < MIN_KNOWN_WORD_SHARE:
        reasons.append(reason("unfamiliar_text",
                              f"Only {known:.0%} of its words are known to the model, "
                              "so its score alone does not decide.", known_word_share=round(known, 3)))
    return reasons


def model_decision(score: Score, thresholds: Thresholds, *, language: str = UNDETERMINED,
                   known_languages: frozenset | None = None, without_links: float | None = None,
                   parts: float | None = None) -> Decision:
    """Apply the thresholds; text in an unseen language or style is held for review instead of auto-decided.

    `parts` is the highest score among the text's sentence tails (the whole
    text's may be counted in; None when it is one sentence): a comment that
    opens on the article and makes its offer after it is approved only when
    that offer scores low too.
    `without_links` is the score of the text with its links removed, when it
    has any (its highest part, for a text of several sentences): a comment
    whose words alone would be approved is not rejected for a link alone,
    but held for a person.
    """
    p = score.probability
    bounds = thresholds.for_language(language)
    by_parts = parts is not None and bounds.approve_parts_below is not None  # else judged whole, as before the rule
    judged, approve_below = (max(p, parts), bounds.approve_parts_below) if by_parts else (p, bounds.approve_below)
    doubts = unfamiliarity(score, language, known_languages)
    if p >= bounds.reject_at:
        shown_p, shown_t = distinct(p, bounds.reject_at)
        high = reason("model_score_high", f"Spam probability {shown_p} is at or above {shown_t}.")
        if without_links is not None and without_links < approve_below:
            doubts.append(reason("link_only_evidence",
                                 f"Without its link the text scores {without_links:.3f}, like a legitimate comment: "
                                 "a link alone does not reject it.", score_without_links=round(without_links, 6)))
        return Decision("pending", [high, *doubts]) if doubts else Decision("rejected", [high])
    if judged < approve_below:
        if not by_parts:
            shown_p, shown_t = distinct(p, approve_below)
            message = f"Spam probability {shown_p} is below {shown_t}."
        else:
            shown_p, shown_t, shown_part = distinct(p, approve_below, judged)
            message = (f"Spam probability {shown_p} is below {shown_t}, as is each part of the text from a later "
                       f"sentence on (at most {shown_part}).")
        low = reason("model_score_low", message)
        if doubts and not thresholds.approve_unfamiliar:
            return Decision("pending", [low, *doubts])
        return Decision("approved", [low])
    if p < approve_below:  # the whole text would pass, but a later part of it reads as spam
        shown_p, shown_t, shown_part = distinct(p, approve_below, judged)
        return Decision("pending", [
            reason("model_part_score_high",
                   f"Spam probability {shown_p} is below {shown_t}, but from one of its later sentences on "
                   f"the text scores {shown_part}: what follows its opening may be an offer.",
                   part_score=round(judged, 6)),
            *doubts])
    shown_low, shown_p, shown_high = distinct(approve_below, p, bounds.reject_at)
    return Decision("pending", [
        reason("model_score_uncertain", f"Spam probability {shown_p} is between {shown_low} and {shown_high}."),
        *doubts])


def within_rules(decision: Decision, hits: list[Hit]) -> Decision:
    """The one policy: reject rules win, then allow lists, then review floors, then the model's decision."""
    reasons = [h.as_reason() for h in hits] + decision.reasons
    effects = {h.effect for h in hits}
    if "reject" in effects:
        return Decision("rejected", reasons)
    if "approve" in effects:
        return Decision("approved", reasons)
    if "review" in effects and decision.status == "approved":
        return Decision("pending", reasons)
    return Decision(decision.status, reasons)
