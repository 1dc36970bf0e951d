"""Score comments with a fitted TF-IDF + linear pipeline, without scikit-learn's per-call overhead.

The pipeline's vectorizers, IDF weights and coefficients are read once, at
load time. Scoring looks up the comment's n-grams in the vocabularies and
does the TF-IDF arithmetic on the few hundred that are known with numpy.
Character n-grams of one word do not depend on its neighbours (`char_wb`),
so each word's vocabulary indices are computed once and cached. The result
equals `predict_proba` to rounding error (tested to 1e-9) and comes with the
per-n-gram contributions that explain it. `score` takes one comment (a
submission); `score_many` a batch (`POST /v1/score`, retraining's judge) as
one sparse matrix per block, with the same result and explanation for every
comment; it sorts only the cells that can make their text's explanation.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from model_training.features import WORD_TOKEN_PATTERN

# Words whose character n-gram indices are kept; the cache is emptied when full. Comment vocabularies are
# Zipfian, so most words of a new comment are already there. Only words of up to MAX_CACHED_WORD characters
# are kept, which bounds an entry to a few hundred bytes and the cache to about 35 MB per worker whatever
# the input (a long "word" of known n-grams would otherwise hold 16 bytes per character).
WORD_CACHE_SIZE = 50_000
MAX_CACHED_WORD = 32
_INDEX = np.dtype(np.int32)
FEATURE_DIGITS = 4  # the decimals of an explanation's weights
BATCH_FROM = 4  # texts from which `probabilities` scores them as a batch (French sentence tails: 1 takes 0.08 ms alone,
# 0.20 as a batch; 4 take 0.29 ms either way; 6, 0.45 alone and 0.42 as a batch)


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
        tf = counts.astype(float)
        if self.sublinear_tf:
            repeated = counts > 1  # most n-grams occur once, and their logarithm is not needed
            tf[repeated] = 1.0 + np.log(counts[repeated])
        return tf * self.idf[grams]

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
        chosen = self.contributions[:limit]
        return _features(chosen, [round(value, FEATURE_DIGITS) for _, _, value in chosen])

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


def rounded(values, digits: int) -> list[float]:
    """`round(v, digits)` of many floats at once, each exactly as Python rounds it.

    Python rounds the exact decimal value of a float and returns the float
    nearest the result; rint(v * 10**digits) / 10**digits picks the same
    integer, and its division returns that same nearest float, unless
    v * 10**digits lands within a rounding error of a half (or has no
    fraction left): those few take Python's round. A feature list's
    weights this way cost a fifth of rounding them one by one.
    """
    values = np.asarray(values, dtype=np.float64)
    scale = 10.0 ** digits
    with np.errstate(invalid="ignore", over="ignore"):  # NaN and infinities: unsure, below
        scaled = values * scale
        result = (np.rint(scaled) / scale).tolist()
        distance = np.abs(np.abs(scaled - np.trunc(scaled)) - 0.5)
        unsure = ~((distance > 4 * np.abs(np.spacing(scaled))) & (np.abs(scaled) < 2.0 ** 52))
    for i in np.flatnonzero(unsure).tolist():
        result[i] = round(float(values[i]), digits)
    return result


def _features(contributions: list, weights: list[float]) -> list[dict]:
    """An explanation as the API lists it: each contribution's n-gram and block, with its rounded weight."""
    return [{"feature": gram, "kind": block, "weight": weight}
            for (block, gram, _), weight in zip(contributions, weights, strict=True)]


def features_of(scores: list[Score], limit: int) -> list[list[dict]]:
    """Each score's top_features(limit), with the weights of the whole batch rounded at once (one comment's
    few weights are quicker with Python's round, which top_features keeps)."""
    chosen = [score.contributions[:limit] for score in scores]
    every = [contribution for contributions in chosen for contribution in contributions]
    listed = _features(every, rounded([value for _, _, value in every], FEATURE_DIGITS))
    bounds = [0, *itertools.accumulate(map(len, chosen))]
    return [listed[start:end] for start, end in itertools.pairwise(bounds)]


