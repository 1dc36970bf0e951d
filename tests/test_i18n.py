"""The review page's languages: the deployment's choice, the browser's, and complete catalogs."""

from __future__ import annotations

import subprocess
import sys

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from service.app import create_app

from .conftest import PROJECT_ROOT

CATALOG = PROJECT_ROOT / "service" / "translations" / "fr" / "LC_MESSAGES"


@pytest.mark.parametrize(("setting", "accept", "expected"), [
    ("fr", "en-GB,en;q=0.9", "Se connecter"),  # the deployment's language wins over the browser's
    ("en", "fr-SN,fr;q=0.9", "Sign in"),
    ("auto", "en-GB,en;q=0.9", "Sign in"),
    ("auto", "fr-CI,fr;q=0.9,en;q=0.5", "Se connecter"),
    ("auto", "de-DE", "Se connecter"),  # neither: French, the product's first language
])
def test_the_language_comes_from_the_setting_then_the_browser(config, setting, accept, expected):
    app = create_app({**config, "ui_language": setting})
    page = app.test_client().get("/review", headers={"Accept-Language": accept}).get_data(as_text=True)
    assert expected in page and f'<html lang="{"fr" if expected == "Se connecter" else "en"}">' in page


def test_a_chosen_language_is_kept_in_a_cookie_and_only_local_redirects_are_followed(app, client):
    form = client.get("/review").get_data(as_text=True)
    csrf = form.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    response = client.post("/review/language", data={"csrf_token": csrf, "language": "en",
                                                     "next": "https://evil.example/review"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/review")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("moderation_lang=en") and "SameSite=Strict" in cookie and "HttpOnly" in cookie
    assert '<html lang="en">' in client.get("/review").get_data(as_text=True)
    refused = client.post("/review/language", data={"csrf_token": "forged", "language": "fr"})
    assert "Set-Cookie" not in refused.headers or "moderation_lang" not in refused.headers["Set-Cookie"]


def test_every_string_of_the_page_is_translated_and_the_catalog_compiled(tmp_path):
    template = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "-k", "_l",
                    "-o", str(template), "service"], cwd=PROJECT_ROOT, check=True, capture_output=True)
    with template.open("rb") as f:
        wanted = {_hashable(m.id) for m in read_po(f) if m.id}
    with (CATALOG / "messages.po").open("rb") as f:
        french = {_hashable(m.id): _hashable(m.string) for m in read_po(f) if m.id}
    assert wanted <= set(french), f"not in the French catalog: {sorted(map(str, wanted - set(french)))}"
    untranslated = [k for k in wanted if not (all(french[k]) if isinstance(french[k], tuple) else french[k])]
    assert not untranslated, f"every message (and every plural form) has a French translation: {untranslated}"
    with (CATALOG / "messages.mo").open("rb") as f:  # compiled at install (make install / the Dockerfile)
        compiled = {_hashable(m.id): _hashable(m.string) for m in read_mo(f) if m.id}
    assert {k: french[k] for k in wanted} == {k: compiled.get(k) for k in wanted}, "the .mo is older than the .po"


def _hashable(value):
    """A catalog id or string; plural ones are sequences, made tuples."""
    return tuple(value) if isinstance(value, (list, tuple)) else value
