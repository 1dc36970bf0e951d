"""Train the spam classifier and write a versioned model directory with its evaluation report."""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import platform
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import joblib
import numpy as np
import scipy
import sklearn

from .artifact import ARTIFACT_NAME, METADATA_NAME, MODEL_FORMAT, sha256_file
from .data import POOL_SLICES, Corpus, deduplicate, fold_groups, threshold_mask
from .errors import ThresholdError, TrainingError
from .evaluate import THRESHOLD_NAMES, OutOfFold, cross_validate, evaluate, fit_model, log, policy_outcome, summarize
from .features import FEATURES_VERSION, build_pipeline
from .language import MIN_LANGUAGE_EXAMPLES, UNDETERMINED
from .report import write_report

REPORT_DIR = "report"
SEARCH_C = (3.0, 10.0, 30.0)


@dataclass
class Targets:
    """What the thresholds must achieve on out-of-fold predictions."""

    reject_precision: float = 0.99
    max_spam_approved: float = 0.02


def lowest_safe_reject_at(labels: np.ndarray, scores: np.ndarray, precision: float) -> float:
    """The lowest threshold from which auto-rejection in this group keeps `precision` at every higher threshold.

    Walking down the distinct scores, precision of "score >= t" is computed at
    each level; the answer is the level just above the first one that falls
    short (above the top score when the top one does, 0 when none does).
    """
    levels, inverse = np.unique(scores, return_inverse=True)
    levels, inverse = levels[::-1], len(levels) - 1 - inverse
    spam_at = np.bincount(inverse, weights=labels, minlength=len(levels))
    count_at = np.bincount(inverse, minlength=len(levels))
    short = np.flatnonzero(np.cumsum(spam_at) < precision * np.cumsum(count_at))
    if not len(short):
        return 0.0
    first = short[0]
    return float(levels[first - 1]) if first else float(np.nextafter(levels[0], np.inf))


def highest_safe_approve_below(labels: np.ndarray, scores: np.ndarray, max_spam_share: float) -> float:
    """The `max_spam_share` quantile of this group's spam scores: below it, that share of its spam is approved.

    The quantile is interpolated between the order statistics, not the
    lowest count that fits: with thousands of spam it is the empirical
    count, and with a few dozen (a site's first moderator labels, where
    2 % rounds down to none) one unusual spam does not set the threshold on
    its own, which would approve almost nothing.
    """
    spam_scores = scores[labels == 1]
    return float(np.quantile(spam_scores, max_spam_share)) if len(spam_scores) else 1.0


def choose_thresholds(labels, oof: OutOfFold, groups, targets: Targets) -> dict:
    """Pick approve-below and reject-at from out-of-fold scores so that every group meets the targets.

    A page the model has never seen is a group it did not train on: each
    group (a video, a slice of a pooled file, a site's labels) must leak at
    most the allowed share of its spam and keep auto-reject precision at the
    target, not just the pooled scores. Rejection is judged as the service
    applies it: a text whose words alone score below approve-below is never
    rejected for its link, so it cannot cost precision. Between the
    thresholds lies review.
    """
    labels, groups = np.asarray(labels), np.asarray(groups)
    n_spam = int(labels.sum())
    if n_spam == 0 or n_spam == len(labels):
        raise ThresholdError("the data must contain both spam and ham to choose thresholds")
    masks = [groups == g for g in sorted(set(groups))]
    approve_below = min(highest_safe_approve_below(labels[m], oof.scores[m], targets.max_spam_approved)
                        for m in masks)
    # Texts of several sentences are approved by their highest part: a tail that makes an offer reads like a
    # spam of one sentence, so their approve-below is the same quantile of every spam's highest part (a
    # one-sentence spam's is its whole score).
    highest = np.fmax(oof.scores, oof.parts)
    approve_parts_below = min(highest_safe_approve_below(labels[m], highest[m], targets.max_spam_approved)
                              for m in masks)
    _, could_reject = policy_outcome(oof, {"approve_below": approve_below, "reject_at": 0.0,
                                           "approve_parts_below": approve_parts_below})
    reject_at = max(lowest_safe_reject_at(labels[m], oof.scores[m], targets.reject_precision)
                    for m in (m & could_reject for m in masks) if m.any())
    if reject_at > 1.0:
        raise ThresholdError(f"no threshold reaches auto-reject precision {targets.reject_precision} in every group")
    thresholds = {"approve_below": min(approve_below, reject_at), "reject_at": reject_at,
                  "approve_parts_below": min(approve_parts_below, reject_at)}
    return {**thresholds, "expected": summarize(labels, oof, thresholds)["policy"]}


