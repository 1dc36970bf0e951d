"""Gated retraining: train a candidate on the moderators' labels, compare it with the active model on the
newest labels it never saw, and promote it only if it is better.

The labels (archive plus stream, newest decision per comment) are ordered by
decision time; the newest HOLDOUT_SHARE are held out. The candidate is
trained by `python -m model_training train` on the base data plus the older
labels, with the active model's hyper-parameters (no search). Both models
then decide the held-out comments exactly as the service would (thresholds
per language, unfamiliar languages held, a link alone never rejects), and
the candidate is promoted only if it automates more while it is at least as
good as the active model on auto-reject precision and on spam leak, or
within the error budget the active model's thresholds were chosen for (its
metadata's `targets`: precision 0.99, 2 % of spam auto-approved by
default): on a few hundred held-out labels, one mistake more than a model
that decides almost nothing must not block every candidate.
Every run is recorded, promoted or not, with the metrics of both models.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from model_training.artifact import ArtifactError, model_in_root

from ..clock import iso
from ..errors import ModelError, ValidationError
from ..storage import labels, model_registry
from . import intake, promotion
from .model import LoadedModel, load_model
from .model_manager import ModelState, thresholds_of

HOLDOUT_SHARE = 0.2
MIN_LABELS = 50


def split_by_time(records: list[dict]) -> tuple[list[dict], list[dict]]:
    """The labels to train on and the newest HOLDOUT_SHARE to judge on (`records` in decision order)."""
    held = max(1, round(len(records) * HOLDOUT_SHARE))
    return records[:-held], records[-held:]


def judge(model: LoadedModel, records: list[dict]) -> dict:
    """How a model decides labelled comments, as the service decides them: automation and both kinds of error."""
    state = ModelState(active=model, thresholds=thresholds_of(model))
    counts = {"approved": [0, 0], "rejected": [0, 0], "pending": [0, 0]}  # status -> [ham, spam]
    submissions = [{"text": record["text"], "lang": record.get("lang")} for record in records]
    assessments = intake.preview(state, submissions, [[] for _ in records], explain=0)
    for record, assessment in zip(records, assessments, strict=True):
        counts[assessment.decision.status][record["label"]] += 1
    spam = sum(c[1] for c in counts.values())
    rejected = sum(counts["rejected"])
    return {"labels": len(records), "auto_share": round((len(records) - sum(counts["pending"])) / len(records), 4),
            "reject_precision": round(counts["rejected"][1] / rejected, 4) if rejected else None,
            "spam_auto_approved": round(counts["approved"][1] / spam, 4) if spam else None,
            "ham_auto_rejected": counts["rejected"][0], "spam_approved": counts["approved"][1]}


def compare(candidate: dict, active: dict, targets: dict) -> tuple[bool, str]:
    """Whether the candidate may replace the active model, and why (see the module's docstring).

    `targets` is the error budget of the active model's metadata (`reject_precision`, `max_spam_approved`).
    """
    precision_floor = min(1.0 if active["reject_precision"] is None else active["reject_precision"],
                          targets["reject_precision"])
    leak_ceiling = max(active["spam_auto_approved"] or 0.0, targets["max_spam_approved"])
    if candidate["reject_precision"] is not None and candidate["reject_precision"] < precision_floor:
        return False, (f"auto-reject precision {candidate['reject_precision']:.3f} is below "
                       f"{precision_floor:.3f} (the active model's, or the target)")
    if (candidate["spam_auto_approved"] or 0.0) > leak_ceiling:
        return False, (f"{candidate['spam_auto_approved']:.1%} of the spam is auto-approved, more than "
                       f"{leak_ceiling:.1%} (the active model's, or the target)")
    if candidate["auto_share"] <= active["auto_share"]:
        return False, (f"it automates {candidate['auto_share']:.1%} of the held-out comments, "
                       f"not more than the active model's {active['auto_share']:.1%}")
    return True, (f"it automates {candidate['auto_share']:.1%} of the held-out comments against "
                  f"{active['auto_share']:.1%}, with no more errors than allowed")


@dataclass
class Retrainer:
    """One retraining run's settings: where models live, what to train on, who runs it."""

    client: object
    models_root: Path
    label_archive: labels.LabelArchive
    data: list[Path]
    actor: str
    label_weight: float | None = None
    min_new_labels: int = 0  # do nothing unless this many labels arrived since the last recorded run

    def active_model(self) -> LoadedModel:
        """The model every instance serves (the promoted one, else the models root's ACTIVE one)."""
        record = promotion.active_record(self.client, self.models_root)
        if record is None:
            raise ModelError(f"there is no active model in {self.models_root}")
        try:
            return load_model(model_in_root(self.models_root, record["version"]), expected_sha256=record["sha256"])
        except ArtifactError as exc:
            raise ModelError(str(exc)) from exc

    def train_candidate(self, training_labels: list[dict], params: dict) -> Path:
        """Run `python -m model_training train` on the base data and these labels; return the new model's directory."""
        with tempfile.TemporaryDirectory() as tmp:
            labels_file = Path(tmp) / "labels.jsonl"
            labels_file.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in training_labels),
                                   encoding="utf-8")
            command = [sys.executable, "-m", "model_training", "train", "--data", *map(str, self.data),
                       str(labels_file), "--out", str(self.models_root), "--no-baselines", "--no-search"]
            if "C" in params:
                command += ["--C", str(params["C"])]
            if self.label_weight is not None:
                command += ["--weight", f"labels={self.label_weight:g}"]
            result = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False)  # progress on stderr
        if result.returncode != 0:
            raise ModelError(f"training the candidate failed (exit status {result.returncode}); see the output above")
        return Path(result.stdout.strip().splitlines()[-1])

    def new_labels(self, total: int) -> int:
        """How many of `total` labels arrived since the last recorded run (all of them before the first)."""
        runs = model_registry.retrain_runs(self.client)
        return total - (runs[0]["labels"]["trained_on"] + runs[0]["labels"]["held_out"] if runs else 0)

    def run(self) -> dict:
        """Retrain, judge, promote or keep; record the run and return its report.

        When fewer than `min_new_labels` labels arrived since the last run,
        nothing is trained or recorded and the report is only `skipped` and
        its reason: a schedule can call it often and retrain every
        `min_new_labels` decisions.
        """
        records = list(labels.iter_labels(self.client, self.label_archive))
        new = self.new_labels(len(records))
        if new < self.min_new_labels:
            return {"skipped": True, "reason": f"{new} new labels since the last run, fewer than {self.min_new_labels}"}
        if len(records) < MIN_LABELS:
            raise ValidationError([{"field": "labels", "message": f"{len(records)} labels; at least {MIN_LABELS} "
                                                                  "are needed to train and judge a candidate"}],
                                  detail=f"only {len(records)} moderator labels: retraining needs {MIN_LABELS}")
        training, held_out = split_by_time(records)
        active = self.active_model()
        candidate_dir = self.train_candidate(training, active.metadata.get("params", {}))
        candidate = load_model(candidate_dir)
        scores = {"candidate": judge(candidate, held_out), "active": judge(active, held_out)}
        better, reason = compare(scores["candidate"], scores["active"], active.metadata["targets"])
        report = {"at": iso(), "by": self.actor, "candidate": candidate.version, "active": active.version,
                  "labels": {"trained_on": len(training), "held_out": len(held_out),
                             "held_out_from": held_out[0].get("decided_at")},
                  "metrics": scores, "promoted": better, "reason": reason}
        if better:
            promotion.promote(self.client, candidate_dir, self.actor, self.models_root)
        (candidate_dir / "retrain.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
        model_registry.record_retrain_run(self.client, report)
        return report
