"""The comment store: one atomic script per new comment, keys from one module."""

from __future__ import annotations

import json

from service.storage import comments, keys


def calls(client, command: str) -> int:
    return int(client.info("commandstats").get(f"cmdstat_{command}", {}).get("calls", 0))


def record(status: str, score: float) -> dict:
    return {"id": comments.new_comment_id(), "status": status, "score": score, "model_version": "v1",
            "reasons": [], "features": [], "submission": {"text": "t"}, "created_at": "now", "updated_at": "now"}


def test_pending_comment_is_stored_indexed_and_queued_in_one_script_call(redis_client):
    comments.save_new(redis_client, record("approved", 0.01), {})  # loads the script
    before = {command: calls(redis_client, command) for command in ("evalsha", "eval", "exec")}
    rec = record("pending", 0.4)
    comments.save_new(redis_client, rec, {"event": "created"})
    assert {command: calls(redis_client, command) for command in before} == {**before, "evalsha": before["evalsha"] + 1}
    assert redis_client.zscore(keys.review_queue(), rec["id"]) == 0.1
    assert redis_client.zscore(keys.by_status("pending"), rec["id"]) == 0
    assert json.loads(redis_client.lindex(keys.history(rec["id"]), 0)) == {"event": "created"}
    loaded = comments.load(redis_client, rec["id"])
    assert {k: loaded[k] for k in rec} == rec


def test_decided_comments_are_not_queued(redis_client):
    approved, rejected = record("approved", 0.01), record("rejected", 0.99)
    comments.save_new(redis_client, approved, {})
    comments.save_new(redis_client, rejected, {})
    assert redis_client.zcard(keys.review_queue()) == 0
    assert redis_client.zrange(keys.by_status("approved"), 0, -1) == [approved["id"]]
    assert redis_client.zrange(keys.by_status("rejected"), 0, -1) == [rejected["id"]]


def test_ids_sort_by_creation_time():
    assert comments.new_comment_id(1000) < comments.new_comment_id(1001) < comments.new_comment_id(10**12)
    assert comments.created_ms(comments.new_comment_id(123456)) == 123456


def test_unknown_id_loads_as_none(redis_client):
    assert comments.load(redis_client, "0" * 24) is None
