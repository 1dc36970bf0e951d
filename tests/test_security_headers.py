"""Security headers on every response, without replacing a header a view set itself."""

from __future__ import annotations

import pytest
from flask import Response

from service.api.security import HEADERS
from service.app import create_app


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("get", "/healthz", None, 200),
        ("get", "/review", None, 200),
        ("post", "/v1/comments", {"name": "A", "email": "a@exemple.sn", "text": "Merci pour cet article."}, 201),
        ("post", "/v1/comments", {"name": "A", "email": "pas-une-adresse", "text": "Bonjour"}, 422),
        ("get", "/v1/review/queue", None, 401),
        ("get", "/no/such/page", None, 404),
    ],
)
def test_every_response_carries_the_security_headers_and_no_store(client, method, path, body, status):
    response = getattr(client, method)(path, json=body) if body else getattr(client, method)(path)
    assert response.status_code == status
    for name, value in HEADERS.items():
        assert response.headers.getlist(name) == [value], name
    assert response.headers.getlist("Cache-Control") == ["no-store"]


def test_static_files_keep_their_own_caching(client):
    response = client.get("/static/review.css")
    response.close()  # a file response holds the file open until closed
    assert response.status_code == 200
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" not in response.headers.get("Cache-Control", "")


def test_a_header_the_view_set_is_kept_whatever_its_case(config):
    app = create_app(config)

    @app.get("/_test/own-headers")
    def own_headers():
        return Response("x", headers={"x-frame-options": "SAMEORIGIN", "cache-control": "max-age=60"})

    response = app.test_client().get("/_test/own-headers")
    assert response.headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]
    assert response.headers.getlist("Cache-Control") == ["max-age=60"]
    assert response.headers["Referrer-Policy"] == "no-referrer"
