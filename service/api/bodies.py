"""Decode request bodies strictly: JSON objects or HTML form posts, nothing else."""

from __future__ import annotations

import codecs
import json
import re
from urllib.parse import unquote_to_bytes

from flask import request

from ..errors import RequestBodyError, UnsupportedMediaTypeError

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
# Charsets a form may declare: UTF-8 (the default), and the Western European ones of older CMSs.
FORM_CHARSETS = ("utf-8", "iso8859-1", "iso8859-15", "cp1252")


_SURROGATE_ESCAPE_RE = re.compile(r"\\u[dD][89a-fA-F]")


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
        here = f"{pointer}/{str(key).replace('~', '~0').replace('/', '~1')}"  # RFC 6901
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
    # A lone surrogate can only come from an escape such as \ud800: a body without one need not be walked.
    if _SURROGATE_ESCAPE_RE.search(text) and (pointer := _invalid_string_at(document)) is not None:
        raise RequestBodyError(f"The string at {pointer or 'the top level'} contains an unpaired surrogate escape "
                               "(such as \\ud800); send valid Unicode.", pointer=pointer)
    return document


def form_charset(declared: str | None) -> str:
    """The codec of a form's declared charset (UTF-8 when none); 415 for one this service does not read."""
    try:
        codec = codecs.lookup(declared or "utf-8").name
    except LookupError:
        codec = None
    if codec not in FORM_CHARSETS:
        raise UnsupportedMediaTypeError(
            f"The form's charset {declared!r} is not supported; send UTF-8, ISO-8859-1, ISO-8859-15 or windows-1252.",
            accept=["application/x-www-form-urlencoded; charset=UTF-8",
                    "application/x-www-form-urlencoded; charset=ISO-8859-1"])
    return codec


def parse_urlencoded(raw: bytes, declared_charset: str | None) -> dict:
    """Decode an HTML form post in its declared charset, strictly: the first value of each field.

    Percent-escapes and raw bytes are decoded alike; bytes the charset cannot
    decode are a 400 naming the field, never stored as escapes or replacement
    characters.
    """
    charset = form_charset(declared_charset)
    fields: dict[str, str] = {}
    for pair in raw.split(b"&"):
        if not pair:
            continue
        raw_name, _, raw_value = pair.partition(b"=")
        name = _form_text(raw_name, charset, None)
        value = _form_text(raw_value, charset, name)
        fields.setdefault(name, value)
    return fields


def _form_text(part: bytes, charset: str, field: str | None) -> str:
    data = unquote_to_bytes(part.replace(b"+", b" "))
    try:
        return data.decode(charset)
    except UnicodeDecodeError as exc:
        where = f"field {field!r}" if field is not None else "a field name"
        hint = "; declare the form's charset (for example charset=ISO-8859-1)" if charset == "utf-8" else ""
        located = {"field": field, "pointer": f"/{field}"} if field is not None else {}
        raise RequestBodyError(f"The form's {where} is not valid {charset} (byte 0x{data[exc.start]:02X}){hint}.",
                               **located) from None


def read_fields() -> dict:
    """Return the request's fields from a JSON object or a form post; 415 for any other Content-Type."""
    mimetype = request.mimetype
    if mimetype == "application/json" or mimetype.endswith("+json"):
        return parse_json(request.get_data(cache=True))
    if mimetype == "application/x-www-form-urlencoded":
        return parse_urlencoded(request.get_data(cache=True), request.mimetype_params.get("charset"))
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
