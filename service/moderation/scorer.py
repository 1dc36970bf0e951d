"""Score one comment with a fitted TF-IDF + linear pipeline, without scikit-learn's per-call overhead.

The pipeline's vectorizers, IDF weights and coefficients are turned into
plain dictionaries and lists once, at load time; scoring is then a loop over
the comment's n-grams. The result equals `predict_proba` to rounding error
(tested to 1e-9) and comes with the per-n-gram contributions that explain it.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter
from dataclasses import dataclass, field


@dataclass(frozen=True)
class _Block:
    """One vectorizer of the feature union, flattened for fast lookup."""

    name: str
    analyzer: object
    vocabulary: dict
    idf: list
    coef: list
    sublinear_tf: bool


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


def _magnitude(hit: tuple) -> float:
    return abs(hit[1])


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
        coef = clf.coef_[0].tolist()
        blocks, offset = [], 0
        for name, vectorizer in union.transformer_list:
            if vectorizer.norm != "l2" or not vectorizer.use_idf:
                raise ValueError(f"vectorizer {name!r} must use idf and l2 normalisation")
            size = len(vectorizer.vocabulary_)
            blocks.append(
                _Block(
                    name=name,
                    analyzer=vectorizer.build_analyzer(),
                    vocabulary=vectorizer.vocabulary_,
                    idf=vectorizer.idf_.tolist(),
                    coef=coef[offset:offset + size],
                    sublinear_tf=vectorizer.sublinear_tf,
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
        log = math.log
        for block in self.blocks:
            vocabulary, idf, coef, sublinear = block.vocabulary, block.idf, block.coef, block.sublinear_tf
            counts = Counter(block.analyzer(normalized))
            known, squares, dot = 0, 0.0, 0.0
            hits = []
            for gram, count in counts.items():
                index = vocabulary.get(gram)
                if index is None:
                    continue
                known += count
                tf = 1.0 + log(count) if sublinear and count > 1 else float(count)
                value = tf * idf[index]
                squares += value * value
                weighted = value * coef[index]
                dot += weighted
                hits.append((gram, weighted))
            total = sum(counts.values())
            known_share[block.name] = known / total if total else 0.0
            if squares:
                norm = math.sqrt(squares)
                decision += dot / norm
                if explain != 0:
                    top = hits if explain is None else heapq.nlargest(explain, hits, key=_magnitude)
                    contributions += [(block.name, gram, w / norm) for gram, w in top]
        contributions.sort(key=lambda c: abs(c[2]), reverse=True)
        if explain is not None:
            del contributions[explain:]
        return Score(_sigmoid(decision), decision, normalized, contributions, known_share)
