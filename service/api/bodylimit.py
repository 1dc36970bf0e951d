"""A size limit that also holds for bodies sent without Content-Length (chunked transfer encoding)."""

from __future__ import annotations

import io

from flask import Flask, request
from werkzeug.exceptions import RequestEntityTooLarge

TOO_LARGE = "moderation.body_too_large"


class SizedBodies:
    """WSGI middleware: read an unsized body up to the limit; past it, mark the request refused, never truncate it.

    A body that fits is handed on with its Content-Length, so the app parses
    it like any other; one that does not is never parsed or stored at all.
    """

    def __init__(self, wsgi_app, max_bytes: int):
        self.wsgi_app = wsgi_app
        self.max_bytes = max_bytes

    def __call__(self, environ, start_response):
        if not environ.get("CONTENT_LENGTH") and _has_unsized_body(environ):
            data = environ["wsgi.input"].read(self.max_bytes + 1)
            if len(data) > self.max_bytes:
                environ[TOO_LARGE] = True
                data = b""
            environ["wsgi.input"] = io.BytesIO(data)
            environ["CONTENT_LENGTH"] = str(len(data))
            # Now an ordinary sized body: werkzeug ignores Content-Length while the request says chunked.
            environ.pop("wsgi.input_terminated", None)
            environ.pop("HTTP_TRANSFER_ENCODING", None)
        return self.wsgi_app(environ, start_response)


def _has_unsized_body(environ) -> bool:
    return bool(environ.get("wsgi.input_terminated")) or "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()


def _refuse_marked():
    if request.environ.get(TOO_LARGE):
        raise RequestEntityTooLarge()


def register(app: Flask, max_bytes: int) -> None:
    """Wrap the app's WSGI callable and refuse marked requests with the usual 413 problem."""
    app.wsgi_app = SizedBodies(app.wsgi_app, max_bytes)
    app.before_request(_refuse_marked)
