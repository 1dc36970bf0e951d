"""POST /v1/score: the same decisions as a submission, nothing stored."""

from __future__ import annotations

import pytest

from model_training.features import normalize_text
from service.storage import tokens

COMMENTS = [
    {"name": "Awa", "email": "awa@exemple.sn", "text": "Merci pour cet article très clair."},
    {"name": "Bob", "email": "bob@example.com", "text": "Check out my channel http://x.example.com subscribe!!!"},
    {"name": "Cy", "email": "cy@example.com", "text": "I think the minister is right about the budget."},
]


def test_scores_in_order_like_submissions_without_storing(client, moderator, redis_client):
    response = client.post("/v1/score", headers=moderator, json={"comments": COMMENTS})
    assert response.status_code == 200
    body = response.get_json()
    assert redis_client.keys("mod:comment:*") == [] and redis_client.keys("mod:status:*") == []
    assert len(body["results"]) == 3
    for comment, result in zip(COMMENTS, body["results"], strict=True):
        assert set(result) == {"score", "decision", "language", "reasons", "features"}
        submitted = client.post("/v1/comments", json=comment).get_json()
        assert (result["score"], result["decision"], result["reasons"]) == (
            submitted["score"], submitted["status"], submitted["reasons"])
        assert body["model_version"] == submitted["model_version"]


def test_features_explain_the_score(client, moderator):
    result = client.post("/v1/score", headers=moderator, json={"comments": [COMMENTS[1]]}).get_json()["results"][0]
    assert result["features"][0]["weight"] > 0
    assert {"feature", "kind", "weight"} == set(result["features"][0])
    assert any(f["feature"] == "check out" for f in result["features"])


def test_scores_and_weights_are_rounded_as_python_rounds_them(client, moderator):
    """The batch's scores and weights, rounded all at once, are round(p, 6) and each score's top_features."""
    state = client.application.extensions["moderation"].models.state
    scores = state.active.scorer.score_many([normalize_text(c["text"], trusted=state.thresholds.trusted_domains)
                                             for c in COMMENTS], explain=20)
    results = score(client, moderator, "?explain=20")
    assert [r["score"] for r in results] == [round(s.probability, 6) for s in scores]
    assert repr([r["features"] for r in results]) == repr([s.top_features(20) for s in scores])


def score(client, headers, query: str = "") -> list[dict]:
    return client.post(f"/v1/score{query}", headers=headers, json={"comments": COMMENTS}).get_json()["results"]


def test_explanations_are_on_request(client, moderator):
    full = score(client, moderator)
    assert all(len(r["features"]) == 8 for r in full)  # the default
    without = [{k: v for k, v in r.items() if k != "features"} for r in full]
    for explain in (0, 3, 20):
        results = score(client, moderator, f"?explain={explain}")
        assert [{k: v for k, v in r.items() if k != "features"} for r in results] == without  # same decisions
        for short, long in zip(results, full, strict=True):
            assert short["features"][:8] == long["features"][:explain]  # the largest first, whatever the count
    assert all(r["features"] == [] for r in score(client, moderator, "?explain=0"))
    assert any(len(r["features"]) > 8 for r in score(client, moderator, "?explain=20"))
    for bad in ("51", "-1", "eight"):
        response = client.post(f"/v1/score?explain={bad}", headers=moderator, json={"comments": COMMENTS})
        assert response.status_code == 422 and response.mimetype == "application/problem+json"
        assert response.get_json()["errors"] == [{"field": "explain", "message": "must be an integer from 0 to 50"}]


def test_texts_with_links_are_rescored_without_them_in_the_batch_as_one_by_one(client, moderator):
    linked = [{"name": "L", "email": f"l{i}@example.com", "text": text} for i, text in enumerate([
        "Great video, more at http://www.free-bitcoin.example.com",  # its words alone are fine: held, not rejected
        "Subscribe to my channel http://youtube.example.com/user/x",  # its words alone are spam: rejected
        "Merci, la source: http://bit.ly/3xYz", *(c["text"] for c in COMMENTS)])]
    results = client.post("/v1/score", headers=moderator, json={"comments": linked}).get_json()["results"]
    codes = [[r["code"] for r in result["reasons"]] for result in results]
    assert "link_only_evidence" in codes[0] and results[0]["decision"] == "pending"
    assert results[1]["decision"] == "rejected"
    for comment, result in zip(linked, results, strict=True):  # the same as each submission alone
        submitted = client.post("/v1/comments", json=comment).get_json()
        assert (result["score"], result["decision"], result["reasons"]) == (
            submitted["score"], submitted["status"], submitted["reasons"])


def test_a_thousand_comments_are_accepted(client, moderator):
    response = client.post("/v1/score", headers=moderator, json={"comments": [COMMENTS[2]] * 1000})
    assert response.status_code == 200
    assert len(response.get_json()["results"]) == 1000


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({}, [{"field": "comments", "message": "must be an array of comment objects"}]),
        ({"comments": "x"}, [{"field": "comments", "message": "must be an array of comment objects"}]),
        ({"comments": []}, [{"field": "comments", "message": "must hold 1 to 1000 comments, got 0"}]),
        ({"comments": [COMMENTS[0]] * 1001}, [{"field": "comments", "message": "must hold 1 to 1000 comments, got 1001"}]),
        ({"comments": [COMMENTS[0], {"name": "X", "email": "bad", "text": "t"}, 7]},
         [{"field": "comments[1].email", "message": "is not a valid e-mail address: An email address must have an @-sign."},
          {"field": "comments[2]", "message": "body must be a JSON object, not a number"}]),
    ],
)
def test_invalid_batches_name_the_item_and_field(client, moderator, body, errors):
    response = client.post("/v1/score", headers=moderator, json=body)
    assert response.status_code == 422
    assert response.get_json()["errors"] == errors


def test_form_posts_are_not_accepted_for_batches(client, moderator):
    response = client.post("/v1/score", data={"comments": "x"}, headers=moderator)
    assert response.status_code == 415


def test_scoring_needs_a_token_of_any_role(client, redis_client):
    body = {"comments": [COMMENTS[0]]}
    assert client.post("/v1/score", json=body).status_code == 401
    site = tokens.create(redis_client, "journal", "site")
    assert client.post("/v1/score", json=body, headers={"Authorization": f"Bearer {site}"}).status_code == 200
