"""Replay a new site's comments against a model to see how fast the moderators' labels pay off.

The model starts from `--data` alone. Each comment of the stream, in order,
is scored and decided as the service would (thresholds per language, a link
alone never rejects, languages the model has not learned are held): an
automatic decision counts as decided, right or wrong against the comment's
true label; a comment sent to review becomes a moderator's label. Every
`every` labels the model is retrained on the data plus the labels (weighted
as in production, DEFAULT_WEIGHTS["labels"]) with the hyper-parameters
chosen once at the start, and its thresholds are chosen again as `train`
chooses them.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np

from .data import DEFAULT_WEIGHTS, Corpus, deduplicate, load_file
from .evaluate import log, policy_outcome, progress, score_unseen
from .train import Targets, fit_with_thresholds, search_params

CURVE_FILE = "curve.json"
PLOT_FILE = "curve.png"


class Window:
    """What happened to the comments seen since the last retraining."""

    def __init__(self):
        self.seen = self.automated = self.ham = self.spam = self.ham_rejected = self.spam_approved = 0

    def count(self, label: int, status: str) -> None:
        self.seen += 1
        self.ham += label == 0
        self.spam += label == 1
        if status != "pending":
            self.automated += 1
            self.ham_rejected += label == 0 and status == "rejected"
            self.spam_approved += label == 1 and status == "approved"

    def entry(self, labels: int, model_labels: int) -> dict:
        """One point of the curve: shares of the comments seen, of the ham seen and of the spam seen.

        `labels` is the number of labels at the end of the window (when the
        model is retrained), `model_labels` the number the model that decided
        the window's comments had learnt from.
        """
        return {"labels": labels, "model_labels": model_labels, "seen": self.seen,
                "auto_share": round(self.automated / self.seen, 4) if self.seen else None,
                "ham_auto_rejected": round(self.ham_rejected / self.ham, 4) if self.ham else None,
                "spam_auto_approved": round(self.spam_approved / self.spam, 4) if self.spam else None,
                "ham": self.ham, "spam": self.spam}


def read_stream(path: Path, seed: int | None = None) -> list[tuple[str, int]]:
    """The stream's (text, label) pairs in file order, or shuffled with `seed`."""
    corpus = load_file(path)  # any labelled file the loader recognises
    pairs = list(zip(corpus.texts, corpus.labels, strict=True))
    if seed is not None:
        random.Random(seed).shuffle(pairs)
    return pairs


def simulate(base: Corpus, stream: list[tuple[str, int]], *, every: int, targets: Targets | None = None,
             params: dict | None = None, label_weight: float | None = None) -> list[dict]:
    """Replay the stream; return the curve (one entry per retraining, then one for the comments after the last)."""
    targets = targets or Targets()
    weight = DEFAULT_WEIGHTS.get("labels", 1.0) if label_weight is None else label_weight
    base, _ = deduplicate(base)
    if params is None:
        log(f"choosing C once, on the {len(base)} examples of --data")
        params, _, _ = search_params(base, targets)
    log(f"parameters {params}, label weight {weight:g}, retraining every {every} labels")
    labelled = Corpus()
    model, thresholds, oof = fit_with_thresholds(base, params, targets)
    curve, window, position = [], Window(), 0
    with progress(total=len(stream), desc="simulate") as bar:
        while position < len(stream):
            texts = [text for text, _ in stream[position:]]
            approved, rejected = policy_outcome(score_unseen(model, texts, oof.languages), thresholds)
            retrain = False
            for i, (text, label) in enumerate(stream[position:]):
                status = "approved" if approved[i] else "rejected" if rejected[i] else "pending"
                window.count(label, status)
                bar.update(1)
                if status == "pending":
                    labelled.add(text, label, "labels:simulated", weight)
                    if len(labelled) % every == 0:
                        retrain, position = True, position + i + 1
                        break
            if not retrain:
                break
            curve.append(window.entry(len(labelled), curve[-1]["labels"] if curve else 0))
            window = Window()
            corpus = Corpus()
            corpus.extend(base)
            corpus.extend(labelled)
            corpus, _ = deduplicate(corpus)
            log(f"retraining on {len(corpus)} examples with {len(labelled)} labels")
            model, thresholds, oof = fit_with_thresholds(corpus, params, targets)
    if window.seen:
        curve.append(window.entry(len(labelled), curve[-1]["labels"] if curve else 0))
    return curve


# The curve's error rates, with what they count and how a person calls them.
ERRORS = (("ham_auto_rejected", "ham", "ham auto-rejected"), ("spam_auto_approved", "spam", "spam auto-approved"))


def curve_lines(curve: list[dict]) -> list[str]:
    """The curve as a person reads it: per model, how many labels it had learnt from and what it did next."""
    lines = []
    for entry in curve:
        if not entry["seen"]:
            continue
        errors = [f"no {of} seen" if entry[key] is None else f"{words} {entry[key]:.1%} of {entry[of]}"
                  for key, of, words in ERRORS]
        lines.append(f"model trained on {entry['model_labels']} labels: {entry['seen']} comments, "
                     f"{entry['auto_share']:.1%} auto-decided; {', '.join(errors)}")
    return lines


def write_curve(curve: list[dict], out_dir: Path, title: str = "") -> Path:
    """Write curve.json and its plot (automation and both error rates against the labels) in out_dir."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / CURVE_FILE).write_text(json.dumps(curve, indent=2) + "\n")
    from .report import plt  # matplotlib with its non-interactive backend
    figure, axis = plt.subplots(figsize=(7, 4))
    x = [entry["model_labels"] for entry in curve]
    lines = [("auto_share", "auto-decided"), *((key, words) for key, _, words in ERRORS)]
    for (key, name), style in zip(lines, ("o-", "s--", "^:"), strict=True):
        axis.plot(x, [np.nan if entry[key] is None else entry[key] for entry in curve], style, label=name)
    for entry, share in zip(curve, (e["auto_share"] for e in curve), strict=True):
        axis.annotate(f"n={entry['seen']}", (entry["model_labels"], share or 0), textcoords="offset points",
                      xytext=(0, 7), ha="center", fontsize=7)
    axis.set_xlabel("moderator labels the model had learnt from (n: comments it decided)")
    axis.set_ylabel("share of the comments it decided")
    axis.set_ylim(0, 1)
    axis.grid(alpha=0.3)
    axis.legend()
    axis.set_title(title or "Automation as the moderators' labels accumulate", fontsize=10)
    figure.tight_layout()
    figure.savefig(out_dir / PLOT_FILE, dpi=110)
    plt.close(figure)
    return out_dir / CURVE_FILE
