"""Turn a spam probability and the text's familiarity into approve / review / reject, with reasons."""

from __future__ import annotations

from dataclasses import dataclass

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


def decide(score: Score, thresholds: Thresholds) -> Decision:
    """Apply the thresholds; unfamiliar text is held for review instead of being auto-rejected."""
    p = score.probability
    known = score.known_share.get("word", 1.0)
    if p >= thresholds.reject_at:
        if known < MIN_KNOWN_WORD_SHARE:
            return Decision("pending", [
                reason("model_score_high", f"Spam probability {p:.3f} is at or above {thresholds.reject_at}."),
                reason("unfamiliar_text",
                       f"Only {known:.0%} of its words are known to the model, so it is not rejected automatically.",
                       known_word_share=round(known, 3)),
            ])
        return Decision("rejected", [
            reason("model_score_high", f"Spam probability {p:.3f} is at or above {thresholds.reject_at}.")])
    if p < thresholds.approve_below:
        return Decision("approved", [
            reason("model_score_low", f"Spam probability {p:.3f} is below {thresholds.approve_below}.")])
    return Decision("pending", [
        reason("model_score_uncertain",
               f"Spam probability {p:.3f} is between {thresholds.approve_below} and {thresholds.reject_at}.")])
