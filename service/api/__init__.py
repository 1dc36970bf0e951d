"""HTTP layer: one blueprint per resource, errors turned into problem details in `problems`."""

from flask import current_app

from ..runtime import Runtime


def runtime() -> Runtime:
    """Return the current app's shared objects."""
    return current_app.extensions["moderation"]