def threshold_groups(corpus: Corpus, targets: Targets) -> list[str]:
    """The group each example is judged in when thresholds are chosen: its cross-validation group, unless too small.

    A video is a page of its own. A pooled file is cut into POOL_SLICES
    slices, each a stand-in for another page, but only when every slice can
    hold the budget's one leaked spam (1 / max_spam_approved spam each: 50
    for 2 %); a smaller file, such as a site's first few hundred moderator
    labels, is judged whole. Judging slices of a handful of spam would set
    approve-below under the lowest spam of the slice that holds the most
    unusual one, and approve almost nothing.
    """
    folds = fold_groups(corpus)
    spam = Counter(group for group, label in zip(corpus.groups, corpus.labels, strict=True) if label)
    min_spam = POOL_SLICES * math.ceil(1 / targets.max_spam_approved)
    return [fold if fold == group or spam[group] >= min_spam else group
            for group, fold in zip(corpus.groups, folds, strict=True)]


def thresholds_for(corpus: Corpus, oof: OutOfFold, targets: Targets) -> dict:
    """Choose thresholds on the groups of web comments (auxiliary formats such as SMS do not count).

    The groups are those of threshold_groups: the videos, and the slices
    of a pooled file large enough to judge each slice's spam leak.

    Each language with at least MIN_LANGUAGE_EXAMPLES such comments of both
    classes gets its own pair, chosen on its comments in every group, so
    that the hardest English page does not set the French operating point;
    the global pair serves every other language. A language's own reject-at
    needs 1 / (1 - reject_precision) ham (100 for 99 %) to mean anything:
    with fewer, the highest ham seen says little about the next one (a
    site's first hundred labels hold some sixty), so the language rejects
    no lower than the global pair does.
    """
    counted = np.asarray(threshold_mask(corpus))
    labels, groups = np.asarray(corpus.labels), np.asarray(threshold_groups(corpus, targets))
    min_ham = math.ceil(1 / (1 - targets.reject_precision))
    chosen = choose_thresholds(labels[counted], oof[counted], groups[counted], targets)
    by_language = {}
    for language in sorted(set(oof.languages[counted]) - {UNDETERMINED}):
        mask = counted & (oof.languages == language)
        if mask.sum() < MIN_LANGUAGE_EXAMPLES or labels[mask].min() == labels[mask].max():
            continue
        try:
            own = choose_thresholds(labels[mask], oof[mask], groups[mask], targets)
        except ThresholdError as exc:
            log(f"  {language}: keeps the global thresholds ({exc})")
            continue
        reject_at = own["reject_at"]
        if (labels[mask] == 0).sum() < min_ham:  # too few ham to know how far above them the next one may score
            reject_at = max(reject_at, chosen["reject_at"])
        by_language[str(language)] = {"approve_below": min(own["approve_below"], reject_at), "reject_at": reject_at,
                                      "approve_parts_below": min(own["approve_parts_below"], reject_at)}
    thresholds = {**{k: chosen[k] for k in THRESHOLD_NAMES}, "by_language": by_language}
    return {**thresholds, "expected": summarize(labels[counted], oof[counted], thresholds)["policy"]}


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
    created = dt.datetime.now(dt.UTC)
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


