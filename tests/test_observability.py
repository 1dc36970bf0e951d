"""Metrics, structured logs and the API page."""

from __future__ import annotations

import json
import logging
import re
import urllib.request
import uuid

from prometheus_client.parser import text_string_to_metric_families

from service.app import create_app
from service.storage import tokens

from .conftest import bearer, running_service, wait_for
from .test_api_review import make_comment


def samples(text: str) -> dict:
    """{(name, frozenset(labels)): value} from a Prometheus exposition."""
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return out


def value(metrics: dict, name: str, **labels) -> float:
    return metrics.get((name, frozenset(labels.items())), 0.0)


def test_metrics_count_decisions_requests_and_report_the_queue(config, redis_client):
    app = create_app({**config, "flood_seconds": 15})
    client = app.test_client()
    before = samples(client.get("/metrics").get_data(as_text=True))
    site = bearer(tokens.create(redis_client, "journal", "site"))  # so that each commenter's own IP counts
    for i in range(3):
        client.post("/v1/comments", headers=site, json={"name": "A", "email": f"a{i}@x.sn", "ip": f"196.1.1.{i}",
                                                        "text": f"Merci pour cet article numéro {i} sur le budget"})
    client.post("/v1/comments", headers=site,
                json={"name": "A", "email": "a0@x.sn", "ip": "196.1.1.7", "text": "Encore moi, trop vite cette fois"})
    pending = make_comment(redis_client, 0.5, ms=1000)
    response = client.get("/metrics")
    assert response.headers["Content-Type"].startswith("text/plain")
    after = samples(response.get_data(as_text=True))
    decided = sum(value(after, "moderation_decisions_total", status=s) - value(before, "moderation_decisions_total",
                                                                                status=s)
                  for s in ("approved", "pending", "rejected"))
    assert decided == 3
    assert value(after, "moderation_spam_score_count") - value(before, "moderation_spam_score_count") == 3
    assert value(after, "moderation_rate_limited_total", reason="flood", subject="email") == 1
    assert value(after, "moderation_http_requests_total", endpoint="/v1/comments", method="POST", status="429") == 1
    assert value(after, "moderation_http_requests_total", endpoint="/v1/comments", method="POST", status="201") == 3
    assert value(after, "moderation_redis_up") == 1
    assert value(after, "moderation_queue_pending") == redis_client.zcard("mod:queue:pending") >= 1
    assert value(after, "moderation_queue_oldest_pending_age_seconds") > 1e9  # created at ms 1000 in 1970
    version = app.extensions["moderation"].models.state.active.version
    assert value(after, "moderation_model_info", version=version, role="active") == 1
    assert pending


def test_invented_http_methods_share_one_metrics_series(config, redis_client):
    client = create_app(config).test_client()
    for i in range(50):
        client.open("/v1/comments", method=f"BREW{i}")
    text = client.get("/metrics").get_data(as_text=True)
    methods = {labels for (name, labels) in samples(text) if name == "moderation_http_requests_total"}
    invented = [dict(labels)["method"] for labels in methods if dict(labels)["method"].startswith("BREW")]
    assert invented == []
    assert value(samples(text), "moderation_http_requests_total", endpoint="unmatched", method="other",
                 status="405") >= 50


def test_metrics_add_up_every_gunicorn_worker(redis_server, tmp_path):
    with running_service(MODERATION_REDIS_URL=redis_server.url, MODERATION_WORKERS=2,
                         MODERATION_DATA_DIR=tmp_path) as base:
        for _ in range(12):
            n = uuid.uuid4().hex[:8]
            body = json.dumps({"name": "A", "email": f"{n}@x.sn", "text": f"Bonjour {n}"}).encode()
            urllib.request.urlopen(urllib.request.Request(f"{base}/v1/comments", data=body,
                                                          headers={"Content-Type": "application/json"}), timeout=5)
        for _ in range(4):  # whichever worker answers, the counts are the sum over both
            metrics = samples(wait_for(f"{base}/metrics").decode())
            total = sum(value(metrics, "moderation_decisions_total", status=s) for s in ("approved", "pending", "rejected"))
            assert total == 12


def test_one_json_log_line_per_request_without_text_or_email(client, caplog):
    secret_text = f"Texte confidentiel {uuid.uuid4()}"
    email = f"{uuid.uuid4().hex[:10]}@prive.sn"
    with caplog.at_level(logging.DEBUG, logger="service"):
        created = client.post("/v1/comments", json={"name": "A", "email": email, "text": secret_text},
                              headers={"X-Request-ID": "req-123"})
        client.post("/v1/comments", json={"name": "A", "email": "not-an-email", "text": secret_text})
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "service.requests"]
    assert len(lines) == 2
    first = lines[0]
    assert first["request_id"] == "req-123" and first["status"] == 201
    assert first["decision"] == created.get_json()["status"] and first["score"] == created.get_json()["score"]
    assert first["model_version"] and first["latency_ms"] >= 0 and first["comment_id"] == created.get_json()["id"]
    everything = "\n".join(r.getMessage() for r in caplog.records)
    assert secret_text not in everything and email not in everything and "not-an-email" not in everything


def test_api_page_lists_every_operation(client):
    page = client.get("/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    document = client.get("/openapi.json").get_json()
    for path, operations in document["paths"].items():
        for method in operations:
            assert f"{method.upper()} {path}" in html
    assert "<script" not in html.lower() and not re.search(r"https?://cdn", html)
