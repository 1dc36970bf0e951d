"""The only place exceptions become HTTP responses: RFC 9457 problem details."""

from __future__ import annotations

import logging

from flask import Flask, current_app, g, json, request
from werkzeug.exceptions import HTTPException

from ..errors import ModerationError, StorageUnavailableError
from ..storage.client import UNAVAILABLE

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "/problems/"
log = logging.getLogger("service.problems")


def problem(status: int, title: str, detail: str, *, slug: str | None = None, headers=None, **extra):
    """Build a problem+json response."""
    body = {
        "type": f"{TYPE_BASE}{slug}" if slug else "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.path,
        **extra,
    }
    response = Flask.response_class(json.dumps(body), status=status, mimetype=PROBLEM_MEDIA_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _from_moderation_error(exc: ModerationError):
    extra = dict(exc.context)
    g.problem = {"slug": exc.slug, **extra}
    if hasattr(exc, "errors"):
        extra["errors"] = exc.errors
    headers = dict(exc.headers)
    if getattr(exc, "retry_after", None):
        headers["Retry-After"] = str(exc.retry_after)
    if exc.status >= 500:
        log.error("%s: %s", exc.title, exc.detail)
    else:
        log.warning("%s %s: %s", exc.status, exc.title, exc.detail)
    return problem(exc.status, exc.title, exc.detail, slug=exc.slug, headers=headers, **extra)


def _from_http_exception(exc: HTTPException):
    headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
    log.warning("%s %s", exc.code, exc.name)
    if exc.code == 413:
        limit = current_app.config["MAX_CONTENT_LENGTH"]
        return problem(413, exc.name, f"The request body is larger than the limit of {limit:,} bytes "
                                      "(MODERATION_MAX_BODY_BYTES); nothing was stored.", headers=headers,
                       max_bytes=limit)
    return problem(exc.code or 500, exc.name, exc.description or exc.name, headers=headers)


def _from_redis_down(exc: Exception):
    return _from_moderation_error(StorageUnavailableError(f"Redis is not reachable ({type(exc).__name__}); try again."))


def _from_unexpected(exc: Exception):
    log.error("unhandled error on %s %s", request.method, request.path, exc_info=exc)
    return problem(500, "Internal Server Error", "The server failed to handle the request; it has been logged.")


def register(app: Flask) -> None:
    """Install the error handlers on an app."""
    app.register_error_handler(ModerationError, _from_moderation_error)
    app.register_error_handler(HTTPException, _from_http_exception)
    for exc_type in UNAVAILABLE:
        app.register_error_handler(exc_type, _from_redis_down)
    app.register_error_handler(Exception, _from_unexpected)
