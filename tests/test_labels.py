"""Moderators' decisions become labels: stored atomically with the decision, exported, and trainable."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from model_training.data import load_file
from service.storage import keys
from service.storage.labels import LabelArchive, LabelExporter, iter_labels

from .conftest import PROJECT_ROOT
from .test_api_review import make_comment


def label_of(redis_client, comment_id, tmp_path=None):
    """The label export's record of one comment (archive, if any, plus the stream)."""
    archive = LabelArchive(tmp_path or "/nonexistent")
    return next(r for r in iter_labels(redis_client, archive) if r["comment_id"] == comment_id)


def test_a_queue_decision_records_a_label_with_what_training_needs(client, moderator, redis_client):
    comment_id = make_comment(redis_client, 0.6)
    client.post(f"/v1/review/{comment_id}/decision", json={"decision": "reject"}, headers=moderator)
    label = label_of(redis_client, comment_id)
    assert {k: label[k] for k in ("comment_id", "text", "label", "decided_by", "model_version", "score",
                                  "previous_status", "lang", "revisions")} == {
        "comment_id": comment_id, "text": "texte 0.6", "label": 1, "decided_by": "awa", "model_version": "test",
        "score": 0.6, "previous_status": "pending", "lang": "fr", "revisions": None}
    assert "email" not in json.dumps(label) and "l@exemple.sn" not in json.dumps(label)
    assert redis_client.xlen(keys.label_stream()) == 1  # in the stream until the exporter archives it


def test_a_change_of_mind_is_one_more_decision_and_the_newest_wins(client, moderator, admin, redis_client):
    comment_id = make_comment(redis_client, 0.6)
    client.post(f"/v1/review/{comment_id}/decision", json={"decision": "reject"}, headers=moderator)
    client.post(f"/v1/comments/{comment_id}/decision", json={"decision": "approve"}, headers=admin)
    assert [json.loads(f["label"])["label"] for _, f in redis_client.xrange(keys.label_stream())] == [1, 0]
    label = label_of(redis_client, comment_id)
    assert (label["label"], label["decided_by"], label["previous_status"]) == (0, "chef", "rejected")
    assert [(r["label"], r["decided_by"]) for r in label["revisions"]] == [(1, "awa")]


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


def run_training_cli(redis_server, *args, labels_dir="/nonexistent/labels"):
    env = {**os.environ, "MODERATION_REDIS_URL": redis_server.url, "MODERATION_LABELS_DIR": str(labels_dir)}
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


def decision(redis_client, comment_id: str, label: int, at_ms: int, by: str = "awa") -> str:
    """Append one decision to the label stream, as scripts.DECIDE does, at a chosen stream time."""
    return redis_client.xadd(keys.label_stream(), {"label": json.dumps(
        {"comment_id": comment_id, "text": f"texte {comment_id}", "label": label, "decided_by": by})}, id=f"{at_ms}-0")


def test_the_export_lists_each_comment_once_in_newest_decision_order_from_since(redis_client, tmp_path):
    for n in range(7):
        decision(redis_client, f"c{n}", n % 2, (n + 1) * 1000)
    decision(redis_client, "c1", 0, 8000, by="chef")  # a change of mind moves c1 to the end
    archive = LabelArchive(tmp_path)
    order = [r["comment_id"] for r in iter_labels(redis_client, archive)]
    assert order == ["c0", "c2", "c3", "c4", "c5", "c6", "c1"]
    assert [r["comment_id"] for r in iter_labels(redis_client, archive, since_ms=5000)] == ["c4", "c5", "c6", "c1"]
    assert list(iter_labels(redis_client, archive, since_ms=9000)) == []
    # The same export whether the decisions are in the stream, the archive, or both.
    before = list(iter_labels(redis_client, archive))
    LabelExporter(redis_client, archive, batch=3).export_once()
    assert redis_client.xlen(keys.label_stream()) == 0
    assert list(iter_labels(redis_client, archive)) == before


def archived_ids(directory) -> list[str]:
    return [json.loads(line)["event_id"] for path in sorted(directory.glob("labels-*.jsonl"))
            for line in path.read_text(encoding="utf-8").splitlines()]


