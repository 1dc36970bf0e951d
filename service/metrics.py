"""Prometheus metrics: counters and histograms recorded as things happen, Redis state read at scrape time.

Under gunicorn, `serve` sets PROMETHEUS_MULTIPROC_DIR before the workers
start, so every worker writes its samples there and /metrics adds them up.
Each app has its own registry (tests build many apps in one process).
"""

from __future__ import annotations

import os
import time

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily

from .clock import now_ms
from .storage import keys
from .storage.client import UNAVAILABLE
from .storage.comments import created_ms

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
SCORE_BUCKETS = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0)


class Metrics:
    """Every metric the service records, registered on one registry."""

    def __init__(self):
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter("moderation_http_requests_total", "HTTP requests by route, method and status",
                                ["endpoint", "method", "status"], registry=r)
        self.latency = Histogram("moderation_http_request_duration_seconds", "Request latency by route",
                                 ["endpoint"], buckets=LATENCY_BUCKETS, registry=r)
        self.decisions = Counter("moderation_decisions_total", "Automatic decisions on submissions", ["status"],
                                 registry=r)
        self.reasons = Counter("moderation_decision_reasons_total", "Reasons given with automatic decisions",
                               ["reason"], registry=r)
        self.scores = Histogram("moderation_spam_score", "Spam probability of submissions", buckets=SCORE_BUCKETS,
                                registry=r)
        self.reviews = Counter("moderation_review_decisions_total", "Human decisions", ["decision", "kind"],
                               registry=r)
        self.rate_limited = Counter("moderation_rate_limited_total", "Submissions refused with 429",
                                    ["reason", "subject"], registry=r)
        self.redis_errors = Counter("moderation_redis_errors_total", "Requests that found Redis unavailable",
                                    registry=r)
        self.webhooks = Counter("moderation_webhook_deliveries_total", "Webhook delivery attempts by result",
                                ["result"], registry=r)
        self.score_parts = Counter("moderation_score_parts_total",
                                   "Parts of POST /v1/score batches, by the process that judged them", ["done_by"],
                                   registry=r)
        self.helpers_lost = Counter("moderation_score_helpers_lost_total",
                                    "Helper processes that died or stalled (not replaced until their worker restarts)",
                                    registry=r)

    def helper_event(self, event: str) -> None:
        """Count what a worker's helpers report (service.helpers.Helpers.record)."""
        if event == "lost":
            self.helpers_lost.inc()
        else:
            self.score_parts.labels(event).inc()

    def exposition(self, live_collector) -> bytes:
        """The text exposition: this process's metrics, or every worker's under gunicorn, plus live Redis state."""
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
        else:
            registry = CollectorRegistry()
            registry.register(_Forward(self.registry))
        registry.register(live_collector)
        return generate_latest(registry)


class _Forward:
    """Expose another registry's metrics inside a fresh one."""

    def __init__(self, source):
        self.source = source

    def collect(self):
        yield from self.source.collect()


class LiveCollector:
    """Gauges read at scrape time: the review queue, leases, webhook backlog, unarchived labels, the models in force."""

    def __init__(self, runtime):
        self.runtime = runtime

    def collect(self):
        state = self.runtime.models.state
        info = GaugeMetricFamily("moderation_model_info", "The models this process serves", labels=["version", "role"])
        info.add_metric([state.active.version, "active"], 1)
        if state.shadow:
            info.add_metric([state.shadow.version, "shadow"], 1)
        yield info
        client = self.runtime.redis
        try:
            pipe = client.pipeline(transaction=False)
            pipe.zcard(keys.review_queue())
            pipe.zrangebylex(keys.by_status("pending"), "-", "+", start=0, num=1)
            pipe.zcount(keys.leases(), f"({now_ms()}", "+inf")
            pipe.zcard(keys.webhook_deliveries())
            pipe.llen(keys.webhook_dead())
            pipe.xlen(keys.label_stream())
            pending, oldest, leased, deliveries, dead, unarchived = pipe.execute()
            answered = True
        except UNAVAILABLE:
            answered = False
        up = GaugeMetricFamily("moderation_redis_up", "Whether Redis answered the scrape")
        up.add_metric([], int(answered))
        yield up
        if not answered:
            return
        for name, doc, value in (
            ("moderation_queue_pending", "Comments waiting for review", pending),
            ("moderation_queue_leased", "Pending comments under a live lease", leased),
            ("moderation_webhook_deliveries_pending", "Webhook deliveries waiting or being retried", deliveries),
            ("moderation_webhook_deliveries_given_up", "Webhook deliveries given up (recent)", dead),
            ("moderation_labels_unarchived", "Moderators' decisions not yet written to the label archive", unarchived),
        ):
            gauge = GaugeMetricFamily(name, doc)
            gauge.add_metric([], value)
            yield gauge
        age = GaugeMetricFamily("moderation_queue_oldest_pending_age_seconds", "Age of the oldest pending comment")
        age.add_metric([], max(0.0, time.time() - created_ms(oldest[0]) / 1000) if oldest else 0.0)
        yield age
