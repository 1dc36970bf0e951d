"""Train the spam classifier and write a versioned model directory."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import platform
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

import joblib
import numpy as np
import scipy
import sklearn
from sklearn.metrics import f1_score, precision_score, recall_score, roc_auc_score
from sklearn.model_selection import GroupKFold

from .data import Corpus
from .errors import ThresholdError, TrainingError
from .features import build_pipeline, normalize_text

MODEL_FORMAT = 1
ARTIFACT_NAME = "model.joblib"
METADATA_NAME = "metadata.json"
# Groups that are one big pool (an SMS file, a label export) are split into
# this many pseudo-groups so that grouped cross-validation can use them.
POOL_SPLITS = 5


@dataclass
class Targets:
    """What the thresholds must achieve on out-of-fold predictions."""

    reject_precision: float = 0.99
    max_spam_approved: float = 0.02


def log(message: str) -> None:
    """Print progress for long steps on stderr."""
    print(f"[{dt.datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def deduplicate(corpus: Corpus) -> tuple[Corpus, int]:
    """Keep the first example of every normalised text, so no text is both trained on and tested."""
    seen: set[str] = set()
    kept = Corpus(files=list(corpus.files))
    for text, label, group, weight in zip(corpus.texts, corpus.labels, corpus.groups, corpus.weights):
        key = normalize_text(text)
        if key in seen:
            continue
        seen.add(key)
        kept.add(text, label, group, weight)
    return kept, len(corpus) - len(kept)


def fold_groups(corpus: Corpus) -> np.ndarray:
    """Return a cross-validation group per example: the video, or a stable slice of a pooled file."""
    out = []
    for text, group in zip(corpus.texts, corpus.groups):
        if group.startswith("youtube:"):
            out.append(group)
        else:
            out.append(f"{group}#{zlib.crc32(text.encode('utf-8', 'replace')) % POOL_SPLITS}")
    return np.asarray(out)


def out_of_fold_scores(corpus: Corpus, groups: np.ndarray, params: dict, n_splits: int = 5) -> np.ndarray:
    """Score every example with a model that did not see its group."""
    texts = np.asarray(corpus.texts, dtype=object)
    labels = np.asarray(corpus.labels)
    weights = np.asarray(corpus.weights)
    scores = np.zeros(len(texts))
    splitter = GroupKFold(n_splits=min(n_splits, len(set(groups))))
    for i, (train, test) in enumerate(splitter.split(texts, labels, groups), start=1):
        model = build_pipeline(**params)
        model.fit(texts[train], labels[train], clf__sample_weight=weights[train])
        scores[test] = model.predict_proba(texts[test])[:, 1]
        log(f"  fold {i}: {len(test)} held out")
    return scores


def choose_thresholds(labels: np.ndarray, scores: np.ndarray, targets: Targets) -> dict:
    """Pick approve-below and reject-at from out-of-fold scores.

    reject-at is the lowest score whose auto-rejections reach the precision
    target; approve-below is the highest score below which no more than the
    allowed share of spam would be approved. Between them lies the review band.
    """
    labels = np.asarray(labels)
    n_spam = int(labels.sum())
    if n_spam == 0 or n_spam == len(labels):
        raise ThresholdError("the data must contain both spam and ham to choose thresholds")
    candidates = np.unique(scores)
    reject_at = None
    for t in candidates:
        rejected = scores >= t
        if rejected.any() and labels[rejected].mean() >= targets.reject_precision:
            # Precision is not monotone in t; take the lowest t from which it holds for every higher t.
            higher = candidates[candidates >= t]
            if all(labels[scores >= u].mean() >= targets.reject_precision for u in higher[:200]):
                reject_at = float(t)
                break
    if reject_at is None:
        raise ThresholdError(f"no threshold reaches auto-reject precision {targets.reject_precision}")
    spam_scores = np.sort(scores[labels == 1])
    allowed = int(np.floor(targets.max_spam_approved * n_spam))
    # Approving strictly below the (allowed+1)-th lowest spam score lets through at most `allowed` spam.
    approve_below = float(spam_scores[allowed]) if allowed < n_spam else 1.0
    approve_below = min(approve_below, reject_at)
    approved = scores < approve_below
    rejected = scores >= reject_at
    return {
        "approve_below": approve_below,
        "reject_at": reject_at,
        "expected": {
            "approved_share": round(float(approved.mean()), 4),
            "review_share": round(float(1 - approved.mean() - rejected.mean()), 4),
            "rejected_share": round(float(rejected.mean()), 4),
            "reject_precision": round(float(labels[rejected].mean()), 4) if rejected.any() else None,
            "spam_approved_share": round(float(labels[approved].sum() / n_spam), 4),
            "ham_rejected_share": round(float(((labels == 0) & rejected).sum() / (labels == 0).sum()), 4),
        },
    }


def summarize(labels: np.ndarray, scores: np.ndarray, threshold: float = 0.5) -> dict:
    """Return ROC-AUC, precision, recall and F1 at one threshold."""
    predicted = (scores >= threshold).astype(int)
    return {
        "roc_auc": round(float(roc_auc_score(labels, scores)), 4),
        "precision": round(float(precision_score(labels, predicted, zero_division=0)), 4),
        "recall": round(float(recall_score(labels, predicted, zero_division=0)), 4),
        "f1": round(float(f1_score(labels, predicted, zero_division=0)), 4),
        "threshold": threshold,
    }


def sha256_file(path: Path) -> str:
    """Return the hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def environment() -> dict:
    """Return the library versions a model artifact depends on."""
    return {
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "joblib": joblib.__version__,
    }


