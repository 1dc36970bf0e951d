"""Retention: rejected comments expire, personal fields of old comments are removed, labels stay."""

from __future__ import annotations

import json
import time

from service.storage import comments, keys, retention
from service.storage.queue import ReviewQueue

from .test_api_review import make_comment

DAY_MS = 86_400_000


def test_auto_rejected_submissions_expire_after_the_configured_days(client, redis_client):
    body = client.post("/v1/comments", json={"name": "Spam", "email": "s@example.com",
                                             "text": "Check out my channel http://x.example.com subscribe!!!"}).get_json()
    assert body["status"] == "rejected"
    ttl = redis_client.pttl(keys.comment(body["id"]))
    assert 29.99 * DAY_MS < ttl <= 30 * DAY_MS
    assert 29.99 * DAY_MS < redis_client.pttl(keys.history(body["id"])) <= 30 * DAY_MS


def test_pending_and_approved_comments_do_not_expire(client, redis_client):
    body = client.post("/v1/comments", json={"name": "A", "email": "a@b.fr", "text": "Merci pour l'article"}).get_json()
    assert redis_client.pttl(keys.comment(body["id"])) == -1


def test_rejecting_sets_the_expiry_and_rescuing_clears_it(redis_client):
    queue = ReviewQueue(redis_client, keep_rejected_days=1)
    comment_id = make_comment(redis_client, 0.5)
    assert queue.decide(comment_id, "awa", "rejected").ok
    assert 0 < redis_client.pttl(keys.comment(comment_id)) <= DAY_MS
    assert queue.decide(comment_id, "awa", "approved", mode="override").ok
    assert redis_client.pttl(keys.comment(comment_id)) == -1
    assert redis_client.pttl(keys.history(comment_id)) == -1


def test_expired_rejected_comments_leave_the_index_and_their_labels_stay(redis_client):
    queue = ReviewQueue(redis_client)
    queue.keep_rejected_ms = 150  # shortened for the test
    kept = make_comment(redis_client, 0.99, "rejected")
    expiring = make_comment(redis_client, 0.5)
    assert queue.decide(expiring, "awa", "rejected").ok
    time.sleep(0.3)
    assert comments.load(redis_client, expiring) is None
    page, _ = comments.page_by_status(redis_client, "rejected")
    assert [r["id"] for r in page] == [kept]  # the listing already skips it
    assert retention.prune_expired(redis_client) == 1
    assert redis_client.zrange(keys.by_status("rejected"), 0, -1) == [kept]
    assert json.loads(redis_client.hget(keys.labels(), expiring))["label"] == 1


def test_personal_fields_of_old_comments_are_removed_once(redis_client):
    now = int(time.time() * 1000)
    old = make_comment(redis_client, 0.2, "approved", ms=now - 100 * DAY_MS)
    old_pending = make_comment(redis_client, 0.5, ms=now - 95 * DAY_MS)
    recent = make_comment(redis_client, 0.2, "approved", ms=now - 10 * DAY_MS)
    result = retention.sweep(redis_client, now_ms=now, keep_personal_days=90)
    assert result == {"pruned": 0, "scrubbed": 2}
    for comment_id in (old, old_pending):
        submission = comments.load(redis_client, comment_id)["submission"]
        assert "email" not in submission and submission["text"].startswith("texte")
    assert comments.load(redis_client, recent)["submission"]["email"] == "l@exemple.sn"
    assert retention.sweep(redis_client, now_ms=now, keep_personal_days=90) == {"pruned": 0, "scrubbed": 0}
    later = now + 81 * DAY_MS
    assert retention.sweep(redis_client, now_ms=later, keep_personal_days=90)["scrubbed"] == 1
    assert "email" not in comments.load(redis_client, recent)["submission"]
