"""The OpenAPI document is valid, lists every route, and real responses match its schemas."""

from __future__ import annotations

import jsonschema
import pytest
from openapi_spec_validator import validate

from .test_api_review import make_comment

SKIPPED_RULES = {"/static/<path:filename>"}


@pytest.fixture
def document(client):
    response = client.get("/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def test_document_is_valid_openapi(document):
    validate(document)


def test_every_route_and_method_is_documented(app, document):
    for rule in app.url_map.iter_rules():
        if rule.rule in SKIPPED_RULES:
            continue
        path = rule.rule.replace("<", "{").replace(">", "}")
        assert path in document["paths"], path
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert method.lower() in document["paths"][path], f"{method} {path}"


def test_submission_schema_comes_from_the_validating_field_specs(document, app):
    schema = document["components"]["schemas"]["Submission"]
    specs = app.extensions["moderation"].submission_fields
    assert list(schema["properties"]) == [s.name for s in specs]
    assert schema["required"] == ["name", "email", "text"]
    assert schema["properties"]["text"]["maxLength"] == 65525


def check(document, schema_name: str, body) -> None:
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": document["components"]}
    jsonschema.validate(body, schema)


def test_real_responses_match_their_schemas(client, document, moderator, redis_client):
    created = client.post("/v1/comments", json={"name": "A", "email": "a@b.fr", "text": "Bonjour à tous"})
    check(document, "Decision", created.get_json())
    comment_id = created.get_json()["id"]
    check(document, "Comment", client.get(f"/v1/comments/{comment_id}").get_json())
    check(document, "Comment", client.get(f"/v1/comments/{comment_id}", headers=moderator).get_json())
    check(document, "Problem", client.post("/v1/comments", json={}).get_json())
    check(document, "Problem", client.get("/v1/review/queue").get_json())
    check(document, "ScoreResponse", client.post("/v1/score", headers=moderator, json={
        "comments": [{"name": "A", "email": "a@b.fr", "text": "hi"}]}).get_json())
    make_comment(redis_client, 0.5)
    check(document, "QueuePage", client.get("/v1/review/queue", headers=moderator).get_json())
    claimed = client.post("/v1/review/claim", json={"limit": 5}, headers=moderator).get_json()
    check(document, "ClaimResponse", claimed)
    check(document, "BulkDecisionResponse", client.post("/v1/review/decisions", headers=moderator, json={
        "decisions": [{"id": claimed["claimed"][0]["id"], "decision": "approve"}]}).get_json())
    check(document, "CommentPage", client.get("/v1/comments?status=approved", headers=moderator).get_json())
    check(document, "ModelInfo", client.get("/v1/model", headers=moderator).get_json())
    check(document, "Health", client.get("/readyz").get_json())
