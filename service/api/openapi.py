"""GET /openapi.json: the OpenAPI 3.1 document, built from the same field specs that validate requests."""

from __future__ import annotations

import json

from flask import Blueprint, render_template

from ..moderation.intake import FEATURES_SHOWN
from ..moderation.rules import LIST_NAMES
from . import runtime
from .params import DECISIONS, MAX_BATCH, MAX_BULK, MAX_FEATURES, MAX_NOTE, MAX_PAGE
from .schemas import submission_json_schema

bp = Blueprint("openapi", __name__)

STRING_OR_NULL = {"type": ["string", "null"]}
REASON = {"type": "object", "required": ["code", "message"],
          "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}
FEATURE = {"type": "object", "required": ["feature", "kind", "weight"],
           "properties": {"feature": {"type": "string"}, "kind": {"enum": ["word", "char"]}, "weight": {"type": "number"}}}
PROBLEM = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "description": "URI reference naming the kind of problem"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string", "description": "What went wrong, for a human"},
        "instance": {"type": "string"},
        "errors": {"type": "array", "description": "For 422: each invalid field and why",
                   "items": {"type": "object", "required": ["field", "message"],
                             "properties": {"field": {"type": "string"}, "message": {"type": "string"}}}},
        "reason": {"type": "string", "description": "For 409: not_pending, leased, same_status or not_leased"},
    },
}
DECISION_REQUEST = {
    "type": "object", "required": ["decision"],
    "properties": {"decision": {"enum": list(DECISIONS)}, "note": {"type": "string", "maxLength": MAX_NOTE}},
}
STATUS = {"enum": ["approved", "pending", "rejected"]}
BOUNDS = {"approve_below": {"type": "number"}, "reject_at": {"type": "number"},
          "approve_parts_below": {"type": "number", "description": "approve-below of texts of several sentences, "
                                                                   "held to their highest part (their sentence tails)"}}


def _comment_record(fields) -> dict:
    return {
        "type": "object",
        "required": ["id", "status", "score", "model_version", "reasons", "created_at", "comment"],
        "properties": {
            "id": {"type": "string"}, "status": STATUS, "score": {"type": "number", "minimum": 0, "maximum": 1},
            "model_version": {"type": "string"}, "language": STRING_OR_NULL,
            "reasons": {"type": "array", "items": {"$ref": "#/components/schemas/Reason"}},
            "features": {"type": "array", "items": {"$ref": "#/components/schemas/Feature"}},
            "created_at": {"type": "string"}, "updated_at": {"type": "string"},
            "decided_by": STRING_OR_NULL, "decided_at": STRING_OR_NULL,
            "comment": {"type": "object", "description": "The submitted fields; e-mail, IP and user agent for "
                                                         "moderators only"},
            "decision_note": STRING_OR_NULL,
            "shadow": {"type": ["object", "null"], "description": "The shadow model's verdict (moderators)",
                       "properties": {"version": {"type": "string"}, "score": {"type": "number"}, "status": STATUS}},
            "lease": {"type": ["object", "null"], "properties": {"holder": {"type": "string"},
                                                                 "expires_at": {"type": "string"}}},
            "history": {"type": "array", "items": {"type": "object", "required": ["event"],
                                                   "properties": {"event": {"type": "string"},
                                                                  "by": {"type": "string"},
                                                                  "at": {"type": "string"}}}},
        },
    }


def _json(schema_name: str, description: str = "OK") -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_name}"}}}}


def _problems(*statuses: int) -> dict:
    texts = {400: "Unparseable body", 401: "Missing or invalid credentials", 403: "Wrong role or CSRF token",
             404: "Not found", 409: "Conflict with the comment's state", 413: "Body too large",
             415: "Unsupported Content-Type", 422: "Invalid fields",
             429: "Rate limit or flood control; retry after Retry-After", 503: "Redis unavailable; retry after Retry-After"}
    return {str(s): {"description": texts[s], "content": {"application/problem+json": {
        "schema": {"$ref": "#/components/schemas/Problem"}}}} for s in statuses}


