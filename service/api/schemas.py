"""The comment submission schema: the single source for validation and for the OpenAPI document."""

from __future__ import annotations

import datetime as dt
import functools
import re
import sys
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email

from ..errors import ValidationError
from ..netaddr import canonical_ip

# Bidi embedding/override/isolate controls can make a name render as something else.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


# One regex search per field replaces a unicodedata.category call per character. Cc is fixed by Unicode's
# stability policy; Cf (invisible format characters, the bidi controls among them) is read from this Python's
# tables once, on first use (create_app builds it, before gunicorn forks).
_CONTROL_RE = re.compile("[\x00-\x1f\x7f-\x9f]")
_TEXT_CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # tab, newline and return allowed


@functools.cache
def format_characters() -> re.Pattern:
    """A compiled character class of every code point of general category Cf (a scan of 0.3 s, done once)."""
    chars = (chr(c) for c in range(sys.maxunicode + 1))
    return re.compile("[" + "".join(re.escape(c) for c in chars if unicodedata.category(c) == "Cf") + "]")


LANG_RE = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$")
TEXT_MAX_BYTES = 65_525


class FieldError(ValueError):
    """One field's value is invalid; the message says why."""


@dataclass(frozen=True)
class FieldSpec:
    """One submission field: how to validate it and how to document it."""

    name: str
    check: Callable
    max_length: int
    description: str
    required: bool = False
    json_type: tuple = ("string",)
    format: str | None = None


