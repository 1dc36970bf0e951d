"""The review queue through the HTTP API, against real Redis: auth, ordering, leases, decisions, history."""

from __future__ import annotations

import base64
import json
import time

import pytest

from service.app import create_app
from service.storage import comments, keys, tokens

from .conftest import bearer


def make_comment(redis_client, score: float, status: str = "pending", *, ms: int | None = None,
                 article: str = "https://journal.example.sn/a1") -> str:
    """Store a comment directly, with a chosen score and creation time."""
    comment_id = comments.new_comment_id(ms)
    record = {"id": comment_id, "status": status, "score": score, "model_version": "test", "language": "fr",
              "reasons": [], "features": [], "created_at": "2026-01-01T00:00:00.000+00:00",
              "updated_at": "2026-01-01T00:00:00.000+00:00",
              "submission": {"name": "Lecteur", "email": "l@exemple.sn", "text": f"texte {score}",
                             "article_url": article}}
    comments.save_new(redis_client, record)
    return comment_id


MODERATOR_ENDPOINTS = [
    ("get", "/v1/review/queue", None),
    ("post", "/v1/review/claim", {"limit": 1}),
    ("post", "/v1/review/0123456789abcdef01234567/decision", {"decision": "approve"}),
    ("post", "/v1/review/0123456789abcdef01234567/release", None),
    ("post", "/v1/review/decisions", {"decisions": [{"id": "x", "decision": "approve"}]}),
    ("get", "/v1/comments?status=pending", None),
    ("post", "/v1/comments/0123456789abcdef01234567/decision", {"decision": "approve"}),
    ("get", "/v1/model", None),
    ("post", "/v1/score", {"comments": [{"name": "A", "email": "a@b.fr", "text": "x"}]}),
]
ADMIN_ENDPOINTS = [("get", "/v1/admin/tokens", None), ("delete", "/v1/admin/tokens/awa", None)]


@pytest.mark.parametrize(("method", "path", "body"), MODERATOR_ENDPOINTS + ADMIN_ENDPOINTS)
@pytest.mark.parametrize("headers", [{}, bearer("mod_0123456789abcdef.notarealsecretnotarealsecret"),
                                     {"Authorization": "Basic YWRtaW46YWRtaW4="}, {"Authorization": "Bearer"}])
def test_every_protected_endpoint_answers_401_without_valid_credentials(client, method, path, body, headers):
    response = getattr(client, method)(path, json=body, headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="moderation"'
    assert response.get_json()["type"] == "/problems/unauthenticated"


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ENDPOINTS)
def test_admin_endpoints_answer_403_to_moderators(client, moderator, method, path, body):
    response = getattr(client, method)(path, json=body, headers=moderator)
    assert response.status_code == 403
    assert response.get_json()["detail"] == "This needs the admin role; awa is a moderator."


def test_admins_may_do_what_moderators_do(client, admin, redis_client):
    make_comment(redis_client, 0.5)
    assert client.get("/v1/review/queue", headers=admin).status_code == 200
    assert client.get("/v1/admin/tokens", headers=admin).get_json()["tokens"][0]["name"] == "chef"


def test_revoked_token_is_refused_at_once(client, moderator, admin):
    assert client.get("/v1/review/queue", headers=moderator).status_code == 200
    assert client.delete("/v1/admin/tokens/awa", headers=admin).status_code == 204
    assert client.get("/v1/review/queue", headers=moderator).status_code == 401


def test_queue_lists_closest_to_the_boundary_first_then_oldest(client, moderator, redis_client):
    far = make_comment(redis_client, 0.15, ms=1000)
    near_old = make_comment(redis_client, 0.45, ms=2000)
    near_new = make_comment(redis_client, 0.55, ms=3000)
    closest = make_comment(redis_client, 0.5, ms=4000)
    body = client.get("/v1/review/queue", headers=moderator).get_json()
    assert [i["id"] for i in body["items"]] == [closest, near_old, near_new, far]
    assert body["counts"] == {"pending": 4, "leased": 0, "available": 4}
    assert body["items"][0]["comment"]["email"] == "l@exemple.sn"
    oldest = client.get("/v1/review/queue?order=oldest", headers=moderator).get_json()
    assert [i["id"] for i in oldest["items"]] == [far, near_old, near_new, closest]


