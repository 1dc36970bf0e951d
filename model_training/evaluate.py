"""Evaluate a model configuration honestly: leave-one-group-out scores, baselines on the same folds, per source."""

from __future__ import annotations

import datetime as dt
import sys

import numpy as np
from sklearn.dummy import DummyClassifier
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    confusion_matrix,
    f1_score,
    precision_recall_curve,
    precision_score,
    recall_score,
    roc_auc_score,
)
from sklearn.naive_bayes import MultinomialNB
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import FunctionTransformer

from .data import Corpus, fold_groups
from .features import WORD_TOKEN_PATTERN, build_pipeline, detect_language, normalize_batch

TOP_NGRAMS = 25
# Candidate thresholds when one threshold has to serve every video.
THRESHOLD_GRID = np.round(np.arange(0.01, 1.0, 0.01), 2)
MISTAKES_SHOWN = 10
EXCERPT_CHARS = 160


def log(message: str) -> None:
    """Print progress for long steps on stderr."""
    print(f"[{dt.datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def build_nb_baseline() -> Pipeline:
    """A multinomial naive Bayes over the same normalised word and character n-gram counts."""
    return Pipeline([
        ("normalize", FunctionTransformer(normalize_batch)),
        ("features", FeatureUnion([
            ("word", CountVectorizer(token_pattern=WORD_TOKEN_PATTERN, ngram_range=(1, 2), lowercase=False)),
            ("char", CountVectorizer(analyzer="char_wb", ngram_range=(2, 5), lowercase=False)),
        ])),
        ("clf", MultinomialNB(alpha=0.1)),
    ])


def build_majority_baseline() -> Pipeline:
    """Always predict the training prior."""
    return Pipeline([("clf", DummyClassifier(strategy="prior"))])


def _fit(model, texts, labels, weights):
    if isinstance(model.steps[-1][1], DummyClassifier):
        return model.fit(texts, labels)
    return model.fit(texts, labels, clf__sample_weight=weights)


def cross_validate(corpus: Corpus, make_model, *, name: str = "model") -> np.ndarray:
    """Score every example with a model trained on every other group (leave one group out)."""
    texts = np.asarray(corpus.texts, dtype=object)
    labels = np.asarray(corpus.labels)
    weights = np.asarray(corpus.weights)
    groups = np.asarray(fold_groups(corpus))
    scores = np.zeros(len(texts))
    unique = sorted(set(groups))
    for i, group in enumerate(unique, start=1):
        held_out = groups == group
        model = _fit(make_model(), texts[~held_out], labels[~held_out], weights[~held_out])
        scores[held_out] = model.predict_proba(texts[held_out])[:, 1]
        log(f"  {name}: held out {group} ({i}/{len(unique)})")
    return scores


def best_f1(labels, scores) -> float:
    """The F1 at the best threshold for this set (an optimistic reference, not a deployable number)."""
    precision, recall, _ = precision_recall_curve(labels, scores)
    return float(np.max(2 * precision * recall / np.maximum(precision + recall, 1e-12)))


def at_threshold(labels, scores, threshold: float) -> dict:
    """Precision, recall, F1 and the confusion matrix when score >= threshold means spam."""
    predicted = (scores >= threshold).astype(int)
    tn, fp, fn, tp = confusion_matrix(labels, predicted, labels=[0, 1]).ravel()
    return {
        "threshold": round(float(threshold), 6),
        "precision": round(float(precision_score(labels, predicted, zero_division=0)), 4),
        "recall": round(float(recall_score(labels, predicted, zero_division=0)), 4),
        "f1": round(float(f1_score(labels, predicted, zero_division=0)), 4),
        "confusion": {"tn": int(tn), "fp": int(fp), "fn": int(fn), "tp": int(tp)},
    }


def summarize(labels, scores, thresholds: dict) -> dict:
    """ROC-AUC, average precision, Brier score and the numbers at 0.5 and at both policy thresholds."""
    labels = np.asarray(labels)
    both = 0 < labels.sum() < len(labels)
    approved = scores < thresholds["approve_below"]
    rejected = scores >= thresholds["reject_at"]
    return {
        "examples": int(len(labels)),
        "spam": int(labels.sum()),
        "roc_auc": round(float(roc_auc_score(labels, scores)), 4) if both else None,
        "average_precision": round(float(average_precision_score(labels, scores)), 4) if both else None,
        "best_f1": round(best_f1(labels, scores), 4) if both else None,
        "brier": round(float(brier_score_loss(labels, scores)), 4),
        "at_0.5": at_threshold(labels, scores, 0.5),
        "at_reject_at": at_threshold(labels, scores, thresholds["reject_at"]),
        "policy": {
            "approved_share": round(float(approved.mean()), 4),
            "review_share": round(float(1 - approved.mean() - rejected.mean()), 4),
            "rejected_share": round(float(rejected.mean()), 4),
            "spam_auto_approved": int((approved & (labels == 1)).sum()),
            "ham_auto_rejected": int((rejected & (labels == 0)).sum()),
        },
    }


def sources_of(corpus: Corpus) -> np.ndarray:
    """The source of every example (each YouTube video, the SMS file, label exports...)."""
    return np.asarray([corpus.source(i) for i in range(len(corpus))])


def per_source(corpus: Corpus, scores: np.ndarray, thresholds: dict) -> dict:
    """Summaries for each source."""
    sources = sources_of(corpus)
    labels = np.asarray(corpus.labels)
    return {s: summarize(labels[sources == s], scores[sources == s], thresholds) for s in sorted(set(sources))}


def per_language(corpus: Corpus, scores: np.ndarray, thresholds: dict) -> dict:
    """Summaries for each detected language ("und" when the function words do not tell)."""
    languages = np.asarray([detect_language(text) for text in normalize_batch(corpus.texts)])
    labels = np.asarray(corpus.labels)
    return {lang: summarize(labels[languages == lang], scores[languages == lang], thresholds)
            for lang in sorted(set(languages))}


def _f1_by_threshold(labels: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """F1 at every threshold of THRESHOLD_GRID, score >= threshold meaning spam."""
    predicted = scores[None, :] >= THRESHOLD_GRID[:, None]
    tp = (predicted & (labels == 1)).sum(axis=1)
    fp = (predicted & (labels == 0)).sum(axis=1)
    fn = int((labels == 1).sum()) - tp
    return 2 * tp / np.maximum(2 * tp + fp + fn, 1)


def single_threshold(labels: np.ndarray, scores: np.ndarray, sources: np.ndarray) -> dict | None:
    """Mean video F1 when one threshold serves every video.

    Two numbers: the best threshold in hindsight (optimistic, since it is
    chosen on the videos it is measured on), and, for each video in turn, the
    threshold that is best on the other videos, which is what a shipped
    threshold faces on a page it has never seen.
    """
    videos = sorted(s for s in set(sources) if s.startswith("youtube:"))
    if len(videos) < 2:
        return None
    curves = np.array([_f1_by_threshold(labels[sources == v], scores[sources == v]) for v in videos])
    best = int(np.argmax(curves.mean(axis=0)))
    transferred = [curves[i, np.argmax(np.delete(curves, i, axis=0).mean(axis=0))] for i in range(len(videos))]
    return {
        "best_single_threshold": float(THRESHOLD_GRID[best]),
        "f1_at_best_single_threshold": round(float(curves.mean(axis=0)[best]), 4),
        "f1_at_threshold_from_other_videos": round(float(np.mean(transferred)), 4),
    }


def leave_one_video_out(corpus: Corpus, scores: np.ndarray, by_source: dict) -> dict | None:
    """Mean over the YouTube videos of the leave-one-video-out numbers, as the literature reports them."""
    videos = [v for k, v in by_source.items() if k.startswith("youtube:")]
    if not videos:
        return None
    return {
        "videos": len(videos),
        "roc_auc": round(float(np.mean([v["roc_auc"] for v in videos])), 4),
        "f1_at_0.5": round(float(np.mean([v["at_0.5"]["f1"] for v in videos])), 4),
        "f1_at_reject_at": round(float(np.mean([v["at_reject_at"]["f1"] for v in videos])), 4),
        "best_f1": round(float(np.mean([v["best_f1"] for v in videos])), 4),
        **(single_threshold(np.asarray(corpus.labels), scores, sources_of(corpus)) or {}),
    }


def _excerpt(text: str) -> str:
    """One line of at most EXCERPT_CHARS characters."""
    line = " ".join(text.split())
    return line if len(line) <= EXCERPT_CHARS else line[: EXCERPT_CHARS - 1] + "…"


def _example(corpus: Corpus, index: int, score: float) -> dict:
    return {"source": corpus.source(index), "label": int(corpus.labels[index]), "text": _excerpt(corpus.texts[index]),
            "score": round(float(score), 4)}


def confident_mistakes(corpus: Corpus, scores: np.ndarray, limit: int = MISTAKES_SHOWN) -> dict:
    """The out-of-fold mistakes the model is surest of: where to look for wrong labels first."""
    labels = np.asarray(corpus.labels)
    ham = np.flatnonzero((labels == 0) & (scores >= 0.5))
    spam = np.flatnonzero((labels == 1) & (scores < 0.5))
    return {
        "ham_scored_as_spam": [_example(corpus, i, scores[i]) for i in ham[np.argsort(-scores[ham])][:limit]],
        "spam_scored_as_ham": [_example(corpus, i, scores[i]) for i in spam[np.argsort(scores[spam])][:limit]],
    }


def cross_source(corpus: Corpus, params: dict) -> list[dict]:
    """Train without one kind of source (YouTube, SMS, ...) and test on it: how the model does on unseen sites."""
    kinds = np.asarray([corpus.groups[i].split(":", 1)[0] for i in range(len(corpus))])
    texts = np.asarray(corpus.texts, dtype=object)
    labels = np.asarray(corpus.labels)
    rows = []
    for kind in sorted(set(kinds)):
        test = kinds == kind
        if test.all() or len(set(labels[~test])) < 2 or len(set(labels[test])) < 2:
            continue
        model = build_pipeline(**params).fit(texts[~test], labels[~test])
        scores = model.predict_proba(texts[test])[:, 1]
        rows.append({"held_out": kind, "trained_on": sorted(set(kinds[~test])),
                     "roc_auc": round(float(roc_auc_score(labels[test], scores)), 4),
                     "at_0.5": at_threshold(labels[test], scores, 0.5)})
        log(f"  cross-source: trained without {kind}")
    return rows


def top_ngrams(pipeline, limit: int = TOP_NGRAMS) -> dict:
    """The n-grams with the largest spam and ham weights in a fitted pipeline."""
    names = pipeline.named_steps["features"].get_feature_names_out()
    coef = pipeline.named_steps["clf"].coef_[0]
    order = np.argsort(coef)
    pick = lambda idx: [{"ngram": str(names[i]), "weight": round(float(coef[i]), 4)} for i in idx]  # noqa: E731
    return {"spam": pick(order[::-1][:limit]), "ham": pick(order[:limit])}


def evaluate(corpus: Corpus, params: dict, thresholds: dict, *, oof: np.ndarray | None = None,
             pipeline=None, baselines: bool = True) -> tuple[dict, np.ndarray]:
    """Build the evaluation report of a configuration on a (deduplicated) corpus; return it and the OOF scores."""
    if oof is None:
        log("leave-one-group-out scores of the model")
        oof = cross_validate(corpus, lambda: build_pipeline(**params))
    labels = np.asarray(corpus.labels)
    by_source = per_source(corpus, oof, thresholds)
    report = {
        "protocol": ("leave one group out: each YouTube video is a group, pooled files (SMS, CSV, labels) are split "
                     "into stable slices; texts deduplicated on their normalised form before splitting"),
        "groups": sorted(set(fold_groups(corpus))),
        "params": params,
        "thresholds": thresholds,
        "overall": summarize(labels, oof, thresholds),
        "leave_one_video_out": leave_one_video_out(corpus, oof, by_source),
        "by_source": by_source,
        "by_language": per_language(corpus, oof, thresholds),
        "baselines": {},
        "cross_source": [],
        "confident_mistakes": confident_mistakes(corpus, oof),
    }
    if baselines:
        for name, factory in (("multinomial_nb", build_nb_baseline), ("majority", build_majority_baseline)):
            log(f"leave-one-group-out scores of the {name} baseline")
            scores = cross_validate(corpus, factory, name=name)
            base_sources = per_source(corpus, scores, thresholds)
            report["baselines"][name] = {"overall": summarize(labels, scores, thresholds),
                                         "leave_one_video_out": leave_one_video_out(corpus, scores, base_sources)}
        log("cross-source checks")
        report["cross_source"] = cross_source(corpus, params)
    if pipeline is not None:
        report["top_ngrams"] = top_ngrams(pipeline)
    return report, oof
