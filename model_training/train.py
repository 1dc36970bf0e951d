"""Train the spam classifier and write a versioned model directory with its evaluation report."""

from __future__ import annotations

import datetime as dt
import json
import platform
from dataclasses import dataclass
from pathlib import Path

import joblib
import numpy as np
import scipy
import sklearn
from sklearn.model_selection import GridSearchCV, GroupKFold

from .artifact import ARTIFACT_NAME, METADATA_NAME, MODEL_FORMAT, sha256_file
from .data import Corpus, deduplicate, fold_groups
from .errors import ThresholdError, TrainingError
from .evaluate import cross_validate, evaluate, log
from .features import FEATURES_VERSION, build_pipeline
from .report import write_report

REPORT_DIR = "report"
# min_df is searched for both vectorizers together.
SEARCH_GRID = [{"clf__C": [3.0, 10.0, 30.0], "features__word__min_df": [m], "features__char__min_df": [m]}
               for m in (1, 2)]


@dataclass
class Targets:
    """What the thresholds must achieve on out-of-fold predictions."""

    reject_precision: float = 0.99
    max_spam_approved: float = 0.02


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
        "features_version": FEATURES_VERSION,
        "version": version,
        "created_at": created.isoformat(timespec="seconds"),
        "artifact": {"file": ARTIFACT_NAME, "sha256": sha256_file(artifact)},
        "environment": environment(),
        **metadata,
    }
    (out_dir / METADATA_NAME).write_text(json.dumps(metadata, indent=2, ensure_ascii=False) + "\n")
    return out_dir


def search_params(corpus: Corpus) -> tuple[dict, list]:
    """Pick C and min_df by grouped 5-fold cross-validated ROC-AUC; return the best and every result."""
    texts = np.asarray(corpus.texts, dtype=object)
    search = GridSearchCV(build_pipeline(), SEARCH_GRID, scoring="roc_auc", cv=GroupKFold(n_splits=5), n_jobs=1)
    search.fit(texts, np.asarray(corpus.labels), groups=fold_groups(corpus),
               clf__sample_weight=np.asarray(corpus.weights))
    best = search.best_params_
    params = {"C": best["clf__C"], "min_df": best["features__char__min_df"]}
    results = [{"params": p, "roc_auc": round(float(m), 4)}
               for p, m in zip(search.cv_results_["params"], search.cv_results_["mean_test_score"])]
    return params, results


def train(corpus: Corpus, out_root: Path, *, params: dict | None = None, targets: Targets | None = None,
          search: bool = True, baselines: bool = True) -> Path:
    """Train on a corpus, choose thresholds from out-of-fold scores, write the model and its report."""
    targets = targets or Targets()
    corpus, dropped = deduplicate(corpus)
    log(f"{len(corpus)} examples ({sum(corpus.labels)} spam) after removing {dropped} duplicates")
    labels = np.asarray(corpus.labels)
    search_results = []
    if search:
        log("grid search over C and min_df with grouped 5-fold cross-validation")
        params, search_results = search_params(corpus)
        log(f"best parameters: {params}")
    params = params or {}
    log("leave-one-group-out scores for thresholds and evaluation")
    oof = cross_validate(corpus, lambda: build_pipeline(**params))
    chosen = choose_thresholds(labels, oof, targets)
    thresholds = {"approve_below": chosen["approve_below"], "reject_at": chosen["reject_at"]}
    log(f"thresholds: approve below {thresholds['approve_below']:.4f}, reject at {thresholds['reject_at']:.4f}")
    log("fitting the final model on all examples")
    model = build_pipeline(**params)
    model.fit(np.asarray(corpus.texts, dtype=object), labels, clf__sample_weight=np.asarray(corpus.weights))
    report, _ = evaluate(corpus, params, thresholds, oof=oof, pipeline=model, baselines=baselines)
    metadata = {
        "params": params,
        "data": {
            "files": corpus.files,
            "examples": len(corpus),
            "spam": int(labels.sum()),
            "duplicates_removed": dropped,
            "deduplication": "exact match on normalised text, first occurrence kept",
            # detected language -> examples, which the service reads as the languages the model knows
            "languages": {lang: s["examples"] for lang, s in report["by_language"].items()},
        },
        "thresholds": thresholds,
        "targets": {"reject_precision": targets.reject_precision, "max_spam_approved": targets.max_spam_approved},
        "metrics": {
            "protocol": report["protocol"],
            "search": search_results,
            "out_of_fold": {k: report["overall"][k] for k in ("roc_auc", "average_precision", "best_f1", "brier")},
            "leave_one_video_out": report["leave_one_video_out"],
            "expected_at_thresholds": chosen["expected"],
        },
    }
    out_dir = write_model(model, out_root, metadata)
    report["model_version"] = out_dir.name
    write_report(report, labels, oof, out_dir / REPORT_DIR)
    log(f"wrote {out_dir} and its report in {out_dir / REPORT_DIR}")
    return out_dir
