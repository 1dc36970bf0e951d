"""Write an evaluation report as JSON, Markdown and PNG plots."""

from __future__ import annotations

import html
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.calibration import calibration_curve  # noqa: E402
from sklearn.metrics import precision_recall_curve, roc_curve  # noqa: E402

PLOTS = ("roc.png", "precision_recall.png", "score_histogram.png", "calibration.png", "confusion.png")


def _save(fig, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_plots(labels, scores, thresholds: dict, out_dir: Path) -> None:
    """Draw ROC, precision-recall, score histograms by class, reliability, and confusion matrices."""
    labels = np.asarray(labels)
    fpr, tpr, _ = roc_curve(labels, scores)
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.plot(fpr, tpr)
    ax.plot([0, 1], [0, 1], linestyle=":", color="grey")
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC (out of fold)")
    _save(fig, out_dir / "roc.png")

    precision, recall, _ = precision_recall_curve(labels, scores)
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.plot(recall, precision)
    ax.set(xlabel="recall", ylabel="precision", title="Precision-recall (out of fold)")
    _save(fig, out_dir / "precision_recall.png")

    fig, ax = plt.subplots(figsize=(6, 4))
    bins = np.linspace(0, 1, 41)
    ax.hist(scores[labels == 0], bins=bins, alpha=0.6, label="ham", log=True)
    ax.hist(scores[labels == 1], bins=bins, alpha=0.6, label="spam", log=True)
    for name in ("approve_below", "reject_at"):
        ax.axvline(thresholds[name], color="black", linestyle="--")
        ax.text(thresholds[name], ax.get_ylim()[1] * 0.5, f" {name}", rotation=90, va="top")
    ax.set(xlabel="spam probability", ylabel="comments (log)", title="Scores by class")
    ax.legend()
    _save(fig, out_dir / "score_histogram.png")

    observed, predicted = calibration_curve(labels, scores, n_bins=10, strategy="quantile")
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.plot(predicted, observed, marker="o")
    ax.plot([0, 1], [0, 1], linestyle=":", color="grey")
    ax.set(xlabel="predicted spam probability", ylabel="observed spam share", title="Reliability")
    _save(fig, out_dir / "calibration.png")

    fig, axes = plt.subplots(1, 2, figsize=(8, 3.6))
    for ax, name in zip(axes, ("approve_below", "reject_at"), strict=True):
        predicted_spam = scores >= thresholds[name]
        matrix = np.array([[np.sum(~predicted_spam & (labels == 0)), np.sum(predicted_spam & (labels == 0))],
                           [np.sum(~predicted_spam & (labels == 1)), np.sum(predicted_spam & (labels == 1))]])
        ax.imshow(matrix, cmap="Blues")
        for (i, j), value in np.ndenumerate(matrix):
            ax.text(j, i, str(value), ha="center", va="center")
        ax.set(xticks=[0, 1], yticks=[0, 1], xticklabels=["< t", "≥ t"], yticklabels=["ham", "spam"],
               title=f"{name} = {thresholds[name]:.3f}")
    _save(fig, out_dir / "confusion.png")


def _row(name: str, s: dict) -> str:
    return (f"| {name} | {s['examples']} | {s['spam']} | {s['roc_auc']} | {s['best_f1']} | {s['at_0.5']['f1']} | "
            f"{s['at_reject_at']['precision']} | {s['at_reject_at']['f1']} | {s['policy']['review_share']} |")


def _share(value) -> str:
    return "–" if value is None else f"{value:.1%}"


POLICY_HEADER = ["| | examples | spam | ROC-AUC | auto-decided | to review | auto-reject precision | spam auto-rejected "
                 "| spam auto-approved | ham auto-rejected |", "|---|---|---|---|---|---|---|---|---|---|"]


def _policy_row(name: str, s: dict) -> str:
    p = s["policy"]
    return (f"| {name} | {s['examples']} | {s['spam']} | {s['roc_auc']} | {_share(p['automated_share'])} | "
            f"{_share(p['review_share'])} | {_share(p['reject_precision'])} | {_share(p['spam_auto_rejected_share'])} | "
            f"{_share(p['spam_auto_approved_share'])} | {_share(p['ham_auto_rejected_share'])} |")


def _policy_lines(report: dict) -> list[str]:
    budget = report["automation_at_error_budget"]["comments"]
    lines = ["## Automation at the error budget (out of fold, at the shipped thresholds)", "",
             f"Web comments (every source but SMS): **{budget['automated_share']:.1%} decided automatically** with "
             f"auto-reject precision {_share(budget['reject_precision'])} and "
             f"{_share(budget['spam_auto_approved_share'])} of spam auto-approved; {budget['review_share']:.1%} go "
             "to review. A comment whose words alone score below approve-below is never rejected for its link.", "",
             *POLICY_HEADER]
    lines += [_policy_row(name, s) for name, s in report["by_source"].items()]
    lines += ["", "### Per held-out group (every threshold target must hold in each web-comment group)", "",
              *POLICY_HEADER]
    lines += [_policy_row(name, s) for name, s in report["by_group"].items()]
    lines += ["", "### Per detected language", "", *POLICY_HEADER]
    lines += [_policy_row(lang, s) for lang, s in report.get("by_language", {}).items()] + [""]
    return lines


def _cross_source_lines(report: dict) -> list[str]:
    if not report["cross_source"]:
        return []
    lines = ["## Leave one source out (train without a source, test on it at the shipped thresholds)", "",
             "| held out | trained on | ROC-AUC | auto-decided | auto-reject precision | spam auto-rejected "
             "| spam auto-approved | ham auto-rejected |", "|---|---|---|---|---|---|---|---|"]
    for r in report["cross_source"]:
        p = r["policy"]
        lines.append(f"| {r['held_out']} | {', '.join(r['trained_on'])} | {r['roc_auc']} | "
                     f"{_share(p['automated_share'])} | {_share(p['reject_precision'])} | "
                     f"{_share(p['spam_auto_rejected_share'])} | {_share(p['spam_auto_approved_share'])} | "
                     f"{_share(p['ham_auto_rejected_share'])} |")
    return lines + [""]


def _unseen_kind_lines(report: dict) -> list[str]:
    kinds = report.get("unseen_kinds")
    if not kinds:
        return []
    lines = ["## Kinds never seen (leave one kind of the French corpus out)", "",
             "Each kind is held out whole, so the model has seen no comment like it: a stress test, harsher than a "
             "new site that gets the same kinds in other words.", "",
             "| kind | auto-approved | to review | auto-rejected |", "|---|---|---|---|"]
    lines += [f"| {kind} | {_share(p['approved_share'])} | {_share(p['review_share'])} | {_share(p['rejected_share'])} |"
              for kind, p in kinds.items()]
    return lines + [""]


def _lovo_row(name: str, lovo: dict) -> str:
    single = (f"{lovo['f1_at_threshold_from_other_videos']} | {lovo['f1_at_best_single_threshold']} "
              f"(at {lovo['best_single_threshold']})" if "best_single_threshold" in lovo else "– | –")
    return f"| {name} | {lovo['roc_auc']} | {lovo['f1_at_0.5']} | {lovo['f1_at_reject_at']} | {single} | {lovo['best_f1']} |"


def markdown_cell(text: str) -> str:
    """A corpus text made inert in a Markdown table cell: no HTML, links, emphasis or cell breaks."""
    for ch in "\\`*_[]#~":
        text = text.replace(ch, "\\" + ch)
    return html.escape(text, quote=False).replace("|", "&#124;")


def _mistake_lines(report: dict) -> list[str]:
    mistakes = report.get("confident_mistakes")
    if not mistakes:
        return []
    lines = ["## Most confident mistakes (out of fold)", "",
             "Check these labels first: a confident mistake is often a wrong label.", ""]
    for title, key in (("Ham scored as spam", "ham_scored_as_spam"), ("Spam scored as ham", "spam_scored_as_ham")):
        lines += [f"**{title}**", "", "| score | source | text |", "|---|---|---|"]
        lines += [f"| {m['score']:.3f} | {m['source']} | {markdown_cell(m['text'])} |" for m in mistakes[key]] + [""]
    return lines


def _bounds(thresholds: dict) -> str:
    """One set of thresholds in words."""
    parts = thresholds.get("approve_parts_below")
    several = f" (several sentences: {parts:.4f}, on their highest part)" if parts is not None else ""
    return f"approve below {thresholds['approve_below']:.4f}{several}, reject at {thresholds['reject_at']:.4f}"


def render_markdown(report: dict) -> str:
    """Render the report's main numbers as Markdown."""
    t = report["thresholds"]
    lines = [
        f"# Evaluation report{' — model ' + report['model_version'] if report.get('model_version') else ''}",
        "",
        f"Protocol: {report['protocol']}.",
        f"Parameters: `{json.dumps(report['params'])}`. Thresholds: {_bounds(t)}"
        + "".join(f"; {language}: {_bounds(own)}" for language, own in t.get("by_language", {}).items()) + ".",
        "",
    ]
    lovo = report.get("leave_one_video_out")
    if lovo:
        lines += ["## Leave one video out (mean over the YouTube videos)", "",
                  "| model | ROC-AUC | F1 at 0.5 | F1 at reject-at | F1, threshold chosen on the other videos "
                  "| F1, best single threshold | best F1 (oracle threshold per video) |",
                  "|---|---|---|---|---|---|---|",
                  _lovo_row("this model", lovo)]
        for name, base in report["baselines"].items():
            if base["leave_one_video_out"]:
                lines.append(_lovo_row(name, base["leave_one_video_out"]))
        lines += ["", "A threshold chosen on the other videos is what a shipped threshold faces on an unseen page; the "
                  "best single threshold is chosen in hindsight, and the oracle column picks one per video.", ""]
    header = ["| | examples | spam | ROC-AUC | best F1 | F1 at 0.5 | precision at reject-at | F1 at reject-at | review share |",
              "|---|---|---|---|---|---|---|---|---|"]
    lines += _policy_lines(report)
    lines += ["## Overall, per source and per detected language (out of fold)", ""] + header + [_row("all", report["overall"])]
    lines += [_row(name, s) for name, s in report["by_source"].items()]
    lines += [_row(f"language: {lang}", s) for lang, s in report.get("by_language", {}).items()]
    p = report["overall"]["policy"]
    lines += ["", f"Policy at the thresholds: {p['approved_share']:.1%} approved, {p['review_share']:.1%} to review, "
              f"{p['rejected_share']:.1%} rejected; {p['spam_auto_approved']} spam auto-approved, "
              f"{p['ham_auto_rejected']} ham auto-rejected.", ""]
    if report["baselines"]:
        lines += ["## Baselines on the same folds", ""] + header
        lines += [_row(name, b["overall"]) for name, b in report["baselines"].items()] + [""]
    lines += _cross_source_lines(report) + _unseen_kind_lines(report)
    if report.get("top_ngrams"):
        for side in ("spam", "ham"):
            grams = ", ".join(f"`{g['ngram']}` ({g['weight']:+.2f})" for g in report["top_ngrams"][side][:15])
            lines += [f"**Top {side} n-grams:** {grams}", ""]
    lines += _mistake_lines(report)
    lines += ["## Plots", ""] + [f"![{name}]({name})" for name in PLOTS] + [""]
    return "\n".join(lines)


def write_report(report: dict, labels, scores, out_dir: Path) -> Path:
    """Write report.json, report.md and the plots into out_dir; return out_dir."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    (out_dir / "report.md").write_text(render_markdown(report))
    write_plots(labels, np.asarray(scores), report["thresholds"], out_dir)
    return out_dir
