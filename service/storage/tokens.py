"""API tokens for people and websites: only a hash is stored, looked up by a public id and compared in constant time.

A token reads `mod_<id>.<secret>`; Redis keeps the id, the sha256 of the
secret, the person's name, role and creation time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

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
    parsed = _parse(token)
    return _lookup(client, *parsed) if parsed else None


def _parse(token: str) -> tuple[str, str] | None:
    """A well-formed token's id and the digest of its secret."""
    match = TOKEN_RE.match(token or "")
    if not match:
        return None
    token_id, secret = match.groups()
    return token_id, _digest(secret)


def _lookup(client, token_id: str, digest: str) -> dict | None:
    record = client.hgetall(keys.token(token_id))
    if not record or not hmac.compare_digest(record["sha256"], digest):
        return None
    return {"name": record["name"], "role": record["role"], "token_id": token_id}


@dataclass(frozen=True)
class StillValid:
    """What a token verified earlier must still be in Redis: its hash holds this digest of the secret.

    A script that takes the check (scripts.ADMIT) confirms it in the same round trip as its own work, and
    refuses before doing anything else when the token was revoked or replaced since.
    """

    token_id: str
    sha256: str

    @property
    def key(self) -> str:
        return keys.token(self.token_id)


class VerifiedTokens:
    """The tokens this process has verified, so that the next request with one needs no round trip of its own.

    A token is recognised only by the digest of the very secret that was
    verified (compared in constant time), and the answer comes with the
    StillValid check the caller must have Redis confirm. A token's id never
    changes person or role (`create --replace` makes a new id), so the person
    remembered is the one Redis would give. Bounded: emptied when full.
    """

    def __init__(self, client, size: int = 1000):
        self.client = client
        self.size = size
        self._known: dict[str, tuple[str, dict]] = {}

    def verify(self, token: str) -> tuple[dict, StillValid | None] | None:
        """The person a valid token belongs to, and the check Redis must still pass (None: verified just now).

        None for a token that is malformed, unknown or revoked.
        """
        parsed = _parse(token)
        if not parsed:
            return None
        token_id, digest = parsed
        known = self._known.get(token_id)
        if known and hmac.compare_digest(known[0], digest):
            return known[1], StillValid(token_id, digest)
        user = _lookup(self.client, token_id, digest)
        if user is None:
            return None
        if len(self._known) >= self.size:
            self._known.clear()
        self._known[token_id] = (digest, user)
        return user, None

    def forget(self, check: StillValid) -> None:
        """Drop a token whose check Redis refused: the next request with it is verified anew (and refused)."""
        self._known.pop(check.token_id, None)


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
