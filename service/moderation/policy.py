"""Turn a spam probability and what the model knows of the text into approve / review / reject, with reasons."""

from __future__ import annotations

from dataclasses import dataclass

from model_training.features import UNDETERMINED

from .scorer import Score

# Below this share of known word n-grams the model is reading a language or
# style it has barely seen (French comments against an English-only model sit
# near 0.1, English comments near 0.7): its score alone does not decide.
MIN_KNOWN_WORD_SHARE = 0.35


@dataclass(frozen=True)
class Thresholds:
    """score < approve_below: approved; score >= reject_at: rejected; between: pending review.

    A text in a language or style the model has not learned is never
    auto-rejected, and is auto-approved only when `approve_unfamiliar` is set:
    a low score on words the model does not know is no evidence of ham.
    """

    approve_below: float
    reject_at: float
    approve_unfamiliar: bool = False


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
                              "so its score alone does not decide.", language=language))
    known = score.known_share.get("word", 1.0)
    if known < MIN_KNOWN_WORD_SHARE:
        reasons.append(reason("unfamiliar_text",
                              f"Only {known:.0%} of its words are known to the model, "
                              "so its score alone does not decide.", known_word_share=round(known, 3)))
    return reasons


def decide(score: Score, thresholds: Thresholds, *, language: str = UNDETERMINED,
           known_languages: frozenset | None = None) -> Decision:
    """Apply the thresholds; text in an unseen language or style is held for review instead of auto-decided."""
    p = score.probability
    doubts = unfamiliarity(score, language, known_languages)
    if p >= thresholds.reject_at:
        high = reason("model_score_high", f"Spam probability {p:.3f} is at or above {thresholds.reject_at:.3f}.")
        return Decision("pending", [high, *doubts]) if doubts else Decision("rejected", [high])
    if p < thresholds.approve_below:
        low = reason("model_score_low", f"Spam probability {p:.3f} is below {thresholds.approve_below:.3f}.")
        if doubts and not thresholds.approve_unfamiliar:
            return Decision("pending", [low, *doubts])
        return Decision("approved", [low])
    return Decision("pending", [
        reason("model_score_uncertain",
               f"Spam probability {p:.3f} is between {thresholds.approve_below:.3f} and {thresholds.reject_at:.3f}."),
        *doubts])
