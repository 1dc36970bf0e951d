"""Moderators' decisions become labels: stored atomically with the decision, exported, and trainable."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from model_training.data import load_file
from service.storage import keys
from service.storage.labels import iter_labels

from .conftest import PROJECT_ROOT
from .test_api_review import make_comment


def label_of(redis_client, comment_id):
    return json.loads(redis_client.hget(keys.labels(), comment_id))


def test_a_queue_decision_records_a_label_with_what_training_needs(client, moderator, redis_client):
    comment_id = make_comment(redis_client, 0.6)
    client.post(f"/v1/review/{comment_id}/decision", json={"decision": "reject"}, headers=moderator)
    label = label_of(redis_client, comment_id)
    assert {k: label[k] for k in ("comment_id", "text", "label", "decided_by", "model_version", "score",
                                  "previous_status", "lang")} == {
        "comment_id": comment_id, "text": "texte 0.6", "label": 1, "decided_by": "awa", "model_version": "test",
        "score": 0.6, "previous_status": "pending", "lang": "fr"}
    assert "email" not in json.dumps(label) and "l@exemple.sn" not in json.dumps(label)


def test_a_change_of_mind_replaces_the_label_and_keeps_the_revision(client, moderator, admin, redis_client):
    comment_id = make_comment(redis_client, 0.6)
    client.post(f"/v1/review/{comment_id}/decision", json={"decision": "reject"}, headers=moderator)
    client.post(f"/v1/comments/{comment_id}/decision", json={"decision": "approve"}, headers=admin)
    label = label_of(redis_client, comment_id)
    assert (label["label"], label["decided_by"], label["previous_status"]) == (0, "chef", "rejected")
    assert [(r["label"], r["decided_by"]) for r in label["revisions"]] == [(1, "awa")]
    assert redis_client.zcard(keys.labels_by_time()) == 1


def test_an_override_of_an_automatic_decision_is_a_label(client, moderator, redis_client):
    comment_id = make_comment(redis_client, 0.97, status="rejected")
    client.post(f"/v1/comments/{comment_id}/decision", json={"decision": "approve"}, headers=moderator)
    assert label_of(redis_client, comment_id)["label"] == 0


def test_labels_endpoint_streams_jsonl_to_admins_only(client, moderator, admin, redis_client):
    ids = [make_comment(redis_client, 0.5) for _ in range(3)]
    for decision, comment_id in zip(("approve", "reject", "approve"), ids, strict=True):
        client.post(f"/v1/review/{comment_id}/decision", json={"decision": decision}, headers=moderator)
    assert client.get("/v1/labels", headers=moderator).status_code == 403
    response = client.get("/v1/labels", headers=admin)
    assert response.mimetype == "application/x-ndjson"
    rows = [json.loads(line) for line in response.get_data(as_text=True).splitlines()]
    assert [(r["comment_id"], r["label"]) for r in rows] == list(zip(ids, (0, 1, 0), strict=True))
    assert client.get("/v1/labels?since=2999-01-01", headers=admin).get_data() == b""
    assert client.get("/v1/labels?since=soon", headers=admin).status_code == 422


def run_training_cli(redis_server, *args):
    env = {**os.environ, "MODERATION_REDIS_URL": redis_server.url}
    return subprocess.run([sys.executable, "-m", "model_training", *args], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def test_export_labels_cli_writes_a_file_that_training_reads(tmp_path, client, moderator, redis_server, redis_client):
    for i, decision in enumerate(("approve", "reject")):
        comment_id = make_comment(redis_client, 0.5, ms=1000 + i)
        client.post(f"/v1/review/{comment_id}/decision", json={"decision": decision, "note": "x"}, headers=moderator)
    out = tmp_path / "labels.jsonl"
    result = run_training_cli(redis_server, "export-labels", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "exported 2 labels" in result.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert {"text", "label", "decided_by", "decided_at", "model_version", "score"} <= rows[0].keys()
    corpus = load_file(out, weights={"labels": 2.0})
    assert (corpus.files[0]["format"], corpus.labels, corpus.weights) == ("labels", [0, 1], [2.0, 2.0])
    later = run_training_cli(redis_server, "export-labels", "--out", "-", "--since", "2999-01-01")
    assert (later.returncode, later.stdout) == (0, "")


@pytest.mark.parametrize("args", [["export-labels", "--out", "-", "--since", "someday"]])
def test_export_labels_rejects_bad_dates(redis_server, args):
    result = run_training_cli(redis_server, *args)
    assert result.returncode == 2 and "is not an ISO 8601 date" in result.stderr


def test_export_pages_through_every_label_in_decision_order_from_since(redis_client):
    for n in range(7):  # decided at 1,000 ms, 2,000 ms, ... out of insertion order
        comment_id = f"c{(n * 3) % 7}"
        redis_client.hset(keys.labels(), comment_id, json.dumps({"comment_id": comment_id, "label": n % 2}))
        redis_client.zadd(keys.labels_by_time(), {comment_id: ((n * 3) % 7 + 1) * 1000})
    everything = [r["comment_id"] for r in iter_labels(redis_client, batch=2)]
    assert everything == [f"c{i}" for i in range(7)]
    assert [r["comment_id"] for r in iter_labels(redis_client, since_ms=3000, batch=2)] == ["c2", "c3", "c4", "c5", "c6"]
    assert list(iter_labels(redis_client, since_ms=8000, batch=2)) == []
