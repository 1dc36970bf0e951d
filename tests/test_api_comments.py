"""POST /v1/comments and GET /v1/comments/{id} against real Redis and the shipped model."""

from __future__ import annotations

import io
import json
import sys
import unicodedata

import pytest
from werkzeug.test import EnvironBuilder, run_wsgi_app

from service.api import schemas
from service.storage import comments, keys

GOOD = {"name": "Awa Ndiaye", "email": "awa@exemple.sn", "text": "Merci pour cet article très clair."}
SPAM = "Check out my channel http://free-prizes.com subscribe and win a free iphone!!! click here"


def post(client, body, **kwargs):
    return client.post("/v1/comments", json=body, **kwargs)


def invalid(field: str, message: str) -> dict:
    """The full problem body for a single invalid field."""
    return {
        "type": "/problems/validation-error",
        "title": "Invalid fields",
        "status": 422,
        "detail": f"Invalid or missing field(s): {field}.",
        "instance": "/v1/comments",
        "errors": [{"field": field, "message": message}],
    }


def test_json_submission_is_stored_and_answered_with_decision(client, redis_client):
    response = post(client, GOOD)
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == {"id", "status", "score", "model_version", "reasons"}
    assert body["status"] in ("approved", "pending")
    assert 0 <= body["score"] <= 1
    assert response.headers["Location"] == f"/v1/comments/{body['id']}"
    stored = redis_client.hgetall(keys.comment(body["id"]))
    assert json.loads(stored["submission"]) == {**GOOD, "ip": "127.0.0.1"}  # no site key: the peer is the commenter
    assert stored["model_version"] == body["model_version"]


def test_form_post_is_accepted_like_json(client):
    form = {**GOOD, "url": "", "comment_post_ID": "12"}  # empty website field, unknown WordPress field
    response = client.post("/v1/comments", data=form)
    assert response.status_code == 201
    record = client.get(response.headers["Location"]).get_json()
    assert record["comment"] == {"name": GOOD["name"], "text": GOOD["text"]}


def test_obvious_spam_scores_higher_than_french_ham_and_is_not_approved(client):
    ham = post(client, GOOD).get_json()
    spam = post(client, {**GOOD, "text": SPAM}).get_json()
    assert spam["score"] > ham["score"]
    assert spam["status"] in ("rejected", "pending")
    assert ham["status"] in ("approved", "pending")