def test_the_exporter_moves_decisions_to_daily_files_once_in_order_and_trims_them(redis_client, tmp_path):
    day = 86_400_000
    ids = [decision(redis_client, f"c{n}", n % 2, 1_780_000_000_000 + n * day // 3) for n in range(7)]
    exporter = LabelExporter(redis_client, LabelArchive(tmp_path), batch=2)
    assert LabelExporter(redis_client, LabelArchive(tmp_path)).export_once() == 7  # a second one, lease free
    assert exporter.export_once() == 0
    assert archived_ids(tmp_path) == ids and redis_client.xlen(keys.label_stream()) == 0
    assert [p.name for p in sorted(tmp_path.glob("*.jsonl"))] == [
        "labels-2026-05-28.jsonl", "labels-2026-05-29.jsonl", "labels-2026-05-30.jsonl"]
    more = decision(redis_client, "c9", 1, 1_780_000_000_000 + 3 * day)
    redis_client.set(keys.label_exporter_lease(), "someone-else", px=60_000)
    assert exporter.export_once() == 0  # another instance holds the lease
    redis_client.delete(keys.label_exporter_lease())
    assert exporter.export_once() == 1 and archived_ids(tmp_path) == [*ids, more]


def test_an_unfinished_line_is_cut_and_written_again(redis_client, tmp_path):
    ids = [decision(redis_client, f"c{n}", 1, 1_780_000_000_000 + n) for n in range(3)]
    archive = LabelArchive(tmp_path)
    archive.append([(ids[0], {"comment_id": "c0", "text": "t", "label": 1})])
    path = next(tmp_path.glob("*.jsonl"))
    with path.open("a", encoding="utf-8") as f:  # what a write cut short by a crash leaves
        f.write(json.dumps({"event_id": ids[1], "comment_id": "c1", "text": "long"})[:25])
    assert [e["event_id"] for e in archive.events()] == [ids[0]]  # readers skip it
    assert LabelExporter(redis_client, archive).export_once() == 2
    assert archived_ids(tmp_path) == ids


EXPORTER = """
import sys
from service.storage.client import connect
from service.storage.labels import LabelArchive, LabelExporter
exporter = LabelExporter(connect(sys.argv[1]), LabelArchive(sys.argv[2]), batch=50)
print("ready", flush=True)
exporter.export_once()
"""


def test_an_exporter_killed_mid_write_loses_no_decision_and_writes_none_twice(redis_server, redis_client, tmp_path):
    pipe = redis_client.pipeline(transaction=False)
    for n in range(20_000):
        pipe.xadd(keys.label_stream(), {"label": json.dumps({"comment_id": f"c{n}", "label": n % 2,
                                                             "text": f"commentaire {n} " + "é" * 400})})
    pipe.execute()
    expected = [event_id for event_id, _ in redis_client.xrange(keys.label_stream())]
    progress = []
    for delay in (0.15, 0.3, 0.45):
        with subprocess.Popen([sys.executable, "-c", EXPORTER, redis_server.url, str(tmp_path)],
                              cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True) as process:
            assert process.stdout.readline().strip() == "ready"
            time.sleep(delay)
            process.kill()
        redis_client.delete(keys.label_exporter_lease())  # its lease would expire by itself after a minute
        progress.append(redis_client.xlen(keys.label_stream()))
    assert any(0 < left < len(expected) for left in progress)  # killed part-way, not before or after
    LabelExporter(redis_client, LabelArchive(tmp_path)).export_once()
    assert archived_ids(tmp_path) == expected
    assert redis_client.xlen(keys.label_stream()) == 0


def test_training_reads_the_archive_with_the_newest_decision_of_each_comment(redis_client, tmp_path):
    decision(redis_client, "c1", 1, 1_780_000_000_000)
    decision(redis_client, "c2", 0, 1_780_000_000_001)
    decision(redis_client, "c1", 0, 1_780_000_100_000, by="chef")
    LabelExporter(redis_client, LabelArchive(tmp_path)).export_once()
    corpus = load_file(tmp_path, weights={"labels": 2.0})
    assert (corpus.files[0]["format"], corpus.texts, corpus.labels, corpus.weights) == (
        "labels", ["texte c2", "texte c1"], [0, 0], [2.0, 2.0])
