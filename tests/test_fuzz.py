"""Fuzzing: schemathesis against the service's own OpenAPI document, hypothesis against the validators."""

from __future__ import annotations

import itertools
import json

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import ignored_auth, positive_data_acceptance

from service.api.schemas import submission_fields, validate_submission
from service.errors import ValidationError
from service.storage import tokens

from .conftest import bearer

EXAMPLES_PER_OPERATION = 25  # bounds the run: about 40 operations, well under a minute


@pytest.fixture
def admin_headers(redis_client) -> dict:
    return bearer(tokens.create(redis_client, "fuzzer", "admin"))


def operations(app):
    """Every operation of the OpenAPI document the app serves, as schemathesis sees it."""
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    return [result.ok() for result in schema.get_all_operations()]


def test_no_generated_request_gets_a_5xx_or_an_undocumented_response(default_app, admin_headers):
    # Driven by hand rather than with schemathesis' pytest plugin, which does not support pytest 9 yet.
    checked = []
    for operation in operations(default_app):
        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case):
            response = case.call(app=default_app, headers=admin_headers)
            # Our validators are stricter than a schema can say (e-mail deliverability rules, control
            # characters, link and time rules), so "schema-valid data must be accepted" does not hold;
            # every other check does: no 5xx, documented status codes, content types and response schemas.
            # content_type_conformance also holds every 4xx to application/problem+json, as documented.
            # ignored_auth is left out because every request here carries a valid admin token on purpose;
            # authentication is tested endpoint by endpoint in test_api_review.py.
            case.validate_response(response, excluded_checks=[positive_data_acceptance, ignored_auth])
            assert response.status_code < 500

        check()
        checked.append(operation.label)
    assert len(checked) >= 30


FIELDS = submission_fields()
ANY_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
                        lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
                        max_leaves=12)


@given(st.dictionaries(st.sampled_from([f.name for f in FIELDS] + ["extra"]), ANY_JSON))
@settings(max_examples=300, deadline=None)
def test_validator_either_cleans_or_names_the_bad_fields(body):
    try:
        cleaned = validate_submission(body, FIELDS)
    except ValidationError as exc:
        assert exc.errors and all(e["field"] in {f.name for f in FIELDS} for e in exc.errors)
        json.dumps(exc.errors)  # the problem body is always serialisable
        return
    assert {"name", "email", "text"} <= cleaned.keys()
    json.dumps(cleaned, ensure_ascii=False).encode("utf-8")  # storable as UTF-8 JSON
    assert "\x00" not in cleaned["text"] and cleaned["name"] == cleaned["name"].strip()


@given(name=st.text(), email=st.emails(), text=st.text(min_size=1))
@settings(max_examples=300, deadline=None)
def test_any_text_is_accepted_or_refused_cleanly(name, email, text):
    try:
        cleaned = validate_submission({"name": name, "email": email, "text": text}, FIELDS)
    except ValidationError as exc:
        assert {e["field"] for e in exc.errors} <= {"name", "email", "text"}
        return
    assert cleaned["text"].strip() and len(cleaned["text"].encode("utf-8")) <= 65525


@given(st.binary(max_size=300))
@settings(max_examples=200, deadline=None)
def test_arbitrary_bytes_never_break_the_endpoint(default_app, data):
    response = default_app.test_client().post("/v1/comments", data=data, content_type="application/json")
    assert response.status_code in (201, 400, 422)
    assert response.mimetype in ("application/json", "application/problem+json")


@given(name=st.text(min_size=1, max_size=60), text=st.text(min_size=1, max_size=400))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_whatever_is_accepted_is_stored_and_read_back_unchanged(default_app, name, text):
    """The store script gets the record inside a JSON payload: nothing may be lost or re-encoded on the way."""
    client = default_app.test_client()
    email = f"fuzz{next(_EMAILS)}@exemple.sn"  # a fresh commenter each time: no flood or rate limit
    response = client.post("/v1/comments", json={"name": name, "email": email, "text": text})
    if response.status_code != 201:
        assert response.status_code == 422
        return
    cleaned = validate_submission({"name": name, "email": email, "text": text}, FIELDS)
    stored = client.get(f"/v1/comments/{response.get_json()['id']}").get_json()
    assert stored["comment"]["text"] == cleaned["text"] and stored["comment"]["name"] == cleaned["name"]
    assert stored["status"] == response.get_json()["status"]


_EMAILS = itertools.count()
