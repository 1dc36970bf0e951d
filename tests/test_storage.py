"""The comment store: one atomic script per new comment, keys from one module."""

from __future__ import annotations

import json

from service.storage import comments, keys
from service.storage.abuse import Admitter
from service.storage.comments import NewComment, Outcome


def calls(client, command: str) -> int:
    return int(client.info("commandstats").get(f"cmdstat_{command}", {}).get("calls", 0))


def record(status: str, score: float) -> dict:
    return {"id": comments.new_comment_id(), "status": status, "score": score, "model_version": "v1",
            "reasons": [], "features": [], "submission": {"text": "t"}, "created_at": "now", "updated_at": "now"}


def test_pending_comment_is_stored_indexed_and_queued_in_one_script_call(redis_client):
    comments.save_new(redis_client, record("approved", 0.01))  # loads the script
    before = {command: calls(redis_client, command) for command in ("evalsha", "eval", "exec")}
    rec = record("pending", 0.4)
    comments.save_new(redis_client, rec)
    assert {command: calls(redis_client, command) for command in before} == {**before, "evalsha": before["evalsha"] + 1}
    assert redis_client.zscore(keys.review_queue(), rec["id"]) == 0.1
    assert redis_client.zscore(keys.by_status("pending"), rec["id"]) == 0
    assert json.loads(redis_client.lindex(keys.history(rec["id"]), 0)) == {
        "at": "now", "event": "created", "by": "system", "status": "pending", "score": 0.4, "model_version": "v1"}
    loaded = comments.load(redis_client, rec["id"])
    assert {k: loaded[k] for k in rec} == rec


def test_decided_comments_are_not_queued(redis_client):
    approved, rejected = record("approved", 0.01), record("rejected", 0.99)
    comments.save_new(redis_client, approved)
    comments.save_new(redis_client, rejected)
    assert redis_client.zcard(keys.review_queue()) == 0
    assert redis_client.zrange(keys.by_status("approved"), 0, -1) == [approved["id"]]
    assert redis_client.zrange(keys.by_status("rejected"), 0, -1) == [rejected["id"]]


def test_ids_sort_by_creation_time():
    assert comments.new_comment_id(1000) < comments.new_comment_id(1001) < comments.new_comment_id(10**12)
    assert comments.created_ms(comments.new_comment_id(123456)) == 123456


def test_unknown_id_loads_as_none(redis_client):
    assert comments.load(redis_client, "0" * 24) is None


def test_admission_stores_each_comment_with_the_outcome_of_its_text_class(redis_client):
    admitter = Admitter(redis_client, per_ip=None, per_email=None, per_site=None, flood_seconds=0,
                        duplicate_window_days=1, duplicate_min_words=3, duplicate_reject_at=3)
    outcomes = {"new_text": Outcome("approved", [], "approved"),
                "near_duplicate_text": Outcome("pending", [{"code": "near_duplicate_text"}], "pending"),
                "duplicate_text": Outcome("pending", [{"code": "duplicate_text"}], "approved"),
                "repeated_text": Outcome("rejected", [{"code": "repeated_text"}], "rejected")}
    text = "merci pour cet article tres complet sur la saison des pluies a kaolack et les semis de mil cette annee"
    seen = []
    for _ in range(4):
        fields = {**record("x", 0.2), "language": "fr"}
        del fields["status"], fields["reasons"]
        comment = NewComment(fields, outcomes, shadow={"version": "v2", "score": 0.3})
        admission = admitter.admit(ip=None, email="a@exemple.sn", site=None, normalized=text, comment=comment,
                                   expire_ms={"rejected": 60_000})
        assert admission.stored
        stored = comments.load(redis_client, comment.id)
        outcome = outcomes[admission.text_class]
        assert stored["status"] == stored["auto_status"] == outcome.status == stored["history"][0]["status"]
        assert stored["reasons"] == outcome.reasons and stored["shadow"]["status"] == outcome.shadow_status
        assert json.loads(redis_client.hget(keys.shadow_results("v2"), comment.id))["active_status"] == outcome.status
        assert redis_client.zscore(keys.by_status(outcome.status), comment.id) == 0
        assert (redis_client.zscore(keys.review_queue(), comment.id) is not None) == (outcome.status == "pending")
        assert (redis_client.pttl(keys.comment(comment.id)) > 0) == (outcome.status == "rejected")
        seen.append(admission.text_class)
    assert seen == ["new_text", "duplicate_text", "repeated_text", "repeated_text"]
    near = admitter.admit(ip=None, email="b@exemple.sn", site=None, normalized=text.replace("annee", "annees"),
                          comment=NewComment({**fields, "id": comments.new_comment_id()}, outcomes))
    assert near.text_class == "near_duplicate_text"