@pytest.mark.parametrize("order", ["priority", "oldest"])
def test_cursor_pages_through_every_pending_comment_once(client, moderator, redis_client, order):
    ids = {make_comment(redis_client, round(0.2 + 0.01 * (i % 7), 2), ms=1000 + i) for i in range(23)}
    seen, cursor = [], None
    while True:
        url = f"/v1/review/queue?order={order}&limit=5" + (f"&cursor={cursor}" if cursor else "")
        body = client.get(url, headers=moderator).get_json()
        seen += [i["id"] for i in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 23 and set(seen) == ids


@pytest.mark.parametrize(("query", "field"), [("order=random", "order"), ("limit=0", "limit"), ("limit=abc", "limit"),
                                              ("cursor=%25%25%25", "cursor")])
def test_bad_queue_parameters_get_422(client, moderator, query, field):
    response = client.get(f"/v1/review/queue?{query}", headers=moderator)
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == field


def test_claimed_comments_go_to_nobody_else(client, moderator, moderator2, redis_client):
    for i in range(5):
        make_comment(redis_client, 0.3 + i * 0.01)
    first = client.post("/v1/review/claim", json={"limit": 3}, headers=moderator).get_json()["claimed"]
    second = client.post("/v1/review/claim", json={"limit": 3}, headers=moderator2).get_json()["claimed"]
    assert len(first) == 3 and len(second) == 2
    assert not {c["id"] for c in first} & {c["id"] for c in second}
    assert first[0]["lease"]["holder"] == "awa"
    assert client.post("/v1/review/claim", json={"limit": 3}, headers=moderator2).get_json()["claimed"] == []
    counts = client.get("/v1/review/queue", headers=moderator).get_json()["counts"]
    assert counts == {"pending": 5, "leased": 5, "available": 0}


def test_only_the_lease_holder_may_decide(client, moderator, moderator2, redis_client):
    comment_id = make_comment(redis_client, 0.5)
    client.post("/v1/review/claim", json={"limit": 1}, headers=moderator)
    refused = client.post(f"/v1/review/{comment_id}/decision", json={"decision": "reject"}, headers=moderator2)
    assert refused.status_code == 409
    assert refused.get_json()["detail"] == f"Comment {comment_id} is leased to awa."
    assert refused.get_json()["reason"] == "leased"
    done = client.post(f"/v1/review/{comment_id}/decision", json={"decision": "reject", "note": "pub"},
                       headers=moderator)
    assert done.status_code == 200
    body = done.get_json()
    assert (body["status"], body["decided_by"], body["decision_note"], body["lease"]) == ("rejected", "awa", "pub", None)
    again = client.post(f"/v1/review/{comment_id}/decision", json={"decision": "approve"}, headers=moderator)
    assert again.status_code == 409
    assert again.get_json()["detail"] == f"Comment {comment_id} is already rejected; it is not in the review queue."
    assert redis_client.zcard(keys.review_queue()) == 0
    assert redis_client.zrange(keys.by_status("rejected"), 0, -1) == [comment_id]


def test_an_unleased_pending_comment_can_be_decided_directly(client, moderator, redis_client):
    comment_id = make_comment(redis_client, 0.5)
    response = client.post(f"/v1/review/{comment_id}/decision", json={"decision": "approve"}, headers=moderator)
    assert response.get_json()["status"] == "approved"


@pytest.mark.parametrize(("body", "field"), [({"decision": "maybe"}, "decision"), ({}, "decision"),
                                             ({"decision": "approve", "note": 5}, "note"),
                                             ({"decision": "approve", "note": "x" * 2001}, "note")])
def test_bad_decision_bodies_get_422(client, moderator, redis_client, body, field):
    comment_id = make_comment(redis_client, 0.5)
    response = client.post(f"/v1/review/{comment_id}/decision", json=body, headers=moderator)
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == field


def test_deciding_an_unknown_comment_is_404(client, moderator):
    response = client.post("/v1/review/0123456789abcdef01234567/decision", json={"decision": "approve"},
                           headers=moderator)
    assert response.status_code == 404


def test_release_returns_the_comment_to_the_queue(client, moderator, moderator2, redis_client):
    comment_id = make_comment(redis_client, 0.5)
    client.post("/v1/review/claim", json={"limit": 1}, headers=moderator)
    assert client.post(f"/v1/review/{comment_id}/release", headers=moderator2).status_code == 409
    released = client.post(f"/v1/review/{comment_id}/release", headers=moderator)
    assert released.status_code == 200 and released.get_json()["lease"] is None
    assert client.post(f"/v1/review/{comment_id}/release", headers=moderator).get_json()["reason"] == "not_leased"
    assert [c["id"] for c in client.post("/v1/review/claim", json={"limit": 1},
                                         headers=moderator2).get_json()["claimed"]] == [comment_id]


def test_expired_lease_is_reclaimable_without_any_background_job(config, redis_client):
    awa = tokens.create(redis_client, "awa", "moderator")
    binta = tokens.create(redis_client, "binta", "moderator")
    client = create_app({**config, "lease_seconds": 1}).test_client()
    comment_id = make_comment(redis_client, 0.5)
    assert len(client.post("/v1/review/claim", json={"limit": 1}, headers=bearer(awa)).get_json()["claimed"]) == 1
    assert client.post("/v1/review/claim", json={"limit": 1}, headers=bearer(binta)).get_json()["claimed"] == []
    time.sleep(1.1)
    queue = client.get("/v1/review/queue", headers=bearer(binta)).get_json()
    assert queue["items"][0]["lease"] is None and queue["counts"]["leased"] == 0
    reclaimed = client.post("/v1/review/claim", json={"limit": 1}, headers=bearer(binta)).get_json()["claimed"]
    assert [c["id"] for c in reclaimed] == [comment_id]
    late = client.post(f"/v1/review/{comment_id}/decision", json={"decision": "approve"}, headers=bearer(awa))
    assert late.status_code == 409
    events = [e["event"] for e in client.get(f"/v1/comments/{comment_id}").get_json()["history"]]
    assert events == ["created", "leased", "lease_expired", "leased"]


def test_bulk_decisions_report_each_item(client, moderator, moderator2, redis_client):
    free, held, done = (make_comment(redis_client, s) for s in (0.4, 0.5, 0.6))
    client.post(f"/v1/review/{done}/decision", json={"decision": "approve"}, headers=moderator)
    client.post("/v1/review/claim", json={"limit": 1}, headers=moderator2)  # binta takes `held`, the closest to 0.5
    response = client.post("/v1/review/decisions", headers=moderator, json={"decisions": [
        {"id": free, "decision": "reject"}, {"id": held, "decision": "reject"}, {"id": done, "decision": "reject"},
        {"id": "0123456789abcdef01234567", "decision": "reject"}]})
    assert response.status_code == 200
    assert response.get_json()["results"] == [
        {"id": free, "ok": True, "status": "rejected"},
        {"id": held, "ok": False, "error": "leased", "detail": "binta"},
        {"id": done, "ok": False, "error": "not_pending", "detail": "approved"},
        {"id": "0123456789abcdef01234567", "ok": False, "error": "not_found", "detail": None},
    ]


def test_a_bulk_item_naming_another_key_fails_alone_and_the_rest_is_decided(client, moderator, redis_client):
    good = make_comment(redis_client, 0.4)
    forged = [f"{good}:history", "../x", "mod:queue:pending", good.upper()]
    response = client.post("/v1/review/decisions", headers=moderator, json={"decisions": [
        {"id": good, "decision": "approve"}, *({"id": f, "decision": "reject"} for f in forged)]})
    assert response.status_code == 200
    assert response.get_json()["results"] == [{"id": good, "ok": True, "status": "approved"}] + [
        {"id": f, "ok": False, "error": "not_found", "detail": None} for f in forged]
    assert redis_client.type(keys.history(good)) == "list"  # untouched by the forged ids


@pytest.mark.parametrize("path", ["/v1/review/{id}:history/decision", "/v1/review/{id}:history/release"])
def test_a_path_id_naming_another_key_is_a_404(client, moderator, redis_client, path):
    good = make_comment(redis_client, 0.4)
    response = client.post(path.format(id=good), json={"decision": "reject"}, headers=moderator)
    assert response.status_code == 404
    assert response.get_json()["detail"] == f"There is no comment with id '{good}:history'."


@pytest.mark.parametrize("body", [{}, {"decisions": []}, {"decisions": [{"id": 5, "decision": "approve"}]},
                                  {"decisions": [{"id": "a", "decision": "nope"}]}])
def test_bad_bulk_bodies_get_422(client, moderator, body):
    assert client.post("/v1/review/decisions", json=body, headers=moderator).status_code == 422


def test_override_moves_a_decided_comment_and_keeps_history(client, moderator, redis_client):
    comment_id = make_comment(redis_client, 0.97, status="rejected")
    rescued = client.post(f"/v1/comments/{comment_id}/decision", json={"decision": "approve", "note": "faux positif"},
                          headers=moderator)
    assert rescued.status_code == 200
    assert (rescued.get_json()["status"], rescued.get_json()["decided_by"]) == ("approved", "awa")
    assert redis_client.zrange(keys.by_status("approved"), 0, -1) == [comment_id]
    assert redis_client.zcard(keys.by_status("rejected")) == 0
    same = client.post(f"/v1/comments/{comment_id}/decision", json={"decision": "approve"}, headers=moderator)
    assert same.status_code == 409 and same.get_json()["reason"] == "same_status"
    history = client.get(f"/v1/comments/{comment_id}", headers=moderator).get_json()["history"]
    assert history[-1] | {"at": None} == {"event": "overridden", "by": "awa", "at": None, "status": "approved",
                                          "previous": "rejected", "note": "faux positif"}


def test_override_refuses_pending_comments(client, moderator, redis_client):
    comment_id = make_comment(redis_client, 0.5)
    response = client.post(f"/v1/comments/{comment_id}/decision", json={"decision": "approve"}, headers=moderator)
    assert response.status_code == 409 and response.get_json()["reason"] == "not_pending"


def test_listing_by_status_filters_by_article_and_time_and_pages(client, moderator, redis_client):
    old = make_comment(redis_client, 0.99, "rejected", ms=1_000_000)
    other = make_comment(redis_client, 0.99, "rejected", ms=2_000_000, article="https://journal.example.sn/a2")
    new = [make_comment(redis_client, 0.99, "rejected", ms=3_000_000 + i) for i in range(3)]
    listed = client.get("/v1/comments?status=rejected&limit=2", headers=moderator).get_json()
    assert [i["id"] for i in listed["items"]] == [new[2], new[1]]
    rest = client.get(f"/v1/comments?status=rejected&limit=10&cursor={listed['next_cursor']}", headers=moderator)
    assert [i["id"] for i in rest.get_json()["items"]] == [new[0], other, old]
    assert rest.get_json()["next_cursor"] is None
    article = client.get("/v1/comments?status=rejected&article=https://journal.example.sn/a2", headers=moderator)
    assert [i["id"] for i in article.get_json()["items"]] == [other]
    since = client.get("/v1/comments?status=rejected&since=1970-01-01T00:33:20Z", headers=moderator)
    assert [i["id"] for i in since.get_json()["items"]] == [new[2], new[1], new[0], other]


@pytest.mark.parametrize(("query", "field"), [("status=spam", "status"), ("", "status"),
                                              ("status=pending&since=yesterday", "since"),
                                              ("status=pending&cursor=zz", "cursor")])
def test_bad_listing_parameters_get_422(client, moderator, query, field):
    response = client.get(f"/v1/comments?{query}", headers=moderator)
    assert response.status_code == 422 and response.get_json()["errors"][0]["field"] == field


def test_moderators_see_personal_data_the_public_does_not(client, moderator, redis_client):
    comment_id = make_comment(redis_client, 0.5)
    assert "email" not in client.get(f"/v1/comments/{comment_id}").get_json()["comment"]
    assert client.get(f"/v1/comments/{comment_id}", headers=moderator).get_json()["comment"]["email"] == "l@exemple.sn"


def test_model_endpoint_describes_the_active_model(client, moderator, app):
    body = client.get("/v1/model", headers=moderator).get_json()
    rt = app.extensions["moderation"]
    assert body["version"] == rt.models.state.active.version
    thresholds = rt.models.state.thresholds
    assert body["thresholds"] == {
        "approve_below": thresholds.approve_below, "reject_at": thresholds.reject_at,
        "approve_parts_below": thresholds.approve_parts_below,
        "by_language": {lang: {"approve_below": low, "reject_at": high, "approve_parts_below": parts}
                        for lang, (low, high, parts) in thresholds.by_language.items()},
        "approve_unfamiliar": False}
    assert {"fr", "en"} <= set(body["thresholds"]["by_language"]) and {"fr", "en"} <= set(body["known_languages"])
    assert body["metrics"]["automation_at_error_budget"]["comments"]["reject_precision"] >= 0.99


def test_a_moderators_note_and_name_are_for_moderators_only(client, moderator, redis_client):
    comment_id = make_comment(redis_client, 0.5)
    client.post("/v1/review/claim", json={"limit": 1}, headers=moderator)
    note = "same person as awa.spam@exemple.sn, IP 196.207.0.1"
    assert client.post(f"/v1/review/{comment_id}/decision", json={"decision": "reject", "note": note},
                       headers=moderator).status_code == 200
    public = client.get(f"/v1/comments/{comment_id}").get_json()
    assert public["decided_by"] == "moderator"
    assert "awa" not in str(public["history"]) and "196.207" not in str(public)
    assert [e.get("by") for e in public["history"]] == ["system", "moderator", "moderator"]
    private = client.get(f"/v1/comments/{comment_id}", headers=moderator).get_json()
    assert private["decided_by"] == "awa"
    assert private["history"][-1]["note"] == note


@pytest.mark.parametrize("body", [{"decision": "reject", "note": "\ud800"}])
def test_a_lone_surrogate_in_a_note_is_a_400_not_a_500(client, moderator, redis_client, body):
    comment_id = make_comment(redis_client, 0.5)
    raw = json.dumps(body).encode()  # json.dumps escapes the surrogate as \ud800
    response = client.post(f"/v1/review/{comment_id}/decision", data=raw, content_type="application/json",
                           headers=moderator)
    assert response.status_code == 400
    assert response.get_json()["detail"].startswith("The string at /note contains an unpaired surrogate")


@pytest.mark.parametrize("cursor_value", ["nan|x", "inf|x", "-inf|0123456789abcdef01234567", "x|y"])
def test_a_forged_priority_cursor_is_a_422(client, moderator, redis_client, cursor_value):
    cursor = base64.urlsafe_b64encode(cursor_value.encode()).decode().rstrip("=")
    response = client.get(f"/v1/review/queue?cursor={cursor}", headers=moderator)
    assert response.status_code == 422
    assert response.get_json()["errors"] == [{"field": "cursor", "message": "is not a cursor this service returned"}]


def test_priority_paging_returns_every_pending_comment_however_many_tie(client, moderator, redis_client):
    made = {make_comment(redis_client, 0.5) for _ in range(260)}
    seen, cursor = [], None
    while True:
        response = client.get("/v1/review/queue?limit=100" + (f"&cursor={cursor}" if cursor else ""),
                              headers=moderator).get_json()
        seen += [item["id"] for item in response["items"]]
        cursor = response["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 260 and set(seen) == made
