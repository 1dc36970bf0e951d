"""Health endpoints and the behaviour when Redis is unreachable."""

from __future__ import annotations

from service.app import create_app

from .conftest import free_port


def test_healthz_answers_while_the_process_is_up(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_readyz_reports_model_version_when_redis_answers(client, app):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ready", "model_version": app.extensions["moderation"].models.state.active.version}


def test_unreachable_redis_gives_503_with_retry_after_not_a_fake_success(config):
    down = create_app({**config, "redis_url": f"redis://127.0.0.1:{free_port()}/0", "redis_timeout": 0.2})
    client = down.test_client()
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.headers["Retry-After"] == "5"
    assert ready.get_json()["type"] == "/problems/not-ready"
    submitted = client.post("/v1/comments", json={"name": "A", "email": "a@b.fr", "text": "Bonjour"})
    assert submitted.status_code == 503
    assert submitted.headers["Retry-After"] == "5"
    assert submitted.mimetype == "application/problem+json"
    assert submitted.get_json()["type"] == "/problems/storage-unavailable"
    assert client.get("/healthz").status_code == 200