def test_fields_are_normalised_before_storage(client):
    body = {**GOOD, "name": "  Awa  ", "email": "Awa@EXEMPLE.sn", "ip": "2001:DB8::1", "parent_id": 42}
    comment_id = post(client, body).get_json()["id"]
    record = client.get(f"/v1/comments/{comment_id}").get_json()
    assert record["comment"]["name"] == "Awa"
    assert record["comment"]["parent_id"] == "42"


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"name": None}, "name", "is required"),
        ({"name": "   "}, "name", "must not be blank"),
        ({"name": "x" * 246}, "name", "must be at most 245 characters, got 246"),
        ({"name": "Awa\x00"}, "name", "must not contain control characters (found U+0000)"),
        ({"name": "Awa\r\nBcc: x"}, "name", "must not contain control characters (found U+000D)"),
        ({"name": "abc\u202eevil"}, "name", "must not contain bidirectional control characters (found U+202E)"),
        ({"name": "Aw\u200ba"}, "name", "must not contain invisible characters (found U+200B)"),
        ({"name": "Awa\u2060"}, "name", "must not contain invisible characters (found U+2060)"),
        ({"url": "https://example.sn/\u202egpj.exe"}, "url",
         "must not contain bidirectional control characters (found U+202E)"),
        ({"article_url": "https://journal.sn/a\u2066b"}, "article_url",
         "must not contain bidirectional control characters (found U+2066)"),
        ({"article_url": "https://journal.sn/\u200ba"}, "article_url", "must not contain invisible characters (found U+200B)"),
        ({"name": ["Awa"]}, "name", "must be a string, not an array"),
        ({"email": "not-an-address"}, "email",
         "is not a valid e-mail address: An email address must have an @-sign."),
        ({"email": "a" * 250 + "@x.fr"}, "email", "must be at most 254 characters, got 255"),
        ({"email": 12}, "email", "must be a string, not a number"),
        ({"text": ""}, "text", "must not be blank"),
        ({"text": " \n\t "}, "text", "must not be blank"),
        ({"text": "é" * 32763}, "text", "must be at most 65525 bytes in UTF-8, got 65526"),
        ({"text": "bonjour\x07"}, "text", "must not contain control characters other than tab and newline (found U+0007)"),
        ({"text": {"a": 1}}, "text", "must be a string, not an object"),
        ({"text": True}, "text", "must be a string, not a boolean"),
        ({"url": "javascript:alert(1)"}, "url", "must be an absolute http:// or https:// URL"),
        ({"url": "ftp://example.com/"}, "url", "must be an absolute http:// or https:// URL"),
        ({"url": "https://example.com/" + "a" * 200}, "url", "must be at most 200 characters, got 220"),
        ({"url": "http://exa mple.com"}, "url", "must not contain spaces"),
        ({"url": "http://example.com:99999/"}, "url", "is not a valid URL"),
        ({"article_url": "/relative/path"}, "article_url", "must be an absolute http:// or https:// URL"),
        ({"ip": "999.1.1.1"}, "ip", "must be an IPv4 or IPv6 address"),
        ({"ip": "localhost"}, "ip", "must be an IPv4 or IPv6 address"),
        ({"lang": "français"}, "lang", "must be a language tag such as 'fr' or 'fr-SN'"),
        ({"user_agent": "x" * 513}, "user_agent", "must be at most 512 characters, got 513"),
        ({"referrer": "data:text/html,hi"}, "referrer", "must be an absolute http:// or https:// URL"),
        ({"parent_id": 1.5}, "parent_id", "must be a string, not a number"),
    ],
)
def test_invalid_field_gets_422_problem_naming_it(client, redis_client, change, field, message):
    response = post(client, {**GOOD, **change})
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert response.get_json() == invalid(field, message)
    assert redis_client.dbsize() == 0


def test_an_address_checked_again_gets_the_same_answer(client, redis_client):
    """Syntax checks are remembered per address: the second answer must be the first."""
    for _ in range(2):
        response = post(client, {**GOOD, "email": "awa..diop@exemple.sn"})
        assert response.get_json() == invalid(
            "email", "is not a valid e-mail address: An email address cannot have two periods in a row.")
    for _ in range(2):
        response = post(client, {**GOOD, "email": "Awa.Diop@EXEMPLE.SN"})
        assert response.status_code == 201
        assert comments.load(redis_client, response.get_json()["id"])["submission"]["email"] == "Awa.Diop@exemple.sn"


@pytest.mark.parametrize(
    "change",
    [
        {"url": "https://awa.example.sn/blog"},
        {"ip": "196.207.0.1"},
        {"ip": "::1"},
        {"lang": "fr-SN"},
        {"name": "Jean-Édouard N'Diaye"},
        {"email": "élodie@exemple.fr"},
        {"text": "Ligne 1\nLigne 2\tavec tabulation"},
        {"parent_id": "c-123"},
        {"unknown_field": {"nested": [1, 2]}},
    ],
)
def test_valid_optional_values_are_accepted(client, change):
    assert post(client, {**GOOD, **change}).status_code == 201


def test_every_bad_field_is_listed_at_once(client):
    response = post(client, {"name": "", "email": "bad", "text": 5})
    assert response.status_code == 422
    assert [e["field"] for e in response.get_json()["errors"]] == ["name", "email", "text"]