def _string(value, max_length: int, *, integer_ok: bool = False) -> str:
    if integer_ok and isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise FieldError(f"must be a string, not {_json_type_name(value)}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise FieldError("contains an unpaired surrogate; send valid Unicode") from None
    if len(value) > max_length:
        raise FieldError(f"must be at most {max_length} characters, got {len(value)}")
    return value


def _single_line(value, max_length: int, *, integer_ok: bool = False) -> str:
    value = _string(value, max_length, integer_ok=integer_ok).strip()
    if bad := _CONTROL_RE.search(value):
        raise FieldError(f"must not contain control characters (found U+{ord(bad[0]):04X})")
    return value


def _json_type_name(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _refuse_invisible(value: str) -> str:
    """Refuse bidi controls and other invisible format characters (zero-width space, joiners, BOM...).

    They make what a moderator reads differ from what is stored: a name that
    renders as another, a link whose shown address is not its real one.
    """
    bad = found[0] if (found := format_characters().search(value)) else None
    if bad in BIDI_CONTROLS:
        raise FieldError(f"must not contain bidirectional control characters (found U+{ord(bad):04X})")
    if bad is not None:
        raise FieldError(f"must not contain invisible characters (found U+{ord(bad):04X})")
    return value


def check_name(value, spec: FieldSpec) -> str:
    """Trimmed author name without control, bidi or invisible characters."""
    value = _single_line(value, spec.max_length)
    if not value:
        raise FieldError("must not be blank")
    return _refuse_invisible(value)


# Addresses whose syntax check is remembered: a site's regular commenters come back, and the check is a third
# of a submission's validation (about 40 µs). A few MB at most; lookups with DNS are never remembered.
EMAIL_CACHE_SIZE = 10_000


def _email_verdict(value: str, check_dns: bool) -> tuple[str | None, str | None]:
    """The normalised address and None, or None and why it is not valid."""
    try:
        return validate_email(value, check_deliverability=check_dns).normalized, None
    except EmailNotValidError as exc:
        return None, str(exc)


_email_syntax = functools.lru_cache(maxsize=EMAIL_CACHE_SIZE)(functools.partial(_email_verdict, check_dns=False))


def make_email_check(check_dns: bool) -> Callable:
    """Return the e-mail check, with or without DNS deliverability lookups."""
    def check_email(value, spec: FieldSpec) -> str:
        value = _single_line(value, spec.max_length)
        if not value:
            raise FieldError("must not be blank")
        normalized, problem = _email_verdict(value, True) if check_dns else _email_syntax(value)
        if problem is not None:
            raise FieldError(f"is not a valid e-mail address: {problem}")
        return normalized
    return check_email


def check_text(value, spec: FieldSpec) -> str:
    """Non-blank comment text of at most 65,525 UTF-8 bytes; tabs and newlines allowed."""
    value = _string(value, spec.max_length)
    size = len(value.encode("utf-8"))
    if size > TEXT_MAX_BYTES:
        raise FieldError(f"must be at most {TEXT_MAX_BYTES} bytes in UTF-8, got {size}")
    if bad := _TEXT_CONTROL_RE.search(value):
        raise FieldError(f"must not contain control characters other than tab and newline (found U+{ord(bad[0]):04X})")
    value = value.strip()
    if not value:
        raise FieldError("must not be blank")
    return value


def check_http_url(value, spec: FieldSpec) -> str:
    """An absolute http or https URL with a host, without invisible characters."""
    value = _single_line(value, spec.max_length)
    if not value:
        return ""
    if any(c.isspace() for c in value):
        raise FieldError("must not contain spaces")
    _refuse_invisible(value)
    try:
        parts = urlsplit(value)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        raise FieldError("is not a valid URL") from None
    if parts.scheme.lower() not in ("http", "https") or not host:
        raise FieldError("must be an absolute http:// or https:// URL")
    return value


def check_ip(value, spec: FieldSpec) -> str:
    """An IPv4 or IPv6 address, in canonical form (an IPv4 address wrapped in IPv6 is unwrapped)."""
    value = _single_line(value, spec.max_length)
    if not value:
        return ""
    try:
        return canonical_ip(value)
    except ValueError:
        raise FieldError("must be an IPv4 or IPv6 address") from None


def check_lang(value, spec: FieldSpec) -> str:
    """A BCP 47 language tag such as fr or fr-SN."""
    value = _single_line(value, spec.max_length)
    if value and not LANG_RE.match(value):
        raise FieldError("must be a language tag such as 'fr' or 'fr-SN'")
    return value


def check_line(value, spec: FieldSpec) -> str:
    """Any single-line string."""
    return _single_line(value, spec.max_length)


def check_title(value, spec: FieldSpec) -> str:
    """A single line without bidi or invisible characters (it is shown to moderators as a link's text)."""
    return _refuse_invisible(_single_line(value, spec.max_length))


def check_parent_id(value, spec: FieldSpec) -> str:
    """The website's id of the comment replied to: a string or an integer."""
    return _single_line(value, spec.max_length, integer_ok=True)


def check_honeypot(value, spec: FieldSpec) -> str:
    """The hidden form field humans leave empty; any string is accepted (filled means bot)."""
    return _string(value, spec.max_length)


def check_timestamp(value, spec: FieldSpec):
    """When the form was shown: Unix seconds or an ISO 8601 date-time."""
    if isinstance(value, bool):
        raise FieldError("must be Unix seconds or an ISO 8601 date-time")
    if isinstance(value, (int, float)):
        if not 0 <= value <= 32503680000:
            raise FieldError("must be Unix seconds or an ISO 8601 date-time")
        return value
    value = _single_line(value, spec.max_length)
    if not value:
        return ""
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return check_timestamp(float(value), spec)
    try:
        dt.datetime.fromisoformat(value)
    except ValueError:
        raise FieldError("must be Unix seconds or an ISO 8601 date-time") from None
    return value


def submission_fields(*, check_dns: bool = False) -> tuple[FieldSpec, ...]:
    """Return the submission fields in documentation order."""
    return (
        FieldSpec("name", check_name, 245, "Author name shown with the comment.", required=True),
        FieldSpec("email", make_email_check(check_dns), 254, "Author e-mail; normalised.", required=True,
                  format="email"),
        FieldSpec("text", check_text, TEXT_MAX_BYTES, "The comment, plain text (HTML is treated as text).",
                  required=True),
        FieldSpec("url", check_http_url, 200, "Author website, http(s) only.", format="uri"),
        FieldSpec("article_url", check_http_url, 2048, "Page the comment was posted on.", format="uri"),
        FieldSpec("article_title", check_title, 300, "Title of that page, shown to moderators."),
        FieldSpec("parent_id", check_parent_id, 128, "The website's id of the comment replied to.",
                  json_type=("string", "integer")),
        FieldSpec("ip", check_ip, 45, "Commenter's IP address as seen by the website.", format="ip"),
        FieldSpec("user_agent", check_line, 512, "Commenter's browser user agent."),
        FieldSpec("referrer", check_http_url, 2048, "HTTP referrer of the comment form.", format="uri"),
        FieldSpec("lang", check_lang, 35, "Language tag of the page, e.g. fr or fr-SN."),
        FieldSpec("honeypot", check_honeypot, 1000, "A hidden form field; humans leave it empty, bots fill it."),
        FieldSpec("form_rendered_at", check_timestamp, 40,
                  "When the comment form was shown (Unix seconds or ISO 8601); too fast means bot.",
                  json_type=("string", "number")),
    )


def validate_submission(data, fields: tuple[FieldSpec, ...]) -> dict:
    """Validate a decoded body; return the cleaned fields or raise ValidationError listing every bad field.

    Unknown fields are ignored; empty optional fields count as absent.
    """
    if not isinstance(data, dict):
        raise ValidationError([{"field": "", "message": f"body must be a JSON object, not {_json_type_name(data)}"}],
                              "The request body must be an object with the comment's fields.")
    cleaned, errors = {}, []
    for spec in fields:
        value = data.get(spec.name)
        if value is None or (isinstance(value, str) and not value.strip() and not spec.required):
            if spec.required:
                errors.append({"field": spec.name, "message": "is required"})
            continue
        try:
            result = spec.check(value, spec)
        except FieldError as exc:
            errors.append({"field": spec.name, "message": str(exc)})
            continue
        if result != "":
            cleaned[spec.name] = result
    if errors:
        raise ValidationError(errors)
    return cleaned


def submission_json_schema(fields: tuple[FieldSpec, ...]) -> dict:
    """Return the JSON Schema of a submission, derived from the same field specs."""
    properties = {}
    for spec in fields:
        prop = {"description": spec.description, "maxLength": spec.max_length}
        prop["type"] = list(spec.json_type) if len(spec.json_type) > 1 else spec.json_type[0]
        if spec.format:
            prop["format"] = spec.format
        properties[spec.name] = prop
    return {
        "type": "object",
        "required": [s.name for s in fields if s.required],
        "properties": properties,
        "additionalProperties": True,
    }
