"""Gated retraining against real processes: a better candidate is promoted to a running service, a worse one is
refused, and both runs are recorded."""

from __future__ import annotations

import csv
import json
import os
import random
import shutil
import subprocess
import sys
import urllib.request

import pytest

from model_training.__main__ import main as training_main
from service.moderation.retraining import compare, split_by_time
from service.storage import keys, model_registry

from .conftest import FRENCH_CORPUS, PROJECT_ROOT, running_service
from .test_lifecycle import ready_version, wait_until_all_serve


@pytest.fixture(scope="module")
def weak_root(tmp_path_factory, uci_data):
    """A models root whose active model knows two English videos and no French."""
    root = tmp_path_factory.mktemp("models")
    assert training_main(["train", "--data", str(uci_data / "Youtube01-Psy.csv"), str(uci_data / "Youtube03-LMFAO.csv"),
                          "--out", str(root), "--no-search", "--C", "10", "--no-baselines"]) == 0
    (root / "ACTIVE").write_text(next(p.name for p in root.iterdir() if p.is_dir()))
    return root


def french_rows() -> list[tuple[str, int]]:
    with FRENCH_CORPUS.open(encoding="utf-8") as f:
        rows = [(row["text"], int(row["label"])) for row in csv.DictReader(f)]
    random.Random(0).shuffle(rows)
    return rows


def push_labels(redis_client, rows, *, flipped: int = 0, first_id: int = 0) -> None:
    """Moderators' decisions, in order, as scripts.DECIDE appends them; the first `flipped` ones are wrong."""
    for n, (text, label) in enumerate(rows):
        redis_client.xadd(keys.label_stream(), {"label": json.dumps({
            "comment_id": f"{first_id + n:024x}", "text": text, "label": 1 - label if n < flipped else label,
            "lang": "fr", "decided_by": "awa", "decided_at": "2026-12-01T10:00:00+00:00"})})


def retrain(redis_server, root, labels_dir, *data, options=()):
    env = {**os.environ, "MODERATION_REDIS_URL": redis_server.url, "MODERATION_LABELS_DIR": str(labels_dir)}
    return subprocess.run([sys.executable, "-m", "service", "retrain", "--models-root", str(root), *options,
                           "--data", *map(str, data)], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
                          timeout=600)


def get_json(url: str, headers: dict) -> dict:
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as response:
        return json.loads(response.read())


def test_retrain_promotes_a_better_candidate_and_refuses_a_worse_one(weak_root, redis_server, redis_client, admin,
                                                                    uci_data, tmp_path):
    rows = french_rows()
    videos = (uci_data / "Youtube01-Psy.csv", uci_data / "Youtube03-LMFAO.csv")
    with running_service(MODERATION_REDIS_URL=redis_server.url, MODERATION_MODELS_ROOT=weak_root,
                         MODERATION_MODEL_POLL_SECONDS=1, MODERATION_WORKERS=1, MODERATION_DATA_DIR=tmp_path) as base:
        weak = ready_version(base)
        push_labels(redis_client, rows[:200])
        # The candidate learns French (the corpus and the labels): it automates what the weak model holds.
        better = retrain(redis_server, weak_root, tmp_path / "labels", *videos, FRENCH_CORPUS)
        assert better.returncode == 0, better.stderr
        assert "promoted:" in better.stderr
        promoted = better.stdout.strip()
        assert promoted != weak
        wait_until_all_serve(base, promoted)

        # Labels started over (the stream and the archive the service's exporter wrote), by moderators who got
        # the older decisions backwards: a candidate trained on them must not replace the active model.
        redis_client.delete(keys.label_stream())
        shutil.rmtree(tmp_path / "labels", ignore_errors=True)
        push_labels(redis_client, rows[200:400], flipped=160, first_id=1000)
        worse = retrain(redis_server, weak_root, tmp_path / "labels", *videos)
        assert worse.returncode == 0, worse.stderr
        assert "kept the active model:" in worse.stderr and worse.stdout.strip() == promoted
        assert ready_version(base) == promoted

        history = get_json(f"{base}/v1/admin/model", admin)
    assert history["active"]["version"] == promoted and history["active"]["by"].endswith("(cli)")
    assert history["previous"][0]["version"] == weak
    refused, accepted = history["retraining"]
    assert (accepted["promoted"], accepted["candidate"], accepted["active"]) == (True, promoted, weak)
    assert (refused["promoted"], refused["active"]) == (False, promoted)
    assert refused["labels"] == {"trained_on": 160, "held_out": 40, "held_out_from": "2026-12-01T10:00:00+00:00"}
    for run in (accepted, refused):
        assert set(run["metrics"]) == {"candidate", "active"} and run["reason"]
        assert json.loads((weak_root / run["candidate"] / "retrain.json").read_text()) == run
    assert accepted["metrics"]["candidate"]["auto_share"] > accepted["metrics"]["active"]["auto_share"]


