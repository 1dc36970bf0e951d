"""Evaluate a model configuration honestly: leave-one-group-out scores, baselines on the same folds, per source."""

from __future__ import annotations

import itertools
import sys
from dataclasses import dataclass

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
from tqdm import tqdm

from .console import log
from .data import Corpus, fold_groups, link_free_texts, threshold_mask
from .errors import TrainingError
from .features import WORD_TOKEN_PATTERN, build_pipeline, normalize_batch, sentence_tails
from .language import MIN_LANGUAGE_EXAMPLES, UNDETERMINED, detect_languages

TOP_NGRAMS = 25
# Candidate thresholds when one threshold has to serve every video.
THRESHOLD_GRID = np.round(np.arange(0.01, 1.0, 0.01), 2)
MISTAKES_SHOWN = 10
# Languages with fewer examples are reported together as "other".
LANGUAGE_SHOWN_FROM = 20
# A model's thresholds, which each language can have of its own (`approve_parts_below`: models trained since
# the parts rule; older ones judge every text by its whole score).
THRESHOLD_NAMES = ("approve_below", "reject_at", "approve_parts_below")
# What a model's scoring of texts gives an OutOfFold (the rest, languages and familiarity, comes from the texts).
SCORE_FIELDS = ("scores", "without_links", "parts", "parts_without_links")
EXCERPT_CHARS = 160


