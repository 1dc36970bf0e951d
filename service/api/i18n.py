"""The review page in French or English (Flask-Babel, gettext catalogs in service/translations).

The language is the moderator's own choice (kept in a cookie), else the
deployment's MODERATION_UI_LANGUAGE (French by default), else, when that is
`auto`, the browser's Accept-Language. Dates are shown in the moderator's
language and in MODERATION_UI_TIMEZONE. API problem details stay English.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from flask import Flask, request
from flask_babel import Babel, format_datetime, format_number, format_time, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from model_training.features import (
    EMAIL_TOKEN,
    MESSENGER_TOKEN,
    MIXED_SCRIPT_TOKEN,
    PHONE_TOKEN,
    SOURCE_TOKEN,
    URL_TOKEN,
)

from . import runtime

LANGUAGES = {"fr": "Français", "en": "English"}
DEFAULT_LANGUAGE = "fr"
COOKIE = "moderation_lang"
COOKIE_DAYS = 365
TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"

# What each reason code means, for a person: the chip's text (its English detail is the chip's title).
REASONS = {
    "model_score_high": _l("The model is confident this is spam"),
    "model_score_low": _l("The model is confident this is legitimate"),
    "model_score_uncertain": _l("The model is unsure"),
    "model_part_score_high": _l("Reads as legitimate, but a later sentence looks like spam"),
    "unfamiliar_language": _l("A language the model has not learnt"),
    "unfamiliar_text": _l("Words the model mostly does not know"),
    "link_only_evidence": _l("Only its link looks like spam"),
    "honeypot": _l("Filled in the hidden field only bots see"),
    "blocked_word": _l("Contains a blocked word"),
    "blocked_email": _l("Blocked e-mail address"),
    "blocked_url": _l("Links to a blocked site"),
    "blocked_ip": _l("Sent from a blocked address"),
    "repeated_text": _l("The same text, sent many times"),
    "duplicate_text": _l("The same text was sent before"),
    "near_duplicate_text": _l("An almost identical text was sent before"),
    "allow_listed": _l("The author is on the allow list"),
    "many_links": _l("Several links"),
    "submitted_too_fast": _l("Sent too soon after the form was shown"),
    "disposable_email": _l("Throw-away e-mail address"),
}
# The model's link and contact signals, as a person would name them.
SIGNALS = {
    URL_TOKEN: _l("a link"),
    SOURCE_TOKEN: _l("a link to a news source"),
    MESSENGER_TOKEN: _l("a WhatsApp or Telegram link"),
    EMAIL_TOKEN: _l("an e-mail address"),
    PHONE_TOKEN: _l("a phone number"),
    MIXED_SCRIPT_TOKEN: _l("lookalike letters"),
}
ROLES = {"moderator": _l("moderator"), "admin": _l("admin")}
TAB_LABELS = {"queue": _l("To review"), "rejected": _l("Rejected automatically"),
              "rejected-by-moderators": _l("Rejected by a moderator"), "approved": _l("Approved automatically"),
              "approved-by-moderators": _l("Approved by a moderator")}
COUNTS = _l("{free} free · {leased} being reviewed")
STATUSES = {"pending": _l("to review"), "approved": _l("approved"), "rejected": _l("rejected")}


def select_locale() -> str:
    """The moderator's choice, else the deployment's language, else (for `auto`) the browser's."""
    chosen = request.cookies.get(COOKIE)
    if chosen in LANGUAGES:
        return chosen
    configured = runtime().settings.ui_language
    if configured in LANGUAGES:
        return configured
    return request.accept_languages.best_match(list(LANGUAGES)) or DEFAULT_LANGUAGE


def select_timezone() -> str:
    return runtime().settings.ui_timezone


def reason_text(reason: dict) -> str:
    """A reason in the moderator's language (its code when the catalog has no entry for it)."""
    text = REASONS.get(reason.get("code"))
    return str(text) if text is not None else reason.get("code", "")


def word_label(word: dict) -> str:
    """A weighty word as shown on a chip: the word, or the name of a link or contact signal."""
    signal = SIGNALS.get(word["word"])
    return str(signal) if signal is not None else word["word"]


def counts_text(counts: dict) -> str:
    """The queue's counters line; the page's script writes the same message when they change."""
    return str(COUNTS).format(free=format_number(counts["available"]), leased=format_number(counts["leased"]))


def role_text(role: str) -> str:
    return str(ROLES.get(role, role))


def status_text(status: str) -> str:
    return str(STATUSES.get(status, status))


def when(iso_time: str | None, *, time_only: bool = False) -> str:
    """An ISO 8601 time in the moderator's language and time zone ("" when absent or unreadable)."""
    try:
        moment = dt.datetime.fromisoformat(iso_time) if iso_time else None
    except ValueError:
        moment = None
    if moment is None:
        return ""
    return format_time(moment, "short") if time_only else format_datetime(moment, "short")


def init_app(app: Flask) -> None:
    """Set up Flask-Babel and the template helpers."""
    Babel(app, locale_selector=select_locale, timezone_selector=select_timezone,
          default_translation_directories=str(TRANSLATIONS))
    app.jinja_env.globals.update(reason_text=reason_text, status_text=status_text, word_label=word_label,
                                 role_text=role_text, counts_text=counts_text, when=when, LANGUAGES=LANGUAGES)
    app.context_processor(lambda: {"current_language": str(get_locale() or DEFAULT_LANGUAGE)})


def js_messages() -> dict:
    """The review page script's messages in the moderator's language ({name}, {n} are filled in by the script)."""
    return {
        "locked": _("Another moderator is reviewing this comment; j and k skip it."),
        "approved": _("Approved the comment by {name}"),
        "rejected": _("Rejected the comment by {name}"),
        "select_first": _("Select comments first (x or the checkboxes)."),
        "done": _("{n} done"),
        "refused": _("{n} refused (taken or already decided)"),
        "claimed": _("Claimed {n} comments"),
        "counts": str(COUNTS),
        "undo_reject": _("Undo: reject instead"),
        "undo_approve": _("Undo: approve instead"),
        "changed": _("Changed: {status}"),
        "statuses": {code: str(text) for code, text in STATUSES.items()},
    }