def test_too_few_labels_are_refused_with_a_clear_message(redis_server, redis_client, weak_root, tmp_path, uci_data):
    push_labels(redis_client, french_rows()[:10])
    result = retrain(redis_server, weak_root, tmp_path / "labels", uci_data / "Youtube01-Psy.csv")
    assert result.returncode == 2 and "only 10 moderator labels" in result.stderr


def test_a_schedule_retrains_only_once_enough_new_labels_arrived(redis_server, redis_client, weak_root, tmp_path,
                                                                  uci_data):
    rows = french_rows()
    push_labels(redis_client, rows[:30])
    model_registry.record_retrain_run(redis_client, {"at": "2026-12-01T09:00:00+00:00", "by": "cron",
                                                     "labels": {"trained_on": 16, "held_out": 4}, "promoted": False})
    every_20 = {"options": ("--min-new-labels", "20")}
    waiting = retrain(redis_server, weak_root, tmp_path / "labels", uci_data / "Youtube01-Psy.csv", **every_20)
    assert waiting.returncode == 0, waiting.stderr
    assert "nothing to do: 10 new labels since the last run, fewer than 20" in waiting.stderr
    assert len(model_registry.retrain_runs(redis_client)) == 1  # nothing trained, nothing recorded
    push_labels(redis_client, rows[30:40], first_id=30)
    due = retrain(redis_server, weak_root, tmp_path / "labels", uci_data / "Youtube01-Psy.csv", **every_20)
    assert due.returncode == 2 and "only 40 moderator labels" in due.stderr  # past the schedule's gate
    bad = retrain(redis_server, weak_root, tmp_path / "labels", uci_data / "Youtube01-Psy.csv",
                  options=("--min-new-labels", "-5"))
    assert bad.returncode == 2 and "'-5' is not a whole number of 0 or more" in bad.stderr


def metrics(auto: float, precision: float | None, leak: float | None) -> dict:
    return {"auto_share": auto, "reject_precision": precision, "spam_auto_approved": leak}


@pytest.mark.parametrize(("candidate", "active", "promoted"), [
    (metrics(0.6, 1.0, 0.0), metrics(0.1, None, None), True),  # automates more, within the budget
    (metrics(0.6, 1.0, 0.01), metrics(0.5, 1.0, 0.0), True),  # a leak within the 2 % budget
    (metrics(0.6, 0.95, 0.0), metrics(0.5, 1.0, 0.0), False),  # rejects ham
    (metrics(0.6, 1.0, 0.05), metrics(0.5, 1.0, 0.0), False),  # lets spam through
    (metrics(0.5, 1.0, 0.0), metrics(0.5, 1.0, 0.0), False),  # automates no more
    (metrics(0.6, 0.97, 0.0), metrics(0.5, 0.96, 0.0), True),  # no worse than the active model
])
def test_the_gate(candidate, active, promoted):
    targets = {"reject_precision": 0.99, "max_spam_approved": 0.02}  # as the shipped model's metadata says
    assert compare(candidate, active, targets)[0] is promoted


def test_the_newest_fifth_is_held_out():
    trained, held = split_by_time(list(range(10)))
    assert (trained, held) == (list(range(8)), [8, 9])


def test_the_model_history_names_the_startup_model_before_any_promotion(client, admin):
    history = client.get("/v1/admin/model", headers=admin).get_json()
    assert history["active"]["by"] == "startup" and history["active"]["version"]
    assert (history["previous"], history["retraining"], history["shadow"]) == ([], [], None)
    assert client.get("/v1/admin/model").status_code == 401