def _body(schema_name: str) -> dict:
    return {"required": True, "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_name}"}}}}


MODERATOR = [{"bearerAuth": []}, {"sessionCookie": []}]
COMMENT_ID = {"name": "comment_id", "in": "path", "required": True, "schema": {"type": "string"}}


def build_document(fields, model_version: str) -> dict:
    """Return the OpenAPI document of every endpoint."""
    submission = submission_json_schema(fields)
    paths = {
        "/v1/comments": {
            "post": {
                "summary": "Submit a comment (website)", "operationId": "submitComment",
                "requestBody": {"required": True, "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/Submission"}},
                    "application/x-www-form-urlencoded": {"schema": {"$ref": "#/components/schemas/Submission"}}}},
                "responses": {"201": _json("Decision", "Stored and decided"),
                              **_problems(400, 401, 413, 415, 422, 429, 503)},
            },
            "get": {
                "summary": "List comments with one status, newest first (moderators)", "operationId": "listComments",
                "security": MODERATOR,
                "parameters": [
                    {"name": "status", "in": "query", "required": True, "schema": STATUS},
                    {"name": "article", "in": "query", "schema": {"type": "string"}},
                    {"name": "since", "in": "query", "schema": {"type": "string"}, "description": "ISO 8601"},
                    {"name": "cursor", "in": "query", "schema": {"type": "string"}},
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE}},
                ],
                "responses": {"200": _json("CommentPage"), **_problems(401, 403, 422, 503)},
            },
        },
        "/v1/comments/{comment_id}": {"get": {
            "summary": "A comment's status, decision and history (personal data for moderators only)",
            "operationId": "getComment", "parameters": [COMMENT_ID], "security": [{}, *MODERATOR],
            "responses": {"200": _json("Comment"), **_problems(401, 404, 503)}}},
        "/v1/comments/{comment_id}/decision": {"post": {
            "summary": "Override a decision: rejected to approved or the reverse (moderators)",
            "operationId": "overrideDecision", "parameters": [COMMENT_ID], "security": MODERATOR,
            "requestBody": _body("DecisionRequest"),
            "responses": {"200": _json("Comment"), **_problems(400, 401, 403, 404, 409, 415, 422, 503)}}},
        "/v1/score": {"post": {
            "summary": "Score up to 1,000 comments without storing anything (any token)", "operationId": "score",
            "security": MODERATOR, "requestBody": _body("ScoreRequest"),
            "parameters": [{"name": "explain", "in": "query", "description": "n-grams listed in each result's "
                            "features (0: none, faster)",
                            "schema": {"type": "integer", "minimum": 0, "maximum": MAX_FEATURES,
                                       "default": FEATURES_SHOWN}}],
            "responses": {"200": _json("ScoreResponse"), **_problems(400, 401, 413, 415, 422, 503)}}},
        "/v1/review/queue": {"get": {
            "summary": "Pending comments, most useful first (moderators)", "operationId": "reviewQueue",
            "security": MODERATOR,
            "parameters": [{"name": "order", "in": "query", "schema": {"enum": ["priority", "oldest"]}},
                           {"name": "cursor", "in": "query", "schema": {"type": "string"}},
                           {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE}}],
            "responses": {"200": _json("QueuePage"), **_problems(401, 403, 422, 503)}}},
        "/v1/review/claim": {"post": {
            "summary": "Lease up to `limit` pending comments to the caller", "operationId": "claim",
            "security": MODERATOR, "requestBody": _body("ClaimRequest"),
            "responses": {"200": _json("ClaimResponse"), **_problems(400, 401, 403, 415, 422, 503)}}},
        "/v1/review/{comment_id}/decision": {"post": {
            "summary": "Approve or reject a pending comment", "operationId": "decide", "parameters": [COMMENT_ID],
            "security": MODERATOR, "requestBody": _body("DecisionRequest"),
            "responses": {"200": _json("Comment"), **_problems(400, 401, 403, 404, 409, 415, 422, 503)}}},
        "/v1/review/{comment_id}/release": {"post": {
            "summary": "Give a leased comment back to the queue", "operationId": "release",
            "parameters": [COMMENT_ID], "security": MODERATOR,
            "responses": {"200": _json("Comment"), **_problems(401, 403, 404, 409, 503)}}},
        "/v1/review/decisions": {"post": {
            "summary": "Decide several comments; a result per item", "operationId": "decideMany",
            "security": MODERATOR, "requestBody": _body("BulkDecisionRequest"),
            "responses": {"200": _json("BulkDecisionResponse"), **_problems(400, 401, 403, 415, 422, 503)}}},
        "/v1/model": {"get": {
            "summary": "The active model's version, metrics and thresholds", "operationId": "model",
            "security": MODERATOR, "responses": {"200": _json("ModelInfo"), **_problems(401, 503)}}},
        "/v1/admin/tokens": {"get": {
            "summary": "Who has a token (admins)", "operationId": "listTokens", "security": MODERATOR,
            "responses": {"200": _json("TokenList"), **_problems(401, 403, 503)}}},
        "/v1/admin/tokens/{name}": {"delete": {
            "summary": "Revoke a person's token (admins)", "operationId": "revokeToken", "security": MODERATOR,
            "parameters": [{"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {"204": {"description": "Revoked"}, **_problems(401, 403, 404, 503)}}},
        "/v1/admin/model": {
            "get": {"summary": "Active and shadow records, earlier active models, retraining runs (admins)",
                    "operationId": "modelHistory", "security": MODERATOR,
                    "responses": {"200": _json("ModelHistory"), **_problems(401, 403, 503)}},
            "post": {
                "summary": "Verify a model of the models root and make it active on every instance (admins)",
                "operationId": "promoteModel", "security": MODERATOR, "requestBody": _body("VersionRequest"),
                "responses": {"200": _json("RegistryRecord"), **_problems(400, 401, 403, 409, 415, 422, 503)}}},
        "/v1/admin/model/rollback": {"post": {
            "summary": "Make the previously active model active again (admins)", "operationId": "rollbackModel",
            "security": MODERATOR, "responses": {"200": _json("RegistryRecord"), **_problems(401, 403, 409, 503)}}},
        "/v1/admin/shadow": {
            "get": {"summary": "Shadow report: agreement, differences, both against the labels (admins)",
                    "operationId": "shadowReport", "security": MODERATOR,
                    "parameters": [{"name": "version", "in": "query", "schema": {"type": "string"}}],
                    "responses": {"200": _json("ShadowReport"), **_problems(401, 403, 404, 503)}},
            "put": {"summary": "Score every submission with a candidate model too (admins)", "operationId": "setShadow",
                    "security": MODERATOR, "requestBody": _body("VersionRequest"),
                    "responses": {"200": _json("RegistryRecord"), **_problems(400, 401, 403, 409, 415, 422, 503)}},
            "delete": {"summary": "Stop shadow scoring (admins)", "operationId": "clearShadow", "security": MODERATOR,
                       "responses": {"204": {"description": "Stopped"}, **_problems(401, 403, 503)}}},
        "/v1/admin/webhooks": {
            "get": {"summary": "Webhook endpoints (no secrets), pending deliveries and the delivery log (admins)",
                    "operationId": "listWebhooks", "security": MODERATOR,
                    "responses": {"200": _json("WebhookList"), **_problems(401, 403, 503)}},
            "post": {"summary": "Register an endpoint for comment.decided events; its secret is shown once (admins)",
                     "operationId": "addWebhook", "security": MODERATOR, "requestBody": _body("WebhookRequest"),
                     "responses": {"201": _json("WebhookCreated"), **_problems(400, 401, 403, 415, 422, 503)}}},
        "/v1/admin/webhooks/{endpoint_id}": {"delete": {
            "summary": "Remove an endpoint (admins)", "operationId": "removeWebhook", "security": MODERATOR,
            "parameters": [{"name": "endpoint_id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {"204": {"description": "Removed"}, **_problems(401, 403, 404, 503)}}},
        "/v1/admin/webhooks/{endpoint_id}/secrets": {"post": {
            "summary": "Add a signing secret (key rotation); shown once (admins)", "operationId": "addWebhookSecret",
            "security": MODERATOR,
            "parameters": [{"name": "endpoint_id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {"201": _json("WebhookCreated"), **_problems(401, 403, 404, 503)}}},
        "/v1/admin/webhooks/{endpoint_id}/secrets/{secret_id}": {"delete": {
            "summary": "Remove an old signing secret (admins)", "operationId": "removeWebhookSecret",
            "security": MODERATOR,
            "parameters": [{"name": "endpoint_id", "in": "path", "required": True, "schema": {"type": "string"}},
                           {"name": "secret_id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {"200": _json("Webhook"), **_problems(401, 403, 404, 409, 503)}}},
        "/v1/admin/lists": {"get": {
            "summary": "The block, allow and disposable-domain lists (admins)", "operationId": "getLists",
            "security": MODERATOR, "responses": {"200": {"description": "list name -> entries", "content": {
                "application/json": {"schema": {"type": "object"}}}}, **_problems(401, 403, 503)}}},
        "/v1/admin/lists/{name}": {"put": {
            "summary": "Replace one list (admins); instances apply it within seconds", "operationId": "putList",
            "security": MODERATOR,
            "parameters": [{"name": "name", "in": "path", "required": True, "schema": {"enum": list(LIST_NAMES)}}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["entries"],
                "properties": {"entries": {"type": "array", "items": {"type": "string"}}}}}}},
            "responses": {"200": {"description": "The list as stored", "content": {"application/json": {
                "schema": {"type": "object"}}}}, **_problems(400, 401, 403, 404, 415, 422, 503)}}},
        "/v1/labels": {"get": {
            "summary": "The moderators' decisions as labelled JSONL, streamed (admins)", "operationId": "labels",
            "security": MODERATOR, "parameters": [{"name": "since", "in": "query", "schema": {"type": "string"}}],
            "responses": {"200": {"description": "One label object per line",
                                  "content": {"application/x-ndjson": {"schema": {"$ref": "#/components/schemas/Label"}}}},
                          **_problems(401, 403, 422, 503)}}},
        "/healthz": {"get": {"summary": "Process alive", "operationId": "healthz",
                             "responses": {"200": _json("Health")}}},
        "/readyz": {"get": {"summary": "Redis reachable and model loaded", "operationId": "readyz",
                            "responses": {"200": _json("Health"), **_problems(503)}}},
        "/review": {"get": {"summary": "The moderators' web page (HTML)", "operationId": "reviewPage",
                            "responses": {"200": {"description": "HTML", "content": {"text/html": {}}}}}},
        "/review/login": {"post": {"summary": "Sign in to the web page with a token (HTML form)", "operationId": "login",
                                   "responses": {"303": {"description": "Back to /review"}}}},
        "/review/logout": {"post": {"summary": "Sign out of the web page (HTML form)", "operationId": "logout",
                                    "responses": {"303": {"description": "Back to /review"}}}},
        "/review/language": {"post": {"summary": "Choose the web page's language, kept in a cookie (HTML form)",
                                      "operationId": "chooseLanguage",
                                      "responses": {"303": {"description": "Back to the page"}}}},
        "/metrics": {"get": {"summary": "Prometheus metrics (for the internal network)", "operationId": "metrics",
                             "responses": {"200": {"description": "Prometheus text format",
                                                   "content": {"text/plain": {}}}}}},
        "/docs": {"get": {"summary": "This document as a readable page (HTML)", "operationId": "docs",
                          "responses": {"200": {"description": "HTML", "content": {"text/html": {}}}}}},
        "/openapi.json": {"get": {"summary": "This document", "operationId": "openapi",
                                  "responses": {"200": {"description": "OpenAPI 3.1",
                                                        "content": {"application/json": {}}}}}},
    }
    schemas = {
        "Submission": submission,
        "Problem": PROBLEM,
        "Reason": REASON,
        "Feature": FEATURE,
        "Decision": {"type": "object", "required": ["id", "status", "score", "model_version", "reasons"],
                     "properties": {"id": {"type": "string"}, "status": STATUS,
                                    "score": {"type": "number", "minimum": 0, "maximum": 1},
                                    "model_version": {"type": "string"},
                                    "reasons": {"type": "array", "items": {"$ref": "#/components/schemas/Reason"}}}},
        "Comment": _comment_record(fields),
        "CommentPage": {"type": "object", "required": ["items", "next_cursor"], "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/Comment"}},
            "next_cursor": STRING_OR_NULL}},
        "QueuePage": {"type": "object", "required": ["items", "next_cursor", "counts"], "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/Comment"}},
            "next_cursor": STRING_OR_NULL,
            "counts": {"type": "object", "required": ["pending", "leased", "available"],
                       "properties": {k: {"type": "integer"} for k in ("pending", "leased", "available")}}}},
        "ClaimRequest": {"type": "object", "properties": {"limit": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE}}},
        "ClaimResponse": {"type": "object", "required": ["claimed", "lease_seconds"], "properties": {
            "claimed": {"type": "array", "items": {"$ref": "#/components/schemas/Comment"}},
            "lease_seconds": {"type": "integer"}}},
        "DecisionRequest": DECISION_REQUEST,
        "BulkDecisionRequest": {"type": "object", "required": ["decisions"], "properties": {"decisions": {
            "type": "array", "minItems": 1, "maxItems": MAX_BULK,
            "items": {**DECISION_REQUEST, "required": ["id", "decision"],
                      "properties": {**DECISION_REQUEST["properties"], "id": {"type": "string"}}}}}},
        "BulkDecisionResponse": {"type": "object", "required": ["results"], "properties": {"results": {
            "type": "array", "items": {"type": "object", "required": ["id", "ok"], "properties": {
                "id": {"type": "string"}, "ok": {"type": "boolean"}, "status": STATUS,
                "error": {"enum": ["not_found", "not_pending", "leased"]}, "detail": STRING_OR_NULL}}}}},
        "ScoreRequest": {"type": "object", "required": ["comments"], "properties": {"comments": {
            "type": "array", "minItems": 1, "maxItems": MAX_BATCH, "items": {"$ref": "#/components/schemas/Submission"}}}},
        "ScoreResponse": {"type": "object", "required": ["model_version", "results"], "properties": {
            "model_version": {"type": "string"},
            "results": {"type": "array", "items": {"type": "object",
                                                   "required": ["score", "decision", "reasons", "features"],
                                                   "properties": {
                                                       "score": {"type": "number"}, "decision": STATUS,
                                                       "language": {"type": "string"},
                                                       "reasons": {"type": "array",
                                                                   "items": {"$ref": "#/components/schemas/Reason"}},
                                                       "features": {"type": "array",
                                                                    "items": {"$ref": "#/components/schemas/Feature"}}}}}}},
        "ModelInfo": {"type": "object", "required": ["version", "created_at", "thresholds"], "properties": {
            "version": {"type": "string"}, "created_at": {"type": "string"},
            "thresholds": {"type": "object", "properties": {**BOUNDS,
                                                           "by_language": {"type": "object", "additionalProperties": {
                                                               "type": "object", "properties": BOUNDS}},
                                                           "approve_unfamiliar": {"type": "boolean"}}},
            "known_languages": {"type": "array", "items": {"type": "string"}}}},
        "TokenList": {"type": "object", "required": ["tokens"], "properties": {"tokens": {"type": "array", "items": {
            "type": "object", "properties": {"name": {"type": "string"}, "role": {"enum": ["moderator", "admin"]},
                                             "created_at": {"type": "string"}}}}}},
        "VersionRequest": {"type": "object", "required": ["version"], "properties": {"version": {"type": "string"}}},
        "RegistryRecord": {"type": "object", "required": ["version", "sha256", "by", "at"], "properties": {
            "version": {"type": "string"}, "sha256": {"type": "string"}, "by": {"type": "string"},
            "at": {"type": "string"}}},
        "ModelHistory": {"type": "object", "required": ["active", "shadow", "previous", "retraining"], "properties": {
            "active": {"oneOf": [{"$ref": "#/components/schemas/RegistryRecord"}, {"type": "null"}]},
            "shadow": {"oneOf": [{"$ref": "#/components/schemas/RegistryRecord"}, {"type": "null"}]},
            "previous": {"type": "array", "items": {"$ref": "#/components/schemas/RegistryRecord"}},
            "retraining": {"type": "array", "items": {"type": "object", "required": [
                "at", "by", "candidate", "active", "labels", "metrics", "promoted", "reason"]}}}},
        "ShadowReport": {"type": "object", "required": ["version", "compared", "agreement", "differences",
                                                        "against_labels"], "properties": {
            "version": {"type": "string"}, "compared": {"type": "integer"}, "agreement": {"type": ["number", "null"]},
            "transitions": {"type": "object"}, "differences": {"type": "array"},
            "differences_total": {"type": "integer"}, "against_labels": {"type": "object"}}},
        "Label": {"type": "object", "required": ["text", "label", "decided_by", "decided_at", "model_version", "score"],
                  "properties": {"comment_id": {"type": "string"}, "text": {"type": "string"},
                                 "label": {"enum": [0, 1]}, "lang": STRING_OR_NULL, "decided_by": {"type": "string"},
                                 "decided_at": {"type": "string"}, "model_version": {"type": "string"},
                                 "score": {"type": "number"}, "previous_status": {"type": "string"},
                                 "revisions": {"type": ["array", "null"]}}},
        "WebhookRequest": {"type": "object", "required": ["url"], "properties": {"url": {"type": "string",
                                                                                          "format": "uri"}}},
        "Webhook": {"type": "object", "required": ["id", "url", "secrets"], "properties": {
            "id": {"type": "string"}, "url": {"type": "string"}, "created_at": {"type": "string"},
            "secrets": {"type": "array", "items": {"type": "object", "properties": {
                "id": {"type": "string"}, "created_at": {"type": "string"}}}}}},
        "WebhookCreated": {"allOf": [{"$ref": "#/components/schemas/Webhook"}, {
            "type": "object", "required": ["secret"], "properties": {"secret": {"type": "string"}}}]},
        "WebhookList": {"type": "object", "required": ["endpoints", "pending_deliveries", "log"], "properties": {
            "endpoints": {"type": "array", "items": {"$ref": "#/components/schemas/Webhook"}},
            "pending_deliveries": {"type": "integer"}, "given_up": {"type": "integer"},
            "log": {"type": "array", "items": {"type": "object"}}}},
        "Health": {"type": "object", "required": ["status"], "properties": {"status": {"type": "string"},
                                                                            "model_version": {"type": "string"}}},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "Comment moderation service", "version": "1",
                 "description": f"Validation, spam scoring and human review of comments. Active model: {model_version}. "
                                "Errors are RFC 9457 problem details (application/problem+json)."},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer",
                               "description": "A token from `.venv/bin/python -m service tokens create`"},
                "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "moderation_session",
                                  "description": "The review page's session; unsafe methods also need X-CSRF-Token"},
            },
        },
    }


def current_document() -> dict:
    """The document for this app and the model it serves."""
    rt = runtime()
    return build_document(rt.submission_fields, rt.models.state.active.version)


@bp.get("/openapi.json")
def openapi_document():
    """Serve the OpenAPI document."""
    return current_document()


@bp.get("/docs")
def docs_page():
    """The same document as a page: every operation, who may call it, its parameters, body and answers."""
    document = current_document()
    return render_template("api_docs.html", doc=document, csrf_token="",
                           schemas_json={name: json.dumps(schema, indent=2, ensure_ascii=False)
                                         for name, schema in document["components"]["schemas"].items()})
