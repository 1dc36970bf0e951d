"""GET /metrics, and the hooks that count requests, decisions and refusals."""

from __future__ import annotations

import time

from flask import Blueprint, Flask, Response, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST

bp = Blueprint("metrics", __name__)
# Any other method a client invents is counted as "other": one series, however many names are tried.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _metrics():
    return current_app.extensions["moderation.metrics"]


def _record(response):
    metrics = _metrics()
    endpoint = request.url_rule.rule if request.url_rule else "unmatched"
    method = request.method if request.method in KNOWN_METHODS else "other"
    metrics.requests.labels(endpoint, method, str(response.status_code)).inc()
    # g.started is set by the request log's before-request hook.
    metrics.latency.labels(endpoint).observe(time.perf_counter() - g.get("started", time.perf_counter()))
    fields = g.get("log_fields", {})
    if "score" in fields and response.status_code == 201:
        metrics.decisions.labels(fields["decision"]).inc()
        metrics.scores.observe(fields["score"])
        for code in fields.get("reasons", ()):
            metrics.reasons.labels(code).inc()
    elif "decision" in fields and response.status_code == 200:
        metrics.reviews.labels(fields["decision"], "override" if fields.get("override") else "review").inc()
    problem = g.get("problem")
    if problem and problem["slug"] == "rate-limited":
        metrics.rate_limited.labels(problem.get("reason", ""), problem.get("subject", "")).inc()
    elif problem and problem["slug"] in ("storage-unavailable", "not-ready"):
        metrics.redis_errors.inc()
    return response


@bp.get("/metrics")
def metrics():
    """Prometheus text exposition."""
    body = _metrics().exposition(current_app.extensions["moderation.live_metrics"])
    return Response(body, mimetype=CONTENT_TYPE_LATEST.split(";")[0], headers={"Content-Type": CONTENT_TYPE_LATEST})


def register(app: Flask) -> None:
    """Install the counting hook (after requestlog.register, whose start time it reads)."""
    app.after_request(_record)
