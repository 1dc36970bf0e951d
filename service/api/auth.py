"""Who is calling: a Bearer token (API) or a signed session cookie with a CSRF header (the review page)."""

from __future__ import annotations

import functools
import hmac

from flask import g, request, session
from flask.sessions import SecureCookieSessionInterface

from ..errors import TOKEN_REFUSED, AuthenticationError, PermissionDeniedError
from ..moderation.accounts import StillValid
from . import runtime

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
CSRF_HEADER = "X-CSRF-Token"
ROLE_RANK = {"site": 0, "moderator": 1, "admin": 2}


class SharedKeySessionInterface(SecureCookieSessionInterface):
    """Signed cookie sessions whose key comes from the settings or, lazily, from Redis.

    Requests without a session cookie never need the key, so /healthz and the
    website's submissions do not touch Redis for it.
    """

    def __init__(self, secret_key: str | None):
        self.secret_key = secret_key

    def get_signing_serializer(self, app):
        if not app.secret_key:
            app.secret_key = self.secret_key or runtime().accounts.signing_key()
        return super().get_signing_serializer(app)

    def open_session(self, app, request):
        if self.get_cookie_name(app) not in request.cookies:
            return self.session_class()
        return super().open_session(app, request)


def _bearer_token() -> str:
    scheme, _, token = request.headers["Authorization"].partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError("Send the token as 'Authorization: Bearer TOKEN'.")
    return token.strip()


def _bearer_user() -> dict:
    user = runtime().accounts.verify(_bearer_token())
    if user is None:
        raise AuthenticationError(TOKEN_REFUSED)
    return user


def session_user() -> dict | None:
    """Return the signed-in user of a valid session (checking CSRF on unsafe methods), else None."""
    user = session.get("user")
    if not user:
        return None
    if not runtime().accounts.session_is_open(session.get("sid", ""), user["token_id"]):
        session.clear()
        return None
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not hmac.compare_digest(sent.encode(), session.get("csrf", "").encode()):
            raise PermissionDeniedError(f"Missing or wrong {CSRF_HEADER} header for this session.")
    return user


def authenticate() -> dict:
    """Return the caller ({name, role, token_id}) or raise 401."""
    if "Authorization" in request.headers:
        return _bearer_user()
    user = session_user()
    if user is None:
        raise AuthenticationError("Sign in, or send 'Authorization: Bearer TOKEN'.")
    return user


def require(role: str):
    """Decorate a view so that only callers with at least this role reach it; the caller is in g.user."""
    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            user = authenticate()
            if ROLE_RANK.get(user["role"], 0) < ROLE_RANK[role]:
                raise PermissionDeniedError(f"This needs the {role} role; {user['name']} is a {user['role']}.")
            g.user = user
            return view(*args, **kwargs)
        return wrapper
    return decorator


def optional_user() -> dict | None:
    """Return the caller if valid credentials were sent, None if none were; bad credentials still raise 401."""
    if "Authorization" in request.headers:
        return _bearer_user()
    return session.get("user") and session_user()


def optional_user_deferred() -> tuple[dict | None, StillValid | None]:
    """As `optional_user`, but a token this process verified before costs no round trip here.

    It comes with the StillValid check that the request's own script call
    must confirm (the submission's admission does: one round trip for the
    whole submission). The check is None when there is nothing left to confirm.
    """
    if "Authorization" in request.headers:
        verified = runtime().accounts.verify_deferred(_bearer_token())
        if verified is None:
            raise AuthenticationError(TOKEN_REFUSED)
        return verified
    return session_user(), None
