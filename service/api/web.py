"""The moderators' web page: sign in with a token, then work the queue and the decided lists."""

from __future__ import annotations

import hmac
import secrets

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from ..moderation.reviewing import is_comment_id
from . import runtime
from .auth import session_user
from .highlight import highlight
from .i18n import COOKIE, COOKIE_DAYS, LANGUAGES, TAB_LABELS, js_messages
from .views import moderator_view

bp = Blueprint("web", __name__)
# The queue, then each decided status split by who decided: the service, or a moderator.
TABS = {"queue": None, "rejected": ("rejected", False), "rejected-by-moderators": ("rejected", True),
        "approved": ("approved", False), "approved-by-moderators": ("approved", True)}
PAGE_SIZE = 50


@bp.app_template_filter("highlight")
def highlight_filter(text, words):
    """Jinja filter: the escaped text with the words that weighed marked."""
    return highlight(text or "", words or [])


def csrf_token() -> str:
    """Return this session's CSRF token, creating it on first use."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def _form_csrf_ok() -> bool:
    sent = request.form.get("csrf_token", "")
    return bool(session.get("csrf")) and hmac.compare_digest(sent.encode(), session["csrf"].encode())


@bp.get("/review")
def review():
    """The review page, or the sign-in form when nobody is signed in."""
    user = session_user()
    if user is None:
        return render_template("login.html", csrf_token=csrf_token(), error=session.pop("login_error", None))
    tab = request.args.get("tab", "queue")
    tab = tab if tab in TABS else "queue"
    reviewing = runtime().reviewing
    after = request.args.get("after")
    if tab == "queue":  # by priority; `after` is the queue's own cursor
        try:
            records, more = reviewing.queue_page(order="priority", cursor=after or None, limit=PAGE_SIZE)
        except ValueError:  # a cursor this page did not give: start from the top
            records, more = reviewing.queue_page(order="priority", cursor=None, limit=PAGE_SIZE)
    else:
        after = after if is_comment_id(after) else None
        status, by_person = TABS[tab]
        records, more = reviewing.by_status(status, by_person=by_person, after_id=after, limit=PAGE_SIZE)
    items = [moderator_view(r) for r in records]
    others = reviewing.others_by_author(records)
    # Whole words, for a person (the API's `features` keep the model's n-grams); the page's texts in one batch.
    words = runtime().weighty_words([item["comment"]["text"] for item in items])
    for item, weighty in zip(items, words, strict=True):
        item["words"] = weighty
        item["others_by_author"] = others.get(item["id"], 0)
    return render_template("review.html", tab=tab, tabs=TAB_LABELS, user=user, items=items, more=more,
                           counts=reviewing.counts(), csrf_token=csrf_token(), js_messages=js_messages())


@bp.post("/review/language")
def language():
    """Keep the moderator's choice of language (a cookie; signed in or not) and go back to the page."""
    chosen = request.form.get("language", "")
    back = request.form.get("next", "")
    # Only a path of this page: never an absolute URL or a scheme-relative one (an open redirect).
    target = back if back.startswith("/review") else url_for("web.review")
    response = redirect(target, 303)
    if _form_csrf_ok() and chosen in LANGUAGES:
        response.set_cookie(COOKIE, chosen, max_age=COOKIE_DAYS * 86400, samesite="Strict", httponly=True,
                            secure=runtime().settings.cookie_secure)
    return response


@bp.post("/review/login")
def login():
    """Check the token and open a session; failures go back to the form with a message."""
    if not _form_csrf_ok():
        session["login_error"] = _("The form expired; please sign in again.")
        return redirect(url_for("web.review"), 303)
    user = runtime().accounts.verify(request.form.get("token", "").strip())
    if user is None or user["role"] == "site":
        session["login_error"] = _("This token is not valid.")
        return redirect(url_for("web.review"), 303)
    session.clear()
    session["user"] = user
    session["sid"] = runtime().accounts.open_session(user["token_id"])
    session["csrf"] = secrets.token_urlsafe(32)
    return redirect(url_for("web.review"), 303)


@bp.post("/review/logout")
def logout():
    """Close the session, on the server too: a copy of the cookie signs nobody in afterwards."""
    if _form_csrf_ok():
        if session.get("sid"):
            runtime().accounts.close_session(session["sid"])
        session.clear()
    return redirect(url_for("web.review"), 303)