class progress:  # noqa: N801 - used like a function, as tqdm is
    """Progress of a long step: a bar on a terminal (tqdm), plain log lines otherwise (about every 10 %)."""

    def __init__(self, *, total: int, desc: str):
        self.total, self.desc, self.done, self._next = total, desc, 0, 0
        self.bar = tqdm(total=total, desc=desc, file=sys.stderr, dynamic_ncols=True) if sys.stderr.isatty() else None

    def __enter__(self) -> progress:
        return self

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.close()

    def update(self, n: int = 1) -> None:
        """Count `n` more steps done."""
        self.done += n
        if self.bar is not None:
            self.bar.update(n)
        elif self.done >= self._next or self.done == self.total:
            log(f"{self.desc}: {self.done}/{self.total}")
            self._next = self.done + max(1, self.total // 10)


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


def fit_model(model, texts, labels, weights):
    """Fit a pipeline with sample weights; data it cannot learn from (too few words, one class) is a TrainingError."""
    try:
        if isinstance(model.steps[-1][1], DummyClassifier):
            return model.fit(texts, labels)
        return model.fit(texts, labels, clf__sample_weight=weights)
    except ValueError as exc:
        raise TrainingError(f"cannot train on {len(texts)} examples, {int(np.sum(labels))} of them spam: too few "
                            f"to learn from (scikit-learn: {exc})") from exc


@dataclass
class OutOfFold:
    """Scores of every example by a model that did not train on its group, of its sentence tails, and of its text
    without links (NaN where a text has no tail, no link): what the policy needs to decide it as the service does."""

    scores: np.ndarray
    without_links: np.ndarray  # NaN where the text has no link
    languages: np.ndarray  # detected language of every text, which picks its thresholds
    familiar: np.ndarray  # False where the language is one the model did not learn: the service holds those
    parts: np.ndarray | None = None  # the highest score of the text's sentence tails; NaN where it is one sentence
    parts_without_links: np.ndarray | None = None  # the same for the link-free text

    def __post_init__(self):
        for name in ("parts", "parts_without_links"):
            if getattr(self, name) is None:
                setattr(self, name, np.full(len(self.scores), np.nan))

    def __getitem__(self, mask) -> OutOfFold:
        return OutOfFold(self.scores[mask], self.without_links[mask], self.languages[mask], self.familiar[mask],
                         self.parts[mask], self.parts_without_links[mask])


def score_with_parts(model, normalized: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Each normalised text's score by a fitted pipeline without its normalisation step, and the highest score
    of its sentence tails (NaN for a text of one sentence), in one `predict_proba`."""
    if not normalized:
        return np.zeros(0), np.zeros(0)
    tails = [sentence_tails(text) for text in normalized]
    owners = np.repeat(np.arange(len(normalized)), [len(t) for t in tails])
    probabilities = model.predict_proba([*normalized, *itertools.chain.from_iterable(tails)])[:, 1]
    parts = np.full(len(normalized), -np.inf)
    np.maximum.at(parts, owners, probabilities[len(normalized):])
    return probabilities[:len(normalized)], np.where(np.isinf(parts), np.nan, parts)


def score_texts(model, texts, *, policy: bool = True) -> dict[str, np.ndarray]:
    """Score raw texts with a fitted pipeline: OutOfFold's score fields (`SCORE_FIELDS`). With `policy`, as the
    service decides them: their sentence tails, and the link-free text of those with a link; without, NaN there."""
    texts = list(texts)
    n = len(texts)
    scored = {field: np.full(n, np.nan) for field in SCORE_FIELDS}
    if not n:
        return scored
    if not policy:
        scored["scores"] = model.predict_proba(texts)[:, 1]
        return scored
    normalized = model[0].transform(texts)
    scored["scores"], scored["parts"] = score_with_parts(model[1:], normalized)
    bare = link_free_texts(texts, normalized)
    linked = [i for i, text in enumerate(bare) if text is not None]
    if linked:  # already normalised
        scored["without_links"][linked], scored["parts_without_links"][linked] = score_with_parts(
            model[1:], [bare[i] for i in linked])
    return scored


def cross_validate(corpus: Corpus, make_model, *, name: str = "model", folds=None, hold_out=None,
                   policy: bool = True) -> OutOfFold:
    """Score every example with a model trained on every other group (leave one group out).

    With `policy`, examples are scored as the service decides them: their
    sentence tails too, and those with a link also without it (a baseline
    needs only its scores). `folds` overrides the groups; `hold_out` names
    the only groups to hold out (the others are not scored).
    """
    texts = np.asarray(corpus.texts, dtype=object)
    labels = np.asarray(corpus.labels)
    weights = np.asarray(corpus.weights)
    groups = np.asarray(fold_groups(corpus) if folds is None else folds)
    scored = {field: np.zeros(len(texts)) if field == "scores" else np.full(len(texts), np.nan)
              for field in SCORE_FIELDS}
    unique = sorted(set(groups)) if hold_out is None else list(hold_out)
    with progress(total=len(unique), desc=f"{name}: groups held out") as bar:
        for group in unique:
            held_out = groups == group
            model = fit_model(make_model(), texts[~held_out], labels[~held_out], weights[~held_out])
            for field, values in score_texts(model, texts[held_out], policy=policy).items():
                scored[field][held_out] = values
            bar.update()
    languages = np.asarray(detect_languages(corpus.texts))
    return OutOfFold(**scored, languages=languages, familiar=familiar_languages(languages, np.ones(len(texts), bool)))


def score_unseen(model, texts: list[str], trained_languages) -> OutOfFold:
    """Score texts a fitted model did not train on, as the service would: with their sentence tails, with and
    without links, by language.

    `trained_languages` are the languages of the model's training texts (one
    entry per text), which decide which of these texts it knows enough of.
    """
    languages = np.asarray(detect_languages(list(texts)), dtype=object)
    return OutOfFold(**score_texts(model, texts), languages=languages,
                     familiar=np.isin(languages, list(known_languages(np.asarray(trained_languages, dtype=object)))))


def known_languages(trained_languages: np.ndarray) -> set:
    """The languages with MIN_LANGUAGE_EXAMPLES among the training texts' languages, and "undetermined"."""
    names, counts = np.unique(trained_languages, return_counts=True)
    return set(names[counts >= MIN_LANGUAGE_EXAMPLES]) | {UNDETERMINED}


def familiar_languages(languages: np.ndarray, trained: np.ndarray) -> np.ndarray:
    """Whether each text's language is undetermined or has MIN_LANGUAGE_EXAMPLES among the `trained` texts."""
    return np.isin(languages, list(known_languages(languages[trained])))


def policy_outcome(oof: OutOfFold, thresholds: dict) -> tuple[np.ndarray, np.ndarray]:
    """Which examples the service would auto-approve and auto-reject.

    As in the service: a language with thresholds of its own in
    `by_language` uses them, every other one the global ones; a text of
    several sentences is approved only when it and each of its sentence
    tails score below `approve_parts_below` (thresholds without it, from
    before the rule, judge every text by its whole score); a link alone
    never rejects; a language the model did not learn is never auto-decided.
    """
    n = len(oof.scores)
    bounds = {name: np.full(n, thresholds.get(name, np.nan)) for name in THRESHOLD_NAMES}
    for language, own in thresholds.get("by_language", {}).items():
        for name, values in bounds.items():
            values[oof.languages == language] = own.get(name, np.nan)
    by_parts = ~np.isnan(oof.parts) & ~np.isnan(bounds["approve_parts_below"])
    approve_below = np.where(by_parts, bounds["approve_parts_below"], bounds["approve_below"])
    approved = np.where(by_parts, np.fmax(oof.scores, oof.parts), oof.scores) < approve_below
    bare = np.where(by_parts, np.fmax(oof.without_links, oof.parts_without_links), oof.without_links)
    link_only = bare < approve_below  # NaN (no link) compares false
    return approved & oof.familiar, (oof.scores >= bounds["reject_at"]) & ~link_only & oof.familiar


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


def summarize(labels, oof: OutOfFold, thresholds: dict) -> dict:
    """ROC-AUC, average precision, Brier score, the numbers at 0.5, and what the policy does at its thresholds."""
    labels, scores = np.asarray(labels), oof.scores
    both = 0 < labels.sum() < len(labels)
    approved, rejected = policy_outcome(oof, thresholds)
    n_spam, n_ham = int(labels.sum()), int((labels == 0).sum())
    return {
        "examples": int(len(labels)),
        "spam": n_spam,
        "roc_auc": round(float(roc_auc_score(labels, scores)), 4) if both else None,
        "average_precision": round(float(average_precision_score(labels, scores)), 4) if both else None,
        "best_f1": round(best_f1(labels, scores), 4) if both else None,
        "brier": round(float(brier_score_loss(labels, scores, labels=[0, 1])), 4),
        "at_0.5": at_threshold(labels, scores, 0.5),
        "at_reject_at": at_threshold(labels, scores, thresholds["reject_at"]),
        "policy": {
            "approved_share": round(float(approved.mean()), 4),
            "review_share": round(float(1 - approved.mean() - rejected.mean()), 4),
            "rejected_share": round(float(rejected.mean()), 4),
            "automated_share": round(float((approved | rejected).mean()), 4),
            "reject_precision": round(float(labels[rejected].mean()), 4) if rejected.any() else None,
            "spam_auto_approved": int((approved & (labels == 1)).sum()),
            "spam_auto_approved_share": round(float((approved & (labels == 1)).sum() / n_spam), 4) if n_spam else None,
            "spam_auto_rejected_share": round(float((rejected & (labels == 1)).sum() / n_spam), 4) if n_spam else None,
            "ham_auto_rejected": int((rejected & (labels == 0)).sum()),
            "ham_auto_rejected_share": round(float((rejected & (labels == 0)).sum() / n_ham), 4) if n_ham else None,
        },
    }


def sources_of(corpus: Corpus) -> np.ndarray:
    """The source of every example (each YouTube video, the SMS file, label exports...)."""
    return np.asarray([corpus.source(i) for i in range(len(corpus))])


def _breakdown(keys: np.ndarray, labels: np.ndarray, oof: OutOfFold, thresholds: dict) -> dict:
    return {str(k): summarize(labels[keys == k], oof[keys == k], thresholds) for k in sorted(set(keys))}


def per_source(corpus: Corpus, oof: OutOfFold, thresholds: dict) -> dict:
    """Summaries for each source."""
    return _breakdown(sources_of(corpus), np.asarray(corpus.labels), oof, thresholds)


def per_group(corpus: Corpus, oof: OutOfFold, thresholds: dict) -> dict:
    """Summaries for each held-out group (video, slice): the unit every threshold target must hold in."""
    return _breakdown(np.asarray(fold_groups(corpus)), np.asarray(corpus.labels), oof, thresholds)


def per_language(corpus: Corpus, oof: OutOfFold, thresholds: dict) -> dict:
    """Summaries for each detected language ("und" when the identifier is unsure, "other" for the rare ones)."""
    names, counts = np.unique(oof.languages, return_counts=True)
    rare = names[counts < LANGUAGE_SHOWN_FROM]
    return _breakdown(np.where(np.isin(oof.languages, rare), "other", oof.languages), np.asarray(corpus.labels),
                      oof, thresholds)


def per_kind(corpus: Corpus, params: dict, thresholds: dict) -> dict:
    """Leave one kind out of a corpus that tags kinds (the French one): what a model does with a kind it never saw.

    Each kind is one class, so the numbers are shares: of a spam kind, how
    much is still auto-rejected and how much leaks; of a ham kind, how much
    is auto-approved and how much wrongly rejected.
    """
    kinds = np.asarray([f"{g}#{k}" if k else "" for g, k in zip(corpus.groups, corpus.kinds, strict=True)])
    if not kinds.any():
        return {}
    oof = cross_validate(corpus, lambda: build_pipeline(**params), name="leave one kind out", folds=kinds,
                         hold_out=sorted(set(kinds) - {""}))  # what has no kind is always trained on
    labels = np.asarray(corpus.labels)
    return {k.split("#", 1)[1]: summarize(labels[kinds == k], oof[kinds == k], thresholds)["policy"]
            for k in sorted(set(kinds) - {""})}


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


def leave_one_video_out(corpus: Corpus, oof: OutOfFold, by_source: dict) -> dict | None:
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
        **(single_threshold(np.asarray(corpus.labels), oof.scores, sources_of(corpus)) or {}),
    }


