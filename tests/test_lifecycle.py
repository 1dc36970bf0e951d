"""Model lifecycle against real processes: train with labels, promote to a running service, roll back, shadow."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid

import pytest

from model_training.__main__ import main as training_main
from model_training.artifact import resolve_model_dir
from service.app import create_app
from service.config import DEFAULT_MODELS_DIR
from service.helpers import MIN_PART
from service.storage import model_registry

from .conftest import PROJECT_ROOT, running_service, wait_for


@pytest.fixture(scope="module")
def models(tmp_path_factory, uci_data):
    """A models root holding the shipped model, and a freshly trained candidate (copied in on first promotion)."""
    root = tmp_path_factory.mktemp("models")
    shipped = resolve_model_dir(DEFAULT_MODELS_DIR)
    shutil.copytree(shipped, root / shipped.name)
    (root / "ACTIVE").write_text(shipped.name)
    labels = tmp_path_factory.mktemp("labels") / "labels.jsonl"
    labels.write_text("".join(json.dumps({"text": t, "label": y, "decided_by": "awa", "decided_at": "2026-11-29",
                                          "model_version": shipped.name, "score": 0.5}) + "\n"
                              for t, y in [("Gagnez un iPhone gratuit ici http://x.example.com", 1),
                                           ("Merci pour cet article très clair", 0)] * 30))
    out = tmp_path_factory.mktemp("trained")
    assert training_main(["train", "--data", str(uci_data / "Youtube01-Psy.csv"), str(uci_data / "Youtube03-LMFAO.csv"),
                          str(labels), "--weight", "labels=2", "--out", str(out), "--no-search", "--no-baselines"]) == 0
    candidate = next(p for p in out.iterdir() if p.is_dir())
    return {"root": root, "shipped": shipped.name, "candidate": candidate}


def post_json(url: str, body: dict, timeout: float = 5) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, {}


def ready_version(base: str) -> str:
    return json.loads(wait_for(f"{base}/readyz"))["model_version"]


def wait_until_all_serve(base: str, version: str, timeout: float = 15.0) -> None:
    """Wait until several consecutive /readyz answers (any worker) name the version."""
    deadline = time.monotonic() + timeout
    while not all(ready_version(base) == version for _ in range(8)):
        assert time.monotonic() < deadline, f"every worker switches to {version} within seconds"
        time.sleep(0.2)


def run_cli(redis_server, *args):
    env = {**os.environ, "MODERATION_REDIS_URL": redis_server.url}
    return subprocess.run([sys.executable, "-m", "model_training", *args], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_promotion_reaches_every_worker_without_failing_requests_and_rolls_back(models, redis_server, redis_client,
                                                                                tmp_path):
    results, stop = [], threading.Event()
    with running_service(MODERATION_REDIS_URL=redis_server.url, MODERATION_MODELS_ROOT=models["root"],
                         MODERATION_MODEL_POLL_SECONDS=1, MODERATION_WORKERS=2, MODERATION_DATA_DIR=tmp_path) as base:

        def hammer():
            while not stop.is_set():
                n = uuid.uuid4().hex[:12]  # a new commenter each time: the flood and rate limits are on
                results.append(post_json(f"{base}/v1/comments", {"name": "A", "email": f"{n}@b.fr",
                                                                 "text": f"Bonjour {n}"}))

        assert ready_version(base) == models["shipped"]
        threads = [threading.Thread(target=hammer) for _ in range(3)]
        for t in threads:
            t.start()
        try:
            time.sleep(1)
            promoted = run_cli(redis_server, "promote", str(models["candidate"]), "--models-root", str(models["root"]))
            assert promoted.returncode == 0, promoted.stderr
            new_version = promoted.stdout.strip()
            assert new_version == models["candidate"].name
            assert (models["root"] / new_version / "model.joblib").is_file()  # copied into the models root
            wait_until_all_serve(base, new_version)
            time.sleep(0.5)
            rolled = run_cli(redis_server, "rollback")
            assert rolled.returncode == 0 and rolled.stdout.strip() == models["shipped"]
            wait_until_all_serve(base, models["shipped"])
        finally:
            stop.set()
            for t in threads:
                t.join()
    statuses = [status for status, _ in results]
    assert len(statuses) > 20 and set(statuses) == {201}
    versions = [body["model_version"] for _, body in results]
    assert models["candidate"].name in versions and versions[0] == models["shipped"]
    stored = redis_client.hget(f"mod:comment:{results[-1][1]['id']}", "model_version")
    assert stored == results[-1][1]["model_version"]


def test_promote_refuses_a_tampered_model_and_rollback_needs_history(models, redis_server, redis_client, tmp_path):
    bad = shutil.copytree(models["candidate"], tmp_path / "bad")
    (bad / "model.joblib").write_bytes(b"not a model")
    result = run_cli(redis_server, "promote", str(bad), "--models-root", str(tmp_path / "root"))
    assert result.returncode == 2 and "sha256 does not match" in result.stderr
    assert model_registry.read(redis_client) is None
    result = run_cli(redis_server, "rollback")
    assert result.returncode == 2 and "no earlier model" in result.stderr


def test_admin_api_promotes_only_versions_in_the_models_root(models, config, redis_client, admin):
    app = create_app({**config, "models_root": models["root"], "model_dir": models["root"]})
    client = app.test_client()
    refused = client.post("/v1/admin/model", json={"version": "../etc"}, headers=admin)
    assert refused.status_code == 422
    missing = client.post("/v1/admin/model", json={"version": "nope"}, headers=admin)
    assert missing.status_code == 409
    promoted = client.post("/v1/admin/model", json={"version": models["candidate"].name}, headers=admin)
    assert promoted.status_code == 200 and promoted.get_json()["by"] == "chef"
    app.extensions["moderation"].models.refresh()  # the watcher thread may already have switched
    assert client.get("/readyz").get_json()["model_version"] == models["candidate"].name
    assert client.post("/v1/admin/model/rollback", headers=admin).get_json()["version"] == models["shipped"]
    app.extensions["moderation"].models.refresh()
    assert client.get("/readyz").get_json()["model_version"] == models["shipped"]


def test_shadow_scores_alongside_without_changing_decisions_and_reports(models, config, redis_client, admin, moderator):
    app = create_app({**config, "models_root": models["root"], "model_dir": models["root"],
                      "approve_below": 0.0, "reject_at": 1.0})
    client = app.test_client()
    assert client.put("/v1/admin/shadow", json={"version": models["candidate"].name}, headers=admin).status_code == 200
    app.extensions["moderation"].models.refresh()  # the watcher thread may already have switched
    texts = ["Merci pour cet article", "Check out my channel http://x.example.com subscribe",
             "Gagnez un iPhone gratuit ici http://x.example.com", "I love this song so much", "Great video"]
    submitted = [client.post("/v1/comments", json={"name": "A", "email": "a@b.fr", "text": t}).get_json() for t in texts]
    assert {s["status"] for s in submitted} == {"pending"}  # the active thresholds send everything to review
    records = [client.get(f"/v1/comments/{s['id']}", headers=moderator).get_json() for s in submitted]
    client.post(f"/v1/review/{submitted[1]['id']}/decision", json={"decision": "reject"}, headers=moderator)
    client.post(f"/v1/review/{submitted[0]['id']}/decision", json={"decision": "approve"}, headers=moderator)
    assert redis_client.hlen(f"mod:shadow:{models['candidate'].name}") == 5
    report = client.get("/v1/admin/shadow", headers=admin).get_json()
    assert report["version"] == models["candidate"].name and report["compared"] == 5
    shadow_of = {s["id"]: json.loads(redis_client.hget(f"mod:shadow:{models['candidate'].name}", s["id"]))["status"]
                 for s in submitted}
    agree = sum(shadow_of[s["id"]] == "pending" for s in submitted)
    assert report["agreement"] == round(agree / 5, 4)
    assert report["differences_total"] == 5 - agree
    assert report["against_labels"]["labelled"] == 2
    assert report["against_labels"]["active"] == {"correct": 0, "wrong": 0, "review": 2}
    expected = {"correct": 0, "wrong": 0, "review": 0}
    for index, label in ((1, 1), (0, 0)):
        status = shadow_of[submitted[index]["id"]]
        expected["review" if status == "pending" else "correct" if (status == "rejected") == (label == 1) else "wrong"] += 1
    assert report["against_labels"]["shadow"] == expected
    assert all(r["shadow"]["version"] == models["candidate"].name for r in records)
    assert client.delete("/v1/admin/shadow", headers=admin).status_code == 204
    app.extensions["moderation"].models.refresh()
    assert "shadow" not in client.post("/v1/comments", json={"name": "A", "email": "a@b.fr", "text": "x"}).get_json()


def test_a_batch_shared_after_a_model_switch_is_judged_wholly_with_the_new_model(models, config, redis_client, admin):
    shutil.copytree(models["candidate"], models["root"] / models["candidate"].name, dirs_exist_ok=True)
    app = create_app({**config, "models_root": models["root"], "model_dir": models["root"], "score_helpers": 1})
    helpers = app.extensions["moderation"].helpers
    helpers.start()  # forked while the shipped model is active
    try:
        client = app.test_client()
        assert client.post("/v1/admin/model", json={"version": models["candidate"].name},
                           headers=admin).status_code == 200
        app.extensions["moderation"].models.refresh()  # the worker switches; its helper has not heard of it
        comments = [{"name": "A", "email": f"a{i}@b.fr", "text": f"Gagnez un iPhone gratuit ici {i} http://x.example.com"
                     if i % 3 else f"Merci pour cet article numéro {i}"} for i in range(2 * MIN_PART)]
        shared = client.post("/v1/score", json={"comments": comments}, headers=admin).get_json()
        assert helpers.alive == 1
        helpers.stop()
        alone = client.post("/v1/score", json={"comments": comments}, headers=admin).get_json()
        assert shared == alone and shared["model_version"] == models["candidate"].name
    finally:
        helpers.stop()
        assert client.post("/v1/admin/model/rollback", headers=admin).status_code == 200
