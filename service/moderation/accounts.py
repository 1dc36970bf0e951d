"""People's tokens and review-page sessions: the use cases behind authentication."""

from __future__ import annotations

import secrets

from ..storage import keys, sessions, tokens
from ..storage.tokens import StillValid


class Accounts:
    """Verify tokens, open and close sessions, and keep the shared session-signing key."""

    def __init__(self, client):
        self.client = client
        self._verified = tokens.VerifiedTokens(client)

    def verify(self, token: str) -> dict | None:
        """The person a token belongs to ({name, role, token_id}), or None."""
        return tokens.verify(self.client, token)

    def verify_deferred(self, token: str) -> tuple[dict, StillValid | None] | None:
        """As `verify`, without a round trip for a token this process has verified before.

        The person comes with the StillValid check that Redis must confirm in
        the caller's own script call (a submission's admission takes it), so a
        revoked token is still refused at once; the check is None when the
        token was looked up just now. None for a token that is not valid.
        """
        return self._verified.verify(token)

    def forget(self, check: StillValid) -> None:
        """Drop a token whose StillValid check Redis refused."""
        self._verified.forget(check)

    def list_tokens(self) -> list[dict]:
        """Every token's name, role and creation time (never the hash)."""
        return tokens.list_all(self.client)

    def revoke(self, name: str) -> None:
        """Revoke a person's token, at once on every instance."""
        tokens.revoke(self.client, name)

    def open_session(self, token_id: str) -> str:
        """Record a review-page session; return its id."""
        return sessions.open_session(self.client, token_id)

    def session_is_open(self, session_id: str, token_id: str) -> bool:
        """Whether the session is still recorded for this token, and the token not revoked."""
        return sessions.is_open(self.client, session_id, token_id)

    def close_session(self, session_id: str) -> None:
        """End a session on the server."""
        sessions.close_session(self.client, session_id)

    def signing_key(self) -> str:
        """The session-signing key every instance shares, created in Redis on first use."""
        self.client.set(keys.secret_key(), secrets.token_urlsafe(48), nx=True)
        return self.client.get(keys.secret_key())