def _candidates(rows: np.ndarray, magnitude: np.ndarray, explain: int) -> np.ndarray:
    """Which cells (sorted by row) can be among their row's `explain` largest magnitudes: those at or above the
    largest fraction of their row's maximum that keeps `explain` of the row (all of it if it has fewer)."""
    starts = np.flatnonzero(np.diff(rows, prepend=-1))
    row_of = np.repeat(np.arange(len(starts)), np.diff(starts, append=len(rows)))
    largest = np.maximum.reduceat(magnitude, starts)[row_of]
    wanted = np.minimum(np.diff(starts, append=len(rows)), explain)
    floor = np.zeros(len(starts))
    settled = np.zeros(len(starts), dtype=bool)
    for fraction in (0.5, 0.2, 0.05):
        above = magnitude >= largest * fraction
        enough = ~settled & (np.add.reduceat(above, starts) >= wanted)
        floor[enough] = fraction
        settled |= enough
    return magnitude >= largest * floor[row_of]


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
        cells = []  # per block with known n-grams: (block number, n-grams, their contributions)
        known_share = {}
        for number, block in enumerate(self.blocks):
            indices, total = block.indices(normalized)
            known_share[block.name] = len(indices) / total if total else 0.0
            if not len(indices):
                continue
            grams, counts = np.unique(indices, return_counts=True)
            values = block.tfidf(grams, counts)
            weighted = values * block.coef[grams] / math.sqrt(float(values @ values))
            decision += float(weighted.sum())
            cells.append((np.full(len(grams), number), grams, weighted))
        contributions = self._largest(*map(np.concatenate, zip(*cells, strict=True)), explain) if cells else []
        return Score(_sigmoid(decision), decision, normalized, contributions, known_share)

    def score_many(self, normalized: list[str], *, explain: int | None = 8) -> list[Score]:
        """Score a batch of normalised texts: per block, one sparse TF-IDF matrix and one product for them all.

        The matrix is held as (row, n-gram, count) arrays sorted by row and
        n-gram, as `score` sorts one text's n-grams, so every row gets the
        same arithmetic and the same explanation as `score` would give it.
        """
        n = len(normalized)
        decision = np.full(n, self.intercept)
        known_share = [{} for _ in range(n)]
        cells = []  # per block with known n-grams: (block number, rows, n-grams, contributions), by row and n-gram
        for number, block in enumerate(self.blocks):
            found = [block.indices(text) for text in normalized]
            for share, (indices, total) in zip(known_share, found, strict=True):
                share[block.name] = len(indices) / total if total else 0.0
            lengths = np.fromiter((len(indices) for indices, _ in found), dtype=np.int64, count=n)
            if not lengths.any():
                continue
            # A (text, n-gram) matrix of counts: summing its duplicates sorts each row's n-grams, as `score` does.
            matrix = sp.csr_matrix((np.ones(int(lengths.sum())), np.concatenate([i for i, _ in found]),
                                    np.concatenate(([0], np.cumsum(lengths)))), shape=(n, len(block.idf)))
            matrix.sum_duplicates()
            rows, grams, counts = np.repeat(np.arange(n), np.diff(matrix.indptr)), matrix.indices, matrix.data
            values = block.tfidf(grams, counts)
            weighted = values * block.coef[grams] / np.sqrt(np.bincount(rows, values * values, minlength=n))[rows]
            decision += np.bincount(rows, weighted, minlength=n)
            cells.append((np.full(len(rows), number), rows, grams, weighted))
        contributions = self._largest_of_rows(cells, n, explain)
        return [Score(_sigmoid(value), value, text, explained, share)
                for value, text, explained, share in zip(decision.tolist(), normalized, contributions, known_share,
                                                         strict=True)]

    def probabilities(self, normalized: list[str]) -> list[float]:
        """The spam probabilities of normalised texts, without explanations: one by one for a few (quicker, as
        a batch's matrices cost more to set up than a short text costs to score), as one batch for more."""
        if len(normalized) < BATCH_FROM:
            return [self.score("", explain=0, normalized=text).probability for text in normalized]
        return [score.probability for score in self.score_many(normalized, explain=0)]

    # Explanations: a text's `explain` largest contributions (None: all, 0: none), largest |c| first, as
    # (block, n-gram, c). Its cells come in block, then n-gram order, which stable sorts keep for equal
    # magnitudes, so a text gets the same explanation alone and in a batch (the n-grams of a word seen once in
    # training often weigh exactly the same).

    def _largest(self, numbers: np.ndarray, grams: np.ndarray, weighted: np.ndarray, explain: int | None) -> list:
        """One text's explanation from its cells' block numbers, n-grams and contributions."""
        if explain == 0:
            return []
        top = np.argsort(-np.abs(weighted), kind="stable")[:explain]
        return self._entries(numbers[top], grams[top], weighted[top])

    def _largest_of_rows(self, cells: list, n: int, explain: int | None) -> list[list]:
        """Each of n texts' explanation from the blocks' (block number, rows, n-grams, contributions) arrays."""
        if explain == 0 or not cells:
            return [[] for _ in range(n)]
        numbers, rows, grams, weighted = map(np.concatenate, zip(*cells, strict=True))
        magnitude = np.abs(weighted)
        # Which cells, in which order: by row, each row's cells still in block, then n-gram order; then only the
        # cells that can make their row's top `explain` are sorted by magnitude, and the first `explain` of each
        # row kept. The arrays are gathered once, at the end.
        order = np.argsort(rows, kind="stable")
        if explain is not None:
            order = order[_candidates(rows[order], magnitude[order], explain)]
        order = order[np.lexsort((-magnitude[order], rows[order]))]
        order_rows = rows[order]
        bounds = np.searchsorted(order_rows, np.arange(n + 1))
        if explain is not None:
            first = np.arange(len(order)) - bounds[order_rows] < explain
            order, order_rows = order[first], order_rows[first]
            bounds = np.searchsorted(order_rows, np.arange(n + 1))
        entries = self._entries(numbers[order], grams[order], weighted[order])
        bounds = bounds.tolist()
        return [entries[bounds[row]:bounds[row + 1]] for row in range(n)]

    def _entries(self, numbers: np.ndarray, grams: np.ndarray, weighted: np.ndarray) -> list[tuple]:
        blocks = self.blocks
        return [(blocks[b].name, blocks[b].names[g], w)
                for b, g, w in zip(numbers.tolist(), grams.tolist(), weighted.tolist(), strict=True)]
