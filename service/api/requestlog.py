"""One structured JSON log line per request, with a request id the caller can pass or receive."""

from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Flask, g, request

from .fastjson import dumps

log = logging.getLogger("service.requests")
REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def _start() -> None:
    g.started = time.perf_counter()
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if REQUEST_ID_RE.match(incoming) else uuid.uuid4().hex


def _finish(response):
    response.headers["X-Request-ID"] = g.get("request_id", "")
    if log.isEnabledFor(logging.INFO):
        line = {
            "request_id": g.get("request_id"),
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "latency_ms": round((time.perf_counter() - g.get("started", time.perf_counter())) * 1000, 2),
            **g.get("log_fields", {}),
        }
        log.info(dumps(line))
    return response


def register(app: Flask) -> None:
    """Install the request-id and access-log hooks."""
    app.before_request(_start)
    app.after_request(_finish)