def _excerpt(text: str) -> str:
    """One line of at most EXCERPT_CHARS characters."""
    line = " ".join(text.split())
    return line if len(line) <= EXCERPT_CHARS else line[: EXCERPT_CHARS - 1] + "…"


def _example(corpus: Corpus, index: int, score: float) -> dict:
    return {"source": corpus.source(index), "label": int(corpus.labels[index]), "text": _excerpt(corpus.texts[index]),
            "score": round(float(score), 4)}


def confident_mistakes(corpus: Corpus, oof: OutOfFold, limit: int = MISTAKES_SHOWN) -> dict:
    """The out-of-fold mistakes the model is surest of: where to look for wrong labels first."""
    scores = oof.scores
    labels = np.asarray(corpus.labels)
    ham = np.flatnonzero((labels == 0) & (scores >= 0.5))
    spam = np.flatnonzero((labels == 1) & (scores < 0.5))
    return {
        "ham_scored_as_spam": [_example(corpus, i, scores[i]) for i in ham[np.argsort(-scores[ham])][:limit]],
        "spam_scored_as_ham": [_example(corpus, i, scores[i]) for i in spam[np.argsort(scores[spam])][:limit]],
    }


def cross_source(corpus: Corpus, params: dict, thresholds: dict) -> list[dict]:
    """Leave one source out: train without YouTube, SMS or the French corpus and test on it at the shipped thresholds."""
    families = np.asarray([corpus.family(i) for i in range(len(corpus))])
    labels = np.asarray(corpus.labels)
    rows = []
    for family in sorted(set(families)):
        test = families == family
        if test.all() or len(set(labels[~test])) < 2 or len(set(labels[test])) < 2:
            continue
        oof = cross_validate(corpus, lambda: build_pipeline(**params), name=f"without {family}",
                             folds=families, hold_out=[family])
        # Only the languages of the other sources are known: the service would hold the rest for review.
        oof.familiar = familiar_languages(oof.languages, ~test)
        summary = summarize(labels[test], oof[test], thresholds)
        rows.append({"held_out": family, "trained_on": sorted(set(families[~test])), "roc_auc": summary["roc_auc"],
                     "at_0.5": summary["at_0.5"], "policy": summary["policy"]})
    return rows


