"""What a moderator sees of why the model scored a comment: the words that weighed most, never fragments.

The model's features are word and character n-grams of the normalised text;
here they are summed back onto whole words (Score.word_weights), and common
words of French and English ("et", "de", "the": the `stop-words` package's
lists) are left out, since a word a person would never judge a comment by
explains nothing, whatever its weight.
"""

from __future__ import annotations

import functools

from stop_words import get_stop_words

from model_training.features import SIGNAL_TOKENS, fold_accents

from .model import LoadedModel

WORDS_SHOWN = 6
MIN_WEIGHT = 0.05  # smaller contributions do not move a score a person would notice


@functools.cache
def stop_words() -> frozenset:
    """French and English stop words, folded as the normalised text is (no accents, lower case)."""
    return frozenset(fold_accents(w.casefold()) for lang in ("fr", "en") for w in get_stop_words(lang))


def weighty_words(model: LoadedModel, text: str, limit: int = WORDS_SHOWN) -> list[dict]:
    """The words (and link or contact signals) that moved the model's score most, with their signed weights."""
    return weighty_words_many(model, [text], limit)[0]


def weighty_words_many(model: LoadedModel, texts: list[str], limit: int = WORDS_SHOWN) -> list[list[dict]]:
    """weighty_words for each of the texts, scored together (a page of the review queue in one batch)."""
    scores = model.scorer.score_many(model.scorer.normalize(texts), explain=None)
    return [_chosen(score.word_weights(), limit) for score in scores]


def _chosen(weights: dict[str, float], limit: int) -> list[dict]:
    common = stop_words()
    chosen = [(word, weight) for word, weight in weights.items()
              if abs(weight) >= MIN_WEIGHT and (word in SIGNAL_TOKENS or (word not in common and len(word) > 1))]
    chosen.sort(key=lambda item: abs(item[1]), reverse=True)
    return [{"word": word, "weight": round(weight, 3), "signal": word in SIGNAL_TOKENS}
            for word, weight in chosen[:limit]]