@pytest.mark.parametrize(
    ("data", "detail"),
    [
        (b'{"name": "Awa",',
         "The body is not valid JSON: Expecting property name enclosed in double quotes at line 1 column 16."),
        (b"", "The body is empty; send a JSON object."),
        (b'{"name": "\xff"}', "The body is not valid UTF-8 (byte 10)."),
        (b'{"name": "a", "name": "b"}', "The JSON object has the key 'name' more than once."),
        (b'{"score": NaN}', "NaN is not valid JSON."),
        (b"[" * 100000 + b"]" * 100000, "The JSON document is nested too deeply."),
    ],
)
def test_unparseable_json_gets_400_problem(client, redis_client, data, detail):
    response = client.post("/v1/comments", data=data, content_type="application/json")
    assert response.status_code == 400
    body = response.get_json()
    assert {k: body[k] for k in ("type", "title", "status", "detail")} == {
        "type": "/problems/malformed-body", "title": "Malformed request body", "status": 400, "detail": detail}
    assert redis_client.dbsize() == 0


@pytest.mark.parametrize("data", [b'"just a string"', b"[1, 2]", b"null", b"42"])
def test_json_that_is_not_an_object_gets_422(client, data):
    response = client.post("/v1/comments", data=data, content_type="application/json")
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == ""


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", None])
def test_unsupported_content_type_gets_415(client, content_type):
    response = client.post("/v1/comments", data=json.dumps(GOOD), content_type=content_type)
    assert response.status_code == 415
    body = response.get_json()
    assert body["type"] == "/problems/unsupported-media-type"
    assert body["accept"] == ["application/json", "application/x-www-form-urlencoded", "multipart/form-data"]
    assert body["detail"].endswith("send application/json, application/x-www-form-urlencoded or multipart/form-data.")


@pytest.mark.parametrize(("data", "pointer"), [
    (b'{"name": "A", "email": "a@b.sn", "text": "\\ud800"}', "/text"),
    (b'{"name": "A", "email": "a@b.sn", "text": "ok", "extra": {"x": ["\\udfff"]}}', "/extra/x/0"),
    (b'{"\\ud800": 1}', "/\ud800"),
    (b'{"name": "A", "email": "a@b.sn", "text": "ok", "a/b~c": "\\udfff"}', "/a~1b~0c"),
    (b'{"name": "A", "email": "a@b.sn", "text": "x \\uDBFF y"}', "/text"),  # escapes are case-insensitive
])
def test_a_lone_surrogate_anywhere_in_json_gets_400_naming_where(client, data, pointer):
    response = client.post("/v1/comments", data=data, content_type="application/json")
    assert response.status_code == 400
    body = response.get_json()
    assert body["type"] == "/problems/malformed-body"
    assert "unpaired surrogate" in body["detail"]
    assert body["pointer"] == pointer


def test_oversized_body_gets_413(client):
    response = client.post("/v1/comments", data=b"x" * (300 * 1024), content_type="application/json")
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["status"] == 413
    assert response.get_json()["detail"] == ("The request body is larger than the limit of 262,144 bytes "
                                             "(MODERATION_MAX_BODY_BYTES); nothing was stored.")
    assert response.get_json()["max_bytes"] == 262_144


def test_wrong_method_gets_405_with_allow(client):
    response = client.put("/v1/comments", json=GOOD)
    assert response.status_code == 405
    assert response.mimetype == "application/problem+json"
    assert set(response.headers["Allow"].split(", ")) >= {"POST"}


def test_get_returns_record_with_history_and_no_personal_data(client):
    submitted = post(client, {**GOOD, "ip": "196.207.0.1", "user_agent": "Firefox"}).get_json()
    response = client.get(f"/v1/comments/{submitted['id']}")
    assert response.status_code == 200
    record = response.get_json()
    assert {k: record[k] for k in ("id", "status", "score", "model_version", "reasons")} == submitted
    assert record["decided_by"] is None
    assert "email" not in record["comment"] and "ip" not in record["comment"]
    assert "user_agent" not in record["comment"]
    assert [e["event"] for e in record["history"]] == ["created"]
    assert record["history"][0]["model_version"] == submitted["model_version"]


@pytest.mark.parametrize("comment_id", ["0123456789abcdef01234567", "nope", "x" * 300, "%00"])
def test_unknown_id_gets_404_problem(client, comment_id):
    response = client.get(f"/v1/comments/{comment_id}")
    assert response.status_code == 404
    body = response.get_json()
    assert body["type"] == "/problems/not-found"
    assert body["status"] == 404