def top_ngrams(pipeline, limit: int = TOP_NGRAMS) -> dict:
    """The n-grams with the largest spam and ham weights in a fitted pipeline."""
    names = pipeline.named_steps["features"].get_feature_names_out()
    coef = pipeline.named_steps["clf"].coef_[0]
    order = np.argsort(coef)
    pick = lambda idx: [{"ngram": str(names[i]), "weight": round(float(coef[i]), 4)} for i in idx]  # noqa: E731
    return {"spam": pick(order[::-1][:limit]), "ham": pick(order[:limit])}


def automation(corpus: Corpus, oof: OutOfFold, thresholds: dict, by_source: dict) -> dict:
    """Automation at the error budget: the share auto-decided where the thresholds are set, overall and per source."""
    counted = np.asarray(threshold_mask(corpus))
    labels = np.asarray(corpus.labels)
    return {"comments": summarize(labels[counted], oof[counted], thresholds)["policy"],
            "by_source": {k: v["policy"] for k, v in by_source.items()}}


def evaluate(corpus: Corpus, params: dict, thresholds: dict, *, oof: OutOfFold | None = None,
             pipeline=None, baselines: bool = True) -> tuple[dict, OutOfFold]:
    """Build the evaluation report of a configuration on a (deduplicated) corpus; return it and the OOF scores."""
    if oof is None:
        log("leave-one-group-out scores of the model")
        oof = cross_validate(corpus, lambda: build_pipeline(**params))
    labels = np.asarray(corpus.labels)
    by_source = per_source(corpus, oof, thresholds)
    report = {
        "protocol": ("leave one group out: each YouTube video is a group, pooled files (SMS, CSV, labels) are split "
                     "into stable slices; texts deduplicated on their normalised form before splitting; a text with "
                     "a link is also scored without it, as the service does before rejecting, and a text of several "
                     "sentences from each of its later sentences on, as it does before approving; thresholds are set so "
                     "that every group of web comments (not SMS) meets the targets, a pooled file counting as one "
                     "group when its slices are too small to hold one leaked spam each"),
        "groups": sorted(set(fold_groups(corpus))),
        "params": params,
        "thresholds": thresholds,
        "overall": summarize(labels, oof, thresholds),
        "automation_at_error_budget": automation(corpus, oof, thresholds, by_source),
        "leave_one_video_out": leave_one_video_out(corpus, oof, by_source),
        "by_source": by_source,
        "by_group": per_group(corpus, oof, thresholds),
        "by_language": per_language(corpus, oof, thresholds),
        "baselines": {},
        "cross_source": [],
        "unseen_kinds": {},
        "confident_mistakes": confident_mistakes(corpus, oof),
    }
    if baselines:
        for name, factory in (("multinomial_nb", build_nb_baseline), ("majority", build_majority_baseline)):
            log(f"leave-one-group-out scores of the {name} baseline")
            scores = cross_validate(corpus, factory, name=name, policy=False)
            base_sources = per_source(corpus, scores, thresholds)
            report["baselines"][name] = {"overall": summarize(labels, scores, thresholds),
                                         "leave_one_video_out": leave_one_video_out(corpus, scores, base_sources)}
        log("leave-one-source-out checks")
        report["cross_source"] = cross_source(corpus, params, thresholds)
        log("leave-one-kind-out checks")
        report["unseen_kinds"] = per_kind(corpus, params, thresholds)
    if pipeline is not None:
        report["top_ngrams"] = top_ngrams(pipeline)
    return report, oof