def search_params(corpus: Corpus, targets: Targets) -> tuple[dict, OutOfFold, list]:
    """Pick C by automation at the error budget with per-group thresholds; return it, its OOF scores and every result.

    Since the thresholds must hold in every held-out group, the worst group
    bounds the automation of each candidate: the choice is made by it.
    """
    results, best = [], None
    for C in SEARCH_C:
        params = {"C": C}
        log(f"candidate {params}")
        oof = cross_validate(corpus, functools.partial(build_pipeline, **params))
        try:
            automated = thresholds_for(corpus, oof, targets)["expected"]["automated_share"]
        except ThresholdError:
            automated = 0.0
        results.append({"params": params, "automated_share": automated})
        if best is None or automated > best[2]:
            best = (params, oof, automated)
    return best[0], best[1], results


def fit_with_thresholds(corpus: Corpus, params: dict, targets: Targets, *,
                        oof: OutOfFold | None = None) -> tuple[object, dict, OutOfFold]:
    """Thresholds chosen on leave-one-group-out scores (computed unless given), and the model fit on everything.

    Returns the fitted pipeline, the chosen thresholds (with their
    `expected` outcome) and the out-of-fold scores.
    """
    if oof is None:
        oof = cross_validate(corpus, lambda: build_pipeline(**params))
    chosen = thresholds_for(corpus, oof, targets)
    model = fit_model(build_pipeline(**params), np.asarray(corpus.texts, dtype=object), np.asarray(corpus.labels),
                      np.asarray(corpus.weights))
    return model, chosen, oof


def train(corpus: Corpus, out_root: Path, *, params: dict | None = None, targets: Targets | None = None,
          search: bool = True, baselines: bool = True) -> Path:
    """Train on a corpus, choose thresholds from out-of-fold scores, write the model and its report."""
    targets = targets or Targets()
    corpus, dropped = deduplicate(corpus)
    log(f"{len(corpus)} examples ({sum(corpus.labels)} spam) after removing {dropped} duplicates")
    labels = np.asarray(corpus.labels)
    search_results = []
    if search:
        log(f"choosing C among {SEARCH_C} by automation at the error budget")
        params, oof, search_results = search_params(corpus, targets)
        log(f"best parameters: {params}")
    else:
        params = params or {}
        log("leave-one-group-out scores for thresholds and evaluation")
        oof = None
    model, chosen, oof = fit_with_thresholds(corpus, params, targets, oof=oof)
    thresholds = {k: chosen[k] for k in (*THRESHOLD_NAMES, "by_language")}
    log(f"thresholds: approve below {thresholds['approve_below']:.4f} (texts of several sentences: "
        f"{thresholds['approve_parts_below']:.4f}), reject at {thresholds['reject_at']:.4f}; "
        f"by language: {thresholds['by_language']}")
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
            "languages": dict(sorted(Counter(map(str, oof.languages)).items(), key=lambda kv: -kv[1])),
        },
        "thresholds": thresholds,
        "targets": {"reject_precision": targets.reject_precision, "max_spam_approved": targets.max_spam_approved},
        "metrics": {
            "protocol": report["protocol"],
            "search": search_results,
            "out_of_fold": {k: report["overall"][k] for k in ("roc_auc", "average_precision", "best_f1", "brier")},
            "leave_one_video_out": report["leave_one_video_out"],
            "expected_at_thresholds": chosen["expected"],
            "automation_at_error_budget": report["automation_at_error_budget"],
            "by_group": {g: s["policy"] for g, s in report["by_group"].items()},
            "leave_one_source_out": report["cross_source"],
        },
    }
    out_dir = write_model(model, out_root, metadata)
    report["model_version"] = out_dir.name
    write_report(report, labels, oof.scores, out_dir / REPORT_DIR)
    log(f"wrote {out_dir} and its report in {out_dir / REPORT_DIR}")
    return out_dir
