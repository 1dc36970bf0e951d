"""Score comments with a fitted TF-IDF + linear pipeline, without scikit-learn's per-call overhead.

The pipeline's vectorizers, IDF weights and coefficients are read once, at
load time. Scoring looks up the comment's n-grams in the vocabularies and
does the TF-IDF arithmetic on the few hundred that are known with numpy.
Character n-grams of one word do not depend on its neighbours (`char_wb`),
so each word's vocabulary indices are computed once and cached. The result
equals `predict_proba` to rounding error (tested to 1e-9) and comes with the
per-n-gram contributions that explain it. `score` takes one comment (a
submission); `score_many` a batch (`POST /v1/score`, retraining's judge) as
one sparse matrix per block, with the same result for every comment.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np

from model_training.features import WORD_TOKEN_PATTERN

# Words whose character n-gram indices are kept; the cache is emptied when full. Comment vocabularies are
# Zipfian, so most words of a new comment are already there. Only words of up to MAX_CACHED_WORD characters
# are kept, which bounds an entry to a few hundred bytes and the cache to about 35 MB per worker whatever
# the input (a long "word" of known n-grams would otherwise hold 16 bytes per character).
WORD_CACHE_SIZE = 50_000
MAX_CACHED_WORD = 32
_INDEX = np.dtype(np.int32)


@dataclass(frozen=True)
class _Block:
    """One vectorizer of the feature union, flattened for fast lookup."""

    name: str
    analyzer: object
    vocabulary: dict
    idf: np.ndarray
    coef: np.ndarray
    names: list  # vocabulary index -> n-gram
    sublinear_tf: bool
    per_word: bool  # char_wb: a word's n-grams do not depend on the rest of the text
    cache: dict = field(default_factory=dict)  # word -> (known indices, number of n-grams)

    def indices(self, normalized: str) -> tuple[np.ndarray, int]:
        """The vocabulary indices of the text's known n-grams (with repeats), and how many n-grams it has."""
        if not self.per_word:
            grams = self.analyzer(normalized)
            return self._known(grams), len(grams)
        parts, total = [], 0
        cache = self.cache
        for word in normalized.split():
            entry = cache.get(word)
            if entry is None:
                grams = self.analyzer(word)
                entry = (self._known(grams).tobytes(), len(grams))
                if len(word) <= MAX_CACHED_WORD:
                    if len(cache) >= WORD_CACHE_SIZE:
                        cache.clear()
                    cache[word] = entry
            parts.append(entry[0])
            total += entry[1]
        return np.frombuffer(b"".join(parts), dtype=_INDEX), total

    def tfidf(self, grams: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """The TF-IDF values (before normalisation) of n-grams counted `counts` times."""
        tf = np.where(counts > 1, 1.0 + np.log(counts), counts) if self.sublinear_tf else counts.astype(float)
        return tf * self.idf[grams]

    def largest(self, grams: np.ndarray, weighted: np.ndarray, explain: int | None) -> list:
        """This block's `explain` largest contributions (None: all; 0: none), in any order."""
        if explain == 0:
            return []
        magnitude = np.abs(weighted)
        if explain is None or explain >= len(weighted):
            top = np.argsort(-magnitude)
        else:  # in any order: they are sorted with the other blocks' by _ranked
            top = np.argpartition(-magnitude, explain - 1)[:explain]
        return [(self.name, self.names[grams[j]], float(weighted[j])) for j in top]

    def _known(self, grams: list) -> np.ndarray:
        return np.array([i for i in map(self.vocabulary.get, grams) if i is not None], dtype=_INDEX)


_WORD_RE = re.compile(WORD_TOKEN_PATTERN)
_NOT_WORD_RE = re.compile(r"\W")


@dataclass
class Score:
    """A spam probability and what produced it."""

    probability: float
    decision_value: float
    normalized: str = ""
    contributions: list = field(default_factory=list)  # (block, n-gram, contribution), largest |c| first; top only
    known_share: dict = field(default_factory=dict)  # block -> share of n-gram occurrences in the vocabulary

    def top_features(self, limit: int = 8) -> list[dict]:
        """Return the n-grams that moved the score most, with their signed weights."""
        return [
            {"feature": gram, "kind": block, "weight": round(value, 4)}
            for block, gram, value in self.contributions[:limit]
        ]

    def word_weights(self) -> dict[str, float]:
        """Each word of the normalised text with its share of the decision value (needs every contribution).

        A word n-gram's weight is shared by its words; a character n-gram's
        (they never cross a word's edge) by the words it occurs in, read
        without its padding and punctuation. The intercept, which every text
        starts from, is shared equally, so the weights add up to the decision
        value and a word's sign says on which side of the boundary it pulls.
        """
        weights = dict.fromkeys(_WORD_RE.findall(self.normalized), 0.0)
        if not weights:
            return weights
        attributed = 0.0
        for block, gram, value in self.contributions:
            if block == "word":
                parts = [p for p in gram.split() if p in weights]
            else:
                core = _NOT_WORD_RE.sub("", gram)
                parts = [w for w in weights if core and core in w]
            for part in parts:
                weights[part] += value / len(parts)
                attributed += value / len(parts)
        share = (self.decision_value - attributed) / len(weights)  # the intercept, and what matched no word
        return {word: weight + share for word, weight in weights.items()}


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


class LinearScorer:
    """Fast equivalent of `pipeline.predict_proba(...)[:, 1]` for the pipelines `build_pipeline` makes."""

    def __init__(self, normalize, blocks: list[_Block], intercept: float):
        self.normalize = normalize
        self.blocks = blocks
        self.intercept = intercept

    @classmethod
    def from_pipeline(cls, pipeline) -> LinearScorer:
        """Flatten a fitted Pipeline(normalize, features=FeatureUnion(vectorizers), clf=LogisticRegression)."""
        normalize = pipeline.named_steps["normalize"].func
        union = pipeline.named_steps["features"]
        clf = pipeline.named_steps["clf"]
        coef = np.asarray(clf.coef_[0], dtype=np.float64)
        blocks, offset = [], 0
        for name, vectorizer in union.transformer_list:
            if vectorizer.norm != "l2" or not vectorizer.use_idf:
                raise ValueError(f"vectorizer {name!r} must use idf and l2 normalisation")
            size = len(vectorizer.vocabulary_)
            names = [""] * size
            for gram, index in vectorizer.vocabulary_.items():
                names[index] = gram
            blocks.append(
                _Block(
                    name=name,
                    analyzer=vectorizer.build_analyzer(),
                    vocabulary=vectorizer.vocabulary_,
                    idf=np.asarray(vectorizer.idf_, dtype=np.float64),
                    coef=coef[offset:offset + size],
                    names=names,
                    sublinear_tf=vectorizer.sublinear_tf,
                    per_word=vectorizer.analyzer == "char_wb",
                )
            )
            offset += size
        if offset != len(coef):
            raise ValueError("the classifier's coefficients do not match the vectorizers' vocabularies")
        return cls(normalize, blocks, float(clf.intercept_[0]))

    def score(self, text: str, *, explain: int | None = 8, normalized: str | None = None) -> Score:
        """Return the spam probability of one raw comment text.

        `explain` is how many of the largest contributions to keep (None: all, 0: none).
        `normalized` is the text already normalised by the same features version, if the caller has it.
        """
        if normalized is None:
            normalized = self.normalize([text])[0]
        decision = self.intercept
        contributions = []
        known_share = {}
        for block in self.blocks:
            indices, total = block.indices(normalized)
            known_share[block.name] = len(indices) / total if total else 0.0
            if not len(indices):
                continue
            grams, counts = np.unique(indices, return_counts=True)
            values = block.tfidf(grams, counts)
            weighted = values * block.coef[grams] / math.sqrt(float(values @ values))
            decision += float(weighted.sum())
            contributions += block.largest(grams, weighted, explain)
        return Score(_sigmoid(decision), decision, normalized, _ranked(contributions, explain), known_share)

    def score_many(self, normalized: list[str], *, explain: int | None = 8) -> list[Score]:
        """Score a batch of normalised texts: per block, one sparse TF-IDF matrix and one product for them all.

        The matrix is held as (row, n-gram, count) arrays sorted by row and
        n-gram, as `score` sorts one text's n-grams, so every row gets the
        same arithmetic and the same explanation as `score` would give it.
        """
        n = len(normalized)
        decision = np.full(n, self.intercept)
        known_share = [{} for _ in range(n)]
        contributions = [[] for _ in range(n)]
        for block in self.blocks:
            found = [block.indices(text) for text in normalized]
            for share, (indices, total) in zip(known_share, found, strict=True):
                share[block.name] = len(indices) / total if total else 0.0
            lengths = np.fromiter((len(indices) for indices, _ in found), dtype=np.int64, count=n)
            if not lengths.any():
                continue
            size = len(block.idf)
            cells = np.repeat(np.arange(n, dtype=np.int64) * size, lengths) + np.concatenate([i for i, _ in found])
            cells, counts = np.unique(cells, return_counts=True)
            rows, grams = np.divmod(cells, size)
            values = block.tfidf(grams, counts)
            weighted = values * block.coef[grams] / np.sqrt(np.bincount(rows, values * values, minlength=n))[rows]
            decision += np.bincount(rows, weighted, minlength=n)
            if explain != 0:
                bounds = np.searchsorted(rows, np.arange(n + 1)).tolist()
                for row in np.flatnonzero(lengths).tolist():
                    part = slice(bounds[row], bounds[row + 1])
                    contributions[row] += block.largest(grams[part], weighted[part], explain)
        return [Score(_sigmoid(value), value, text, _ranked(explained, explain), share)
                for value, text, explained, share in zip(decision.tolist(), normalized, contributions, known_share,
                                                         strict=True)]


def _ranked(contributions: list, explain: int | None) -> list:
    """The blocks' candidate contributions merged, largest |c| first, `explain` of them (None: all)."""
    contributions.sort(key=lambda c: abs(c[2]), reverse=True)
    return contributions if explain is None else contributions[:explain]
