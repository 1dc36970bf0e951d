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


def test_auto_approved_comments_expire_and_pending_ones_stay(client, redis_client):
    approved = client.post("/v1/comments", json={"name": "A", "email": "a@b.fr",
                                                 "text": "Merci pour cet article très clair sur la récolte."}).get_json()
    assert approved["status"] == "approved"
    assert 29.99 * DAY_MS < redis_client.pttl(keys.comment(approved["id"])) <= 30 * DAY_MS
    pending = client.post("/v1/comments", json={"name": "A", "email": "a@b.fr", "text": "Merci pour l'article",
                                                "form_rendered_at": time.time()}).get_json()  # too fast: review
    assert pending["status"] == "pending" and redis_client.pttl(keys.comment(pending["id"])) == -1


def test_deciding_sets_the_expiry_and_a_revision_sets_it_again(redis_client):
    queue = ReviewQueue(redis_client, expire_ms={"rejected": DAY_MS, "approved": 3 * DAY_MS})
    comment_id = make_comment(redis_client, 0.5)
    assert redis_client.pttl(keys.comment(comment_id)) == -1
    assert queue.decide(comment_id, "awa", "rejected").ok
    assert 0 < redis_client.pttl(keys.comment(comment_id)) <= DAY_MS
    assert queue.decide(comment_id, "awa", "approved", mode="override").ok
    for key in (keys.comment(comment_id), keys.history(comment_id)):
        assert 2.99 * DAY_MS < redis_client.pttl(key) <= 3 * DAY_MS
    forever = ReviewQueue(redis_client, expire_ms={"approved": 0, "rejected": 0})  # 0 days: kept for good
    assert forever.decide(comment_id, "awa", "rejected", mode="override").ok
    assert redis_client.pttl(keys.comment(comment_id)) == -1


def test_expired_comments_leave_the_indexes_answer_a_clear_404_and_their_labels_stay(client, moderator,
                                                                                      redis_client):
    queue = ReviewQueue(redis_client, expire_ms={"rejected": 150, "approved": 150})  # shortened for the test
    kept = make_comment(redis_client, 0.99, "rejected")
    expiring = [make_comment(redis_client, 0.5) for _ in range(2)]
    assert queue.decide(expiring[0], "awa", "rejected").ok and queue.decide(expiring[1], "awa", "approved").ok
    time.sleep(0.3)
    assert all(comments.load(redis_client, comment_id) is None for comment_id in expiring)
    page, _ = comments.page_by_status(redis_client, "rejected")
    assert [r["id"] for r in page] == [kept]  # the listing already skips them
    assert retention.prune_expired(redis_client, "rejected") == 1
    assert retention.prune_expired(redis_client, "approved") == 1
    assert redis_client.zrange(keys.by_status("rejected"), 0, -1) == [kept]
    labels = [json.loads(f["label"]) for _, f in redis_client.xrange(keys.label_stream())]
    assert [(label["comment_id"], label["label"]) for label in labels] == [(expiring[0], 1), (expiring[1], 0)]
    # The website asks for a comment decided longer ago than the retention: the 404 says it expired.
    old = comments.new_comment_id(int(time.time() * 1000) - 31 * DAY_MS)
    response = client.get(f"/v1/comments/{old}", headers=moderator)
    assert response.status_code == 404 and response.mimetype == "application/problem+json"
    assert response.get_json()["reason"] == "expired" and "expired from the moderation store" in response.get_json()["detail"]
    recent = client.get(f"/v1/comments/{comments.new_comment_id()}", headers=moderator).get_json()
    assert "reason" not in recent and "There is no comment" in recent["detail"]


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


def test_one_sweep_prunes_every_expired_id_batch_after_batch(redis_client):
    queue = ReviewQueue(redis_client, expire_ms={"approved": 100})
    expiring = [make_comment(redis_client, 0.5, ms=1_000 + n) for n in range(7)]
    live = make_comment(redis_client, 0.1, "approved", ms=2_000)
    for comment_id in expiring:
        assert queue.decide(comment_id, "awa", "approved").ok
    time.sleep(0.25)
    assert retention.prune_expired(redis_client, "approved", batch=2) == 7
    assert redis_client.zrange(keys.by_status("approved"), 0, -1) == [live]