def write_model(model, out_root: Path, metadata: dict) -> Path:
    """Save the fitted pipeline and its metadata under out_root/<version>/."""
    created = dt.datetime.now(dt.timezone.utc)
    version = created.strftime("%Y%m%d-%H%M%S")
    out_dir = out_root / version
    if out_dir.exists():
        raise TrainingError(f"{out_dir} already exists")
    out_dir.mkdir(parents=True)
    artifact = out_dir / ARTIFACT_NAME
    joblib.dump(model, artifact, compress=3)
    metadata = {
        "format": MODEL_FORMAT,
        "version": version,
        "created_at": created.isoformat(timespec="seconds"),
        "artifact": {"file": ARTIFACT_NAME, "sha256": sha256_file(artifact)},
        "environment": environment(),
        **metadata,
    }
    (out_dir / METADATA_NAME).write_text(json.dumps(metadata, indent=2, ensure_ascii=False) + "\n")
    return out_dir


def train(corpus: Corpus, out_root: Path, *, params: dict | None = None, targets: Targets | None = None) -> Path:
    """Train on a corpus, choose thresholds from grouped out-of-fold scores, and write the model."""
    params = params or {}
    targets = targets or Targets()
    corpus, dropped = deduplicate(corpus)
    log(f"{len(corpus)} examples after removing {dropped} duplicates")
    labels = np.asarray(corpus.labels)
    groups = fold_groups(corpus)
    log("grouped cross-validation for out-of-fold scores")
    oof = out_of_fold_scores(corpus, groups, params)
    thresholds = choose_thresholds(labels, oof, targets)
    log(f"thresholds: approve below {thresholds['approve_below']}, reject at {thresholds['reject_at']}")
    log("fitting the final model on all examples")
    model = build_pipeline(**params)
    model.fit(np.asarray(corpus.texts, dtype=object), labels, clf__sample_weight=np.asarray(corpus.weights))
    metadata = {
        "params": params,
        "data": {
            "files": corpus.files,
            "examples": len(corpus),
            "spam": int(labels.sum()),
            "duplicates_removed": dropped,
            "deduplication": "exact match on normalised text, first occurrence kept",
        },
        "thresholds": {"approve_below": thresholds["approve_below"], "reject_at": thresholds["reject_at"]},
        "targets": {"reject_precision": targets.reject_precision, "max_spam_approved": targets.max_spam_approved},
        "metrics": {
            "cross_validation": "GroupKFold(5) over videos and slices of pooled files, out-of-fold",
            "out_of_fold": summarize(labels, oof),
            "expected_at_thresholds": thresholds["expected"],
        },
    }
    out_dir = write_model(model, out_root, metadata)
    log(f"wrote {out_dir}")
    return out_dir
