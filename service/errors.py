"""The service's one exception hierarchy (a leaf: imports nothing from the service).

`service.api.problems` is the only place these become HTTP responses; each
class carries the status and the problem `type` slug it maps to.
"""

from __future__ import annotations


class ModerationError(Exception):
    """Base class of every error the service reports on purpose."""

    status = 500
    slug = "internal-error"
    title = "Internal error"
    headers: dict = {}

    def __init__(self, detail: str = "", **context):
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.context = context


class ConfigError(ModerationError):
    """The settings are invalid; raised at start-up so a bad config fails fast."""

    slug = "configuration-error"
    title = "Invalid configuration"


class ModelError(ModerationError):
    """A model directory is missing, malformed or fails its integrity check."""

    slug = "model-error"
    title = "Model cannot be used"


class RequestBodyError(ModerationError):
    """The request body cannot be parsed at all (not JSON, bad encoding, duplicate keys)."""

    status = 400
    slug = "malformed-body"
    title = "Malformed request body"


class UnsupportedMediaTypeError(ModerationError):
    """The request's Content-Type is not one the endpoint accepts."""

    status = 415
    slug = "unsupported-media-type"
    title = "Unsupported media type"


class ValidationError(ModerationError):
    """One or more fields are invalid; `errors` lists each field and why."""

    status = 422
    slug = "validation-error"
    title = "Invalid fields"

    def __init__(self, errors: list[dict], detail: str = ""):
        fields = ", ".join(sorted({e["field"] for e in errors}))
        super().__init__(detail or f"Invalid or missing field(s): {fields}.")
        self.errors = errors


class NotFoundError(ModerationError):
    """The requested resource does not exist."""

    status = 404
    slug = "not-found"
    title = "Not found"


# The answer to a token that is malformed, unknown, revoked or replaced: which one is not told.
TOKEN_REFUSED = "The token is not valid or has been revoked."


class AuthenticationError(ModerationError):
    """No credentials, or credentials that are not valid."""

    status = 401
    slug = "unauthenticated"
    title = "Authentication required"
    headers = {"WWW-Authenticate": 'Bearer realm="moderation"'}


class PermissionDeniedError(ModerationError):
    """Valid credentials whose role may not do this."""

    status = 403
    slug = "forbidden"
    title = "Forbidden"


class ConflictError(ModerationError):
    """The resource's state forbids the change (already decided, leased by someone else...)."""

    status = 409
    slug = "conflict"
    title = "Conflict"


class RateLimitedError(ModerationError):
    """Too many submissions from one commenter or site, or a second one too soon (flood control)."""

    status = 429
    slug = "rate-limited"
    title = "Too many requests"

    def __init__(self, detail: str, retry_after: int, **context):
        super().__init__(detail, **context)
        self.retry_after = retry_after


class StorageUnavailableError(ModerationError):
    """Redis cannot be reached or did not answer in time."""

    status = 503
    slug = "storage-unavailable"
    title = "Storage unavailable"
    retry_after = 5


class NotReadyError(ModerationError):
    """The instance cannot serve yet (Redis unreachable or no model loaded)."""

    status = 503
    slug = "not-ready"
    title = "Not ready"
    retry_after = 5