def test_unknown_route_gets_404_problem(client):
    response = client.get("/no/such/thing")
    assert response.status_code == 404
    assert response.get_json() == {
        "type": "about:blank", "title": "Not Found", "status": 404, "instance": "/no/such/thing",
        "detail": response.get_json()["detail"]}


def test_request_id_is_echoed_or_made_up(client):
    assert client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"] == "abc-123"
    made_up = client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"}).headers["X-Request-ID"]
    assert len(made_up) == 32


def test_a_chunked_form_within_the_limit_is_read_whole(app):
    body = b"name=Awa&email=awa%40exemple.sn&text=Merci+pour+cet+article+tr%C3%A8s+clair."
    environ = EnvironBuilder(method="POST", path="/v1/comments", headers={
        "Transfer-Encoding": "chunked", "Content-Type": "application/x-www-form-urlencoded"}).get_environ()
    environ.pop("CONTENT_LENGTH", None)
    environ.update({"wsgi.input": io.BytesIO(body), "wsgi.input_terminated": True})  # as gunicorn hands it over
    out, status, _ = run_wsgi_app(app, environ)
    assert status.startswith("201"), b"".join(out)


FORM = "application/x-www-form-urlencoded"


@pytest.mark.parametrize(("content_type", "body"), [
    # An older French CMS: Latin-1 declared, raw bytes or percent-escapes.
    (f"{FORM}; charset=ISO-8859-1", "name=Ren\xe9e&email=renee%40exemple.fr&text=D\xe9j\xe0 vu, tr\xe8s bien.".encode("latin-1")),
    (f"{FORM}; charset=iso-8859-1", b"name=Ren%E9e&email=renee%40exemple.fr&text=D%E9j%E0+vu%2C+tr%E8s+bien."),
    (f"{FORM}; charset=windows-1252", b"name=Ren%E9e&email=renee%40exemple.fr&text=D%E9j%E0+vu%2C+tr%E8s+bien."),
    (FORM, b"name=Ren%C3%A9e&email=renee%40exemple.fr&text=D%C3%A9j%C3%A0+vu%2C+tr%C3%A8s+bien."),
])
def test_forms_are_read_in_their_declared_charset(client, content_type, body):
    response = client.post("/v1/comments", data=body, content_type=content_type)
    assert response.status_code == 201, response.get_json()
    record = client.get(response.headers["Location"]).get_json()
    assert (record["comment"]["name"], record["comment"]["text"]) == ("Renée", "Déjà vu, très bien.")


def test_undecodable_form_bytes_are_a_400_naming_the_field(client):
    response = client.post("/v1/comments", data="name=Awa&email=a%40b.sn&text=D\xe9j\xe0".encode("latin-1"),
                           content_type=FORM)  # Latin-1 bytes, no charset: read as UTF-8
    assert response.status_code == 400
    body = response.get_json()
    assert body["field"] == "text" and body["pointer"] == "/text"
    assert body["detail"] == ("The form's field 'text' is not valid utf-8 (byte 0xE9); declare the form's charset "
                              "(for example charset=ISO-8859-1).")


def test_an_unknown_form_charset_is_a_415(client):
    response = client.post("/v1/comments", data=b"name=A", content_type=f"{FORM}; charset=koi8-r")
    assert response.status_code == 415
    assert response.get_json()["detail"].startswith("The form's charset 'koi8-r' is not supported")


def test_the_compiled_field_checks_match_unicode_categories_for_every_code_point():
    control, text_control, invisible = schemas._CONTROL_RE, schemas._TEXT_CONTROL_RE, schemas.format_characters()
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        category = unicodedata.category(char)
        assert bool(control.match(char)) == (category == "Cc"), hex(code)
        assert bool(text_control.match(char)) == (category == "Cc" and char not in "\t\n\r"), hex(code)
        assert bool(invisible.match(char)) == (category == "Cf"), hex(code)
