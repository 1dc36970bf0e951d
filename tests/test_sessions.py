"""Review-page sessions are server-side records: signing out ends them, copied cookies included."""

from __future__ import annotations

import re

from service.storage import keys, tokens

from .test_api_review import make_comment

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def sign_in(client, token: str) -> str:
    """Sign in through the form; return the page's CSRF token."""
    page = client.get("/review").get_data(as_text=True)
    client.post("/review/login", data={"token": token, "csrf_token": CSRF_RE.search(page).group(1)})
    signed_in = client.get("/review").get_data(as_text=True)
    assert "logout" in signed_in
    return CSRF_RE.search(signed_in).group(1)


def test_sign_out_ends_the_session_for_a_copied_cookie_too(app, redis_client):
    token = tokens.create(redis_client, "awa", "moderator")
    make_comment(redis_client, 0.5)
    browser = app.test_client()
    csrf = sign_in(browser, token)
    cookie = browser.get_cookie("moderation_session").value
    thief = app.test_client()
    thief.set_cookie("moderation_session", cookie)
    assert thief.get("/v1/review/queue").status_code == 200  # the copy works while the session is open
    assert len(redis_client.keys(keys.session("*"))) == 1

    browser.post("/review/logout", data={"csrf_token": csrf})
    assert redis_client.keys(keys.session("*")) == []
    assert thief.get("/v1/review/queue").status_code == 401
    claim = thief.post("/v1/review/claim", json={"limit": 1}, headers={"X-CSRF-Token": csrf})
    assert claim.status_code == 401
    assert 'name="token"' in thief.get("/review").get_data(as_text=True)  # the sign-in form again


def test_revoking_the_token_ends_its_sessions(app, redis_client):
    token = tokens.create(redis_client, "awa", "moderator")
    browser = app.test_client()
    sign_in(browser, token)
    tokens.revoke(redis_client, "awa")
    assert browser.get("/v1/review/queue").status_code == 401


def test_a_session_expires_on_the_server(app, redis_client):
    token = tokens.create(redis_client, "awa", "moderator")
    browser = app.test_client()
    sign_in(browser, token)
    (session_key,) = redis_client.keys(keys.session("*"))
    assert 0 < redis_client.ttl(session_key) <= 12 * 3600
    redis_client.delete(session_key)  # what the expiry does
    assert browser.get("/v1/review/queue").status_code == 401
