"""Which IP address is the commenter's, and which sender may say so."""

from __future__ import annotations

from flask import request

from ..netaddr import canonical_ip


def commenter_ip(declared: str | None, trusted_proxies: int, *, site_authenticated: bool) -> str | None:
    """The commenter's IP, from a source the sender cannot choose unless it is a trusted website.

    - A request carrying a site key is the website's server speaking for its
      commenter: its `ip` field is used, and without one the address is
      unknown (the connection's peer is the website, not a commenter).
    - Any other request is the commenter's own (or anyone's): its `ip` field
      is ignored, since it could name any address, and the address is the
      TCP peer, or with N trusted proxies in front of the service the N-th
      address from the right in X-Forwarded-For (anything further left could
      be forged).
    """
    if site_authenticated:
        return declared or None
    if trusted_proxies <= 0:
        return _canonical(request.remote_addr)
    hops = [h.strip() for h in ",".join(request.headers.getlist("X-Forwarded-For")).split(",") if h.strip()]
    return _canonical(hops[-trusted_proxies]) if len(hops) >= trusted_proxies else None


def _canonical(address: str | None) -> str | None:
    try:
        return canonical_ip(address) if address else None
    except ValueError:
        return None
