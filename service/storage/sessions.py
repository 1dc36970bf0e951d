"""Review-page sessions as server-side records: the signed cookie only names one, and signing out deletes it."""

from __future__ import annotations

import secrets

from . import keys

# A session lasts a working day; each request within it does not extend it.
SESSION_SECONDS = 12 * 3600


def open_session(client, token_id: str, *, seconds: int = SESSION_SECONDS) -> str:
    """Record a new session of a token; return its id (for the signed cookie)."""
    session_id = secrets.token_urlsafe(24)
    client.set(keys.session(session_id), token_id, ex=seconds)
    return session_id


def is_open(client, session_id: str, token_id: str) -> bool:
    """Tell whether the session is still recorded, for this token, and the token is not revoked (one round trip)."""
    pipe = client.pipeline(transaction=False)
    pipe.get(keys.session(session_id))
    pipe.exists(keys.token(token_id))
    recorded, token_exists = pipe.execute()
    return recorded == token_id and bool(token_exists)


def close_session(client, session_id: str) -> None:
    """Delete the session: its cookie, copied or not, no longer signs anyone in."""
    client.delete(keys.session(session_id))
