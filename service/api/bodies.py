"""Decode request bodies strictly: JSON objects or HTML form posts, nothing else."""

from __future__ import annotations

import json

from flask import request

from ..errors import RequestBodyError, UnsupportedMediaTypeError

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _reject_duplicates(pairs):
    obj = {}
    for key, value in pairs:
        if key in obj:
            raise RequestBodyError(f"The JSON object has the key {key!r} more than once.", pointer=f"/{key}")
        obj[key] = value
    return obj


def _reject_constant(name):
    raise RequestBodyError(f"{name} is not valid JSON.")


def _is_valid_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate such as "\ud800", which JSON escapes can carry
        return False
    return True


def _invalid_string_at(value, pointer: str = "") -> str | None:
    """The JSON pointer of the first key or string that is not valid Unicode, or None."""
    if isinstance(value, str):
        return None if _is_valid_unicode(value) else pointer
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in children:
        here = f"{pointer}/{key}"
        if isinstance(key, str) and not _is_valid_unicode(key):
            return here
        if (found := _invalid_string_at(child, here)) is not None:
            return found
    return None


def parse_json(raw: bytes):
    """Parse a JSON document strictly: UTF-8, no duplicate keys, no NaN/Infinity, bounded nesting."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RequestBodyError(f"The body is not valid UTF-8 (byte {exc.start}).") from None
    if not text.strip():
        raise RequestBodyError("The body is empty; send a JSON object.")
    try:
        document = json.loads(text, object_pairs_hook=_reject_duplicates, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise RequestBodyError(f"The body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}.") from None
    except RecursionError:
        raise RequestBodyError("The JSON document is nested too deeply.") from None
    except ValueError as exc:  # e.g. an integer with more digits than Python accepts
        raise RequestBodyError(f"The body is not acceptable JSON: {exc}.") from None
    if (pointer := _invalid_string_at(document)) is not None:
        raise RequestBodyError(f"The string at {pointer or 'the top level'} contains an unpaired surrogate escape "
                               "(such as \\ud800); send valid Unicode.", pointer=pointer)
    return document


def read_fields() -> dict:
    """Return the request's fields from a JSON object or a form post; 415 for any other Content-Type."""
    mimetype = request.mimetype
    if mimetype == "application/json" or mimetype.endswith("+json"):
        return parse_json(request.get_data(cache=True))
    if mimetype in FORM_TYPES:
        return request.form.to_dict(flat=True)
    raise UnsupportedMediaTypeError(
        f"Content-Type {mimetype or '(none)'!r} is not supported; send application/json, "
        "application/x-www-form-urlencoded or multipart/form-data.",
        accept=["application/json", "application/x-www-form-urlencoded", "multipart/form-data"],
    )


def read_json_object() -> dict:
    """Return the request's JSON body, which must be an object; 415 unless the body is JSON."""
    mimetype = request.mimetype
    if not (mimetype == "application/json" or mimetype.endswith("+json")):
        raise UnsupportedMediaTypeError(f"Content-Type {mimetype or '(none)'!r} is not supported; send application/json.",
                                        accept=["application/json"])
    return parse_json(request.get_data(cache=True))
