"""Which IP address is the commenter's: never the website's own server."""

from __future__ import annotations

import ipaddress

from flask import request


def commenter_ip(declared: str | None, trusted_proxies: int) -> str | None:
    """The commenter's IP: the `ip` field the website sent, else X-Forwarded-For through trusted proxies, else None.

    With N trusted proxies in front of the service, the address the N-th
    proxy saw is the N-th from the right in X-Forwarded-For; anything further
    left could be forged by the client. The TCP peer is never used: when the
    website's server posts the comment, that is the website, not a commenter.
    """
    if declared:
        return declared
    if trusted_proxies <= 0:
        return None
    hops = [h.strip() for h in ",".join(request.headers.getlist("X-Forwarded-For")).split(",") if h.strip()]
    if len(hops) < trusted_proxies:
        return None
    try:
        return str(ipaddress.ip_address(hops[-trusted_proxies]))
    except ValueError:
        return None
