"""Turn a spam probability and what the model knows of the text into approve / review / reject, with reasons."""

from __future__ import annotations

from dataclasses import dataclass

from model_training.features import UNDETERMINED

from .scorer import Score

# Below this share of known word n-grams the model is reading a language or
# style it has barely seen (French comments against an English-only model sit
# near 0.1, English comments near 0.7): it may flag for review, never auto-reject.
MIN_KNOWN_WORD_SHARE = 0.35


@dataclass(frozen=True)
class Thresholds:
    """score < approve_below: approved; score >= reject_at: rejected; between: pending review."""

    approve_below: float
    reject_at: float


@dataclass(frozen=True)
class Decision:
    """The outcome for one comment."""

    status: str
    reasons: list


def reason(code: str, message: str, **extra) -> dict:
    """Build one entry of a decision's `reasons`."""
    return {"code": code, "message": message, **extra}


def unfamiliarity(score: Score, language: str, known_languages: frozenset | None) -> list[dict]:
    """Return the reasons the model cannot be trusted to auto-reject this text (empty when it can)."""
    reasons = []
    if known_languages is not None and language != UNDETERMINED and language not in known_languages:
        reasons.append(reason("unfamiliar_language",
                              f"The text looks {language!r}, a language the model was not trained on, "
                              "so it is not rejected automatically.", language=language))
    known = score.known_share.get("word", 1.0)
    if known < MIN_KNOWN_WORD_SHARE:
        reasons.append(reason("unfamiliar_text",
                              f"Only {known:.0%} of its words are known to the model, "
                              "so it is not rejected automatically.", known_word_share=round(known, 3)))
    return reasons


def decide(score: Score, thresholds: Thresholds, *, language: str = UNDETERMINED,
           known_languages: frozenset | None = None) -> Decision:
    """Apply the thresholds; text in an unseen language or style is held for review instead of auto-rejected."""
    p = score.probability
    if p >= thresholds.reject_at:
        high = reason("model_score_high", f"Spam probability {p:.3f} is at or above {thresholds.reject_at:.3f}.")
        doubts = unfamiliarity(score, language, known_languages)
        return Decision("pending", [high, *doubts]) if doubts else Decision("rejected", [high])
    if p < thresholds.approve_below:
        return Decision("approved", [
            reason("model_score_low", f"Spam probability {p:.3f} is below {thresholds.approve_below:.3f}.")])
    return Decision("pending", [
        reason("model_score_uncertain",
               f"Spam probability {p:.3f} is between {thresholds.approve_below:.3f} and {thresholds.reject_at:.3f}.")])
