"""Security headers on every response."""

from __future__ import annotations

from flask import Flask, request

# No inline script or style anywhere: everything the page runs comes from /static.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


_BY_LOWER_NAME = {name.lower(): (name, value) for name, value in HEADERS.items()}


def _add_headers(response):
    """Add each header the response does not already have (a view's own value is kept): one pass over its
    headers, where a `setdefault` per header would scan them every time."""
    present = {name.lower() for name in response.headers.keys()}
    for lower, (name, value) in _BY_LOWER_NAME.items():
        if lower not in present:
            response.headers.add(name, value)
    if "cache-control" not in present and not request.path.startswith("/static/"):
        response.headers.add("Cache-Control", "no-store")
    return response


def register(app: Flask) -> None:
    """Install the security headers hook."""
    app.after_request(_add_headers)
