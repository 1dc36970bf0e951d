"""API tokens for people and websites: only a hash is stored, looked up by a public id and compared in constant time.

A token reads `mod_<id>.<secret>`; Redis keeps the id, the sha256 of the
secret, the person's name, role and creation time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from ..clock import iso
from ..errors import ConflictError, NotFoundError
from . import keys

ROLES = ("site", "moderator", "admin")
TOKEN_RE = re.compile(r"^mod_([A-Za-z0-9]{16})\.([A-Za-z0-9_-]{20,100})$")
NAME_RE = re.compile(r"^[\w.@-]{1,64}$")


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create(client, name: str, role: str, *, replace: bool = False) -> str:
    """Create a token for a person and return it; only its hash is kept. One token per name."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if not NAME_RE.match(name):
        raise ValueError("name must be 1-64 letters, digits, '.', '_', '-' or '@'")
    token_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    old_id = client.hget(keys.token_names(), name)
    if old_id and not replace:
        raise ConflictError(f"{name!r} already has a token; revoke it first or use --replace")
    pipe = client.pipeline(transaction=True)
    if old_id:
        pipe.delete(keys.token(old_id))
    pipe.hset(keys.token(token_id), mapping={
        "name": name, "role": role, "sha256": _digest(secret),
        "created_at": iso(),
    })
    pipe.hset(keys.token_names(), name, token_id)
    pipe.execute()
    return f"mod_{token_id}.{secret}"


def verify(client, token: str) -> dict | None:
    """Return {name, role, token_id} for a valid token, None otherwise."""
    match = TOKEN_RE.match(token or "")
    if not match:
        return None
    token_id, secret = match.groups()
    record = client.hgetall(keys.token(token_id))
    if not record or not hmac.compare_digest(record["sha256"], _digest(secret)):
        return None
    return {"name": record["name"], "role": record["role"], "token_id": token_id}


def list_all(client) -> list[dict]:
    """Return every token's name, role and creation time (never the hash)."""
    out = []
    for name, token_id in sorted(client.hgetall(keys.token_names()).items()):
        record = client.hgetall(keys.token(token_id))
        if record:
            out.append({"name": name, "role": record["role"], "created_at": record["created_at"]})
    return out


def revoke(client, name: str) -> None:
    """Delete a person's token; raise NotFoundError if they have none."""
    token_id = client.hget(keys.token_names(), name)
    if not token_id:
        raise NotFoundError(f"{name!r} has no token")
    pipe = client.pipeline(transaction=True)
    pipe.delete(keys.token(token_id))
    pipe.hdel(keys.token_names(), name)
    pipe.execute()
