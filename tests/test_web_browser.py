"""The review page in real headless Chromium (Debian's package, driven by Playwright) against the real service."""

from __future__ import annotations

import json
import re
import shutil
import threading
import urllib.request

import pytest
from playwright.sync_api import expect, sync_playwright
from werkzeug.serving import make_server

from model_training.features import fold_accents
from service.app import create_app
from service.storage import tokens
from service.storage.queue import ReviewQueue

from .conftest import PROJECT_ROOT, free_port
from .test_api_review import make_comment

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
PAYLOADS = [
    '<script>window.__xss = "script"</script>',
    '<img src=x onerror="window.__xss = \'img\'">',
    '<a href="javascript:window.__xss=\'link\'">click</a>',
    '"><svg onload="window.__xss=\'svg\'">',
    "' onmouseover='window.__xss=1' x='",
    "{{ 7*7 }} ${7*7} </p></li></ol><b>bold</b>",
]


@pytest.fixture(scope="module")
def live_server(config):
    """The real app served over HTTP on localhost from a background thread."""
    app = create_app(config)
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://localhost:{port}"
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium, headless."""
    executable = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    """A page of a moderator who chose English (the deployment's default is French: tests below)."""
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    context.add_cookies([{"name": "moderation_lang", "value": "en", "url": live_server}])
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    yield page
    context.close()


def sign_in(page, live_server, token: str) -> None:
    page.goto(f"{live_server}/review")
    page.fill("#token", token)
    page.click("button[type=submit]")
    expect(page.locator("header.top")).to_contain_text(re.compile(r"awa \((moderator|modérateur)\)"))
    page.wait_for_selector("body[data-ready]")


@pytest.fixture
def token(redis_client) -> str:
    return tokens.create(redis_client, "awa", "moderator")


def status_of(redis_client, comment_id: str) -> str:
    return redis_client.hget(f"mod:comment:{comment_id}", "status")


def test_sign_in_sets_a_strict_session_cookie_and_a_bad_token_is_refused(page, live_server, token):
    page.goto(f"{live_server}/review")
    page.fill("#token", "mod_0123456789abcdef.wrongwrongwrongwrongwrong")
    page.click("button[type=submit]")
    expect(page.locator(".flash.error")).to_have_text("This token is not valid.")
    sign_in(page, live_server, token)
    cookie = next(c for c in page.context.cookies() if c["name"] == "moderation_session")
    assert (cookie["httpOnly"], cookie["secure"], cookie["sameSite"]) == (True, True, "Strict")
    page.click("text=Sign out")
    expect(page.locator("#token")).to_be_visible()


def test_approve_and_reject_with_the_keyboard(page, live_server, token, redis_client):
    first = make_comment(redis_client, 0.5, ms=1000)
    second = make_comment(redis_client, 0.4, ms=2000)
    sign_in(page, live_server, token)
    expect(page.locator(".comment")).to_have_count(2)
    page.keyboard.press("a")
    expect(page.locator(f'.comment[data-id="{first}"]')).to_have_count(0)  # decided: it leaves the list
    expect(page.locator(f'.comment[data-id="{second}"]')).to_have_class(re.compile(r"\bcurrent\b"))
    page.keyboard.press("r")
    expect(page.locator(".comment")).to_have_count(0)
    assert (status_of(redis_client, first), status_of(redis_client, second)) == ("approved", "rejected")
    assert redis_client.hget(f"mod:comment:{first}", "decided_by") == "awa"


def test_help_opens_with_question_mark(page, live_server, token, redis_client):
    make_comment(redis_client, 0.5)
    sign_in(page, live_server, token)
    expect(page.locator("#help")).to_be_hidden()
    page.keyboard.press("?")
    expect(page.locator("#help")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#help")).to_be_hidden()


def test_bulk_reject_of_selected_comments(page, live_server, token, redis_client):
    ids = [make_comment(redis_client, s, ms=1000 + i) for i, s in enumerate((0.5, 0.45, 0.3))]
    sign_in(page, live_server, token)
    page.keyboard.press("x")
    page.keyboard.press("j")
    page.keyboard.press("x")
    page.click("text=Reject selected")
    expect(page.locator("#flash")).to_have_text("2 done")
    expect(page.locator(".comment")).to_have_count(1)
    expect(page.locator('[data-count="pending"]')).to_have_text("1")
    assert [status_of(redis_client, i) for i in ids] == ["rejected", "rejected", "pending"]


def test_a_comment_leased_to_someone_else_cannot_be_decided(page, live_server, token, redis_client):
    comment_id = make_comment(redis_client, 0.5)
    ReviewQueue(redis_client).claim("binta", 1)
    sign_in(page, live_server, token)
    expect(page.locator(".comment .lease")).to_contain_text("Being reviewed by binta")
    page.keyboard.press("a")
    assert status_of(redis_client, comment_id) == "pending"


def test_claim_button_leases_comments_to_me(page, live_server, token, redis_client):
    make_comment(redis_client, 0.5)
    sign_in(page, live_server, token)
    page.click("text=Claim next 10")
    expect(page.locator(".comment .lease")).to_contain_text("Yours until")


def test_override_from_the_auto_rejected_tab(page, live_server, token, redis_client):
    comment_id = make_comment(redis_client, 0.97, status="rejected")
    sign_in(page, live_server, token)
    page.click("nav.tabs >> text=Rejected automatically")
    expect(page.locator(".comment")).to_have_count(1)
    page.wait_for_selector("body[data-ready]")
    page.keyboard.press("a")
    expect(page.locator(".toast")).to_contain_text("Approved the comment by")
    assert status_of(redis_client, comment_id) == "approved"
    assert redis_client.zrange("mod:status:approved", 0, -1) == [comment_id]


def test_hostile_comments_show_as_text_and_execute_nothing(page, live_server, token, client, redis_client):
    for i, payload in enumerate(PAYLOADS):
        response = client.post("/v1/comments", json={"name": payload[:200], "email": f"x{i}@example.com",
                                                      "text": f"{payload} check out http://x.example.com",
                                                      "article_url": "https://journal.example.sn/a?x=\"><script>"})
        assert response.status_code == 201
    sign_in(page, live_server, token)
    shown_texts = []
    for tab in ("queue", "rejected", "rejected-by-moderators", "approved", "approved-by-moderators"):
        response = page.goto(f"{live_server}/review?tab={tab}")
        assert "script-src 'self'" in response.headers["content-security-policy"]
        for comment in page.locator(".comment").all():
            comment.hover()
            comment.locator(".text").hover()
        shown_texts += page.locator(".comment .text").all_inner_texts()
        assert page.locator(".comment script, .comment img, .comment svg, .comment b").count() == 0
        assert page.evaluate("window.__xss") is None
    assert page.dialogs == []
    for payload in PAYLOADS:
        assert any(text.startswith(payload) for text in shown_texts), f"{payload!r} is shown literally"


def test_usable_on_a_phone_sized_screen(browser, live_server, token, redis_client, tmp_path):
    make_comment(redis_client, 0.5)
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True)
    page = context.new_page()
    sign_in(page, live_server, token)
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    expect(page.locator(".comment button[data-action=approve]")).to_be_visible()
    page.screenshot(path=tmp_path / "phone.png")
    assert (tmp_path / "phone.png").read_bytes()[:4] == b"\x89PNG"
    context.close()


@pytest.mark.parametrize("how", ["click", "tab"])
def test_keys_act_on_the_card_clicked_or_tabbed_to_never_on_another(page, live_server, token, redis_client, how):
    for score in (0.5, 0.45, 0.4):
        make_comment(redis_client, score)
    sign_in(page, live_server, token)
    cards = page.locator(".comment")
    expect(cards).to_have_count(3)
    ids = [cards.nth(i).get_attribute("data-id") for i in range(3)]
    if how == "click":
        cards.nth(1).locator(".text").click()
    else:
        cards.nth(1).locator(".select").focus()  # what Tab onto its checkbox does
    expect(cards.nth(1)).to_have_class(re.compile(r"\bcurrent\b"))
    page.keyboard.press("r")
    expect(page.locator(f'.comment[data-id="{ids[1]}"]')).to_have_count(0)
    assert [status_of(redis_client, i) for i in ids] == ["pending", "rejected", "pending"]


def test_cards_leased_to_others_are_skipped_and_a_key_on_one_says_why(page, live_server, token, redis_client):
    for score in (0.5, 0.45, 0.4):
        make_comment(redis_client, score)
    ReviewQueue(redis_client).claim("binta", 1)  # the most useful one, first in the list
    sign_in(page, live_server, token)
    cards = page.locator(".comment")
    expect(cards.nth(0)).to_have_class(re.compile(r"\blocked\b"))
    expect(cards.nth(1)).to_have_class(re.compile(r"\bcurrent\b"))  # the first card free to review
    page.keyboard.press("k")
    expect(cards.nth(1)).to_have_class(re.compile(r"\bcurrent\b"))  # k does not land on binta's card
    page.keyboard.press("j")
    expect(cards.nth(2)).to_have_class(re.compile(r"\bcurrent\b"))
    locked_id = cards.nth(0).get_attribute("data-id")
    cards.nth(0).locator(".text").click()
    page.keyboard.press("a")
    expect(page.locator("#flash")).to_have_text("Another moderator is reviewing this comment; j and k skip it.")
    assert status_of(redis_client, locked_id) == "pending"


def test_french_by_default_then_english_by_choice_kept_across_sign_ins(browser, live_server, token, redis_client):
    import time
    body = json.dumps({"name": "Aminata", "email": "a@exemple.sn", "text": "Merci pour cet article",
                       "form_rendered_at": time.time()}).encode()  # sent too fast: held for review with a reason
    urllib.request.urlopen(urllib.request.Request(f"{live_server}/v1/comments", data=body,
                                                  headers={"Content-Type": "application/json"}), timeout=10)
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    sign_in(page, live_server, token)
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator("nav.tabs")).to_contain_text("À examiner")
    expect(page.locator(".comment .reasons")).to_contain_text("Envoyé trop vite après l'affichage du formulaire")
    expect(page.locator(".comment .state")).to_have_text("à examiner")
    assert re.fullmatch(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}", page.locator("time.posted").inner_text())  # 02/12/2026 08:30
    page.keyboard.press("a")
    expect(page.locator(".toast")).to_contain_text("Commentaire de Aminata approuvé")
    expect(page.locator(".toast .undo")).to_have_text("Annuler : rejeter plutôt")

    page.click("button[lang=en]")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("nav.tabs")).to_contain_text("To review")
    page.click("nav.tabs >> text=Approved by a moderator")
    expect(page.locator(".comment .reasons")).to_contain_text("Sent too soon after the form was shown")
    assert re.fullmatch(r"\d{1,2}/\d{1,2}/\d{2}, \d{1,2}:\d{2}\s[AP]M", page.locator("time.posted").inner_text())
    page.click("text=Sign out")
    expect(page.locator("h1")).to_have_text("Comment moderation")  # the choice outlives the session
    sign_in(page, live_server, token)
    expect(page.locator("html")).to_have_attribute("lang", "en")
    context.close()


AXE = PROJECT_ROOT / ".venv" / "axe" / "node_modules" / "axe-core" / "axe.min.js"  # installed by `make test`


@pytest.mark.parametrize("language", ["fr", "en"])
def test_every_tab_passes_axe_core_without_serious_violations(browser, live_server, token, redis_client, language):
    make_comment(redis_client, 0.5)
    make_comment(redis_client, 0.45)
    ReviewQueue(redis_client).claim("binta", 1)  # a card leased to someone else: greyed, still readable
    make_comment(redis_client, 0.97, status="rejected")
    make_comment(redis_client, 0.02, status="approved")
    # axe-core is injected as a script: the page's own Content-Security-Policy would refuse it.
    context = browser.new_context(viewport={"width": 1100, "height": 900}, bypass_csp=True)
    context.add_cookies([{"name": "moderation_lang", "value": language, "url": live_server}])
    page = context.new_page()
    page.goto(f"{live_server}/review")
    results = {"sign-in": _axe(page)}
    sign_in(page, live_server, token)
    for tab in ("queue", "rejected", "rejected-by-moderators", "approved", "approved-by-moderators"):
        page.goto(f"{live_server}/review?tab={tab}")
        page.wait_for_selector("body[data-ready]")
        results[tab] = _axe(page)
    page.keyboard.press("?")  # the shortcuts dialog
    results["help"] = _axe(page)
    context.close()
    serious = {where: [(v["id"], v["help"], len(v["nodes"])) for v in found if v["impact"] in ("serious", "critical")]
               for where, found in results.items()}
    assert serious == {where: [] for where in results}, serious


def _axe(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    return page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")


def test_a_decision_updates_the_counters_and_can_be_undone_as_a_recorded_revision(page, live_server, token,
                                                                                  redis_client):
    ids = [make_comment(redis_client, s, ms=1000 + i) for i, s in enumerate((0.5, 0.45, 0.4))]
    ReviewQueue(redis_client).claim("binta", 1)  # the first: leased to someone else
    sign_in(page, live_server, token)
    expect(page.locator('[data-count="pending"]')).to_have_text("3")
    expect(page.locator("#queue-counts")).to_have_text("2 free · 1 being reviewed")
    page.keyboard.press("a")  # on the second card, the first free one
    toast = page.locator(".toast")
    expect(toast).to_contain_text("Approved the comment by Lecteur")
    expect(page.locator('[data-count="pending"]')).to_have_text("2")  # without a reload
    expect(page.locator("#queue-counts")).to_have_text("1 free · 1 being reviewed")
    expect(page.locator(f'.comment[data-id="{ids[2]}"]')).to_have_class(re.compile(r"\bcurrent\b"))
    assert status_of(redis_client, ids[1]) == "approved"
    toast.locator(".undo").click()
    expect(toast).to_contain_text("Changed: rejected")
    assert status_of(redis_client, ids[1]) == "rejected"
    history = [json.loads(e) for e in redis_client.lrange(f"mod:comment:{ids[1]}:history", 0, -1)]
    assert [(e["event"], e.get("by"), e.get("status")) for e in history[-2:]] == [
        ("decided", "awa", "approved"), ("overridden", "awa", "rejected")]
    labels = [json.loads(f["label"]) for _, f in redis_client.xrange("mod:labels:stream")]
    assert [(label["comment_id"], label["label"]) for label in labels] == [(ids[1], 0), (ids[1], 1)]
    expect(page.locator('[data-count="pending"]')).to_have_text("2")


def test_decided_tabs_say_who_decided_and_when_and_page_through_older_comments(page, live_server, token,
                                                                               redis_client):
    auto = [make_comment(redis_client, 0.97, status="rejected", ms=1_000_000 + i) for i in range(52)]
    by_hand = make_comment(redis_client, 0.6)
    assert ReviewQueue(redis_client).decide(by_hand, "binta", "rejected").ok
    sign_in(page, live_server, token)
    page.click("nav.tabs >> text=Rejected by a moderator")
    expect(page.locator(".comment")).to_have_count(1)
    expect(page.locator(".comment .decided")).to_contain_text(re.compile(r"Rejected by binta on \d+/\d+/\d+"))
    page.click("nav.tabs >> text=Rejected automatically")
    expect(page.locator(".comment")).to_have_count(50)  # a page; the rest behind a link
    expect(page.locator(".comment .decided").first).to_contain_text("Rejected automatically on")
    first_page = set(page.locator(".comment").evaluate_all("cards => cards.map(c => c.dataset.id)"))
    page.click("text=Older comments")
    expect(page.locator(".comment")).to_have_count(2)
    second_page = set(page.locator(".comment").evaluate_all("cards => cards.map(c => c.dataset.id)"))
    assert first_page | second_page == set(auto) and not first_page & second_page
    expect(page.locator("text=Older comments")).to_have_count(0)


def test_a_card_shows_the_article_title_the_author_s_other_comments_and_whole_words(page, live_server, token,
                                                                                   redis_client):
    site = {"Content-Type": "application/json"}
    texts = ["Professeur Kofi, grand voyant médium, résout tous vos problèmes de couple et de travail.",
             "Professeur Kofi retour de l'être aimé en 7 jours, appelez vite, résultats garantis."]
    for n, text in enumerate(texts):
        body = json.dumps({"name": "Kofi", "email": "kofi@exemple.sn", "text": text, "form_rendered_at": 0,
                           "article_url": "https://journal.example.sn/societe/mariage",
                           "article_title": "Mariages : la flambée des prix", "ip": f"196.207.1.{n + 1}"})
        with urllib.request.urlopen(urllib.request.Request(f"{live_server}/v1/comments", data=body.encode(),
                                                           headers=site), timeout=10) as response:
            assert json.loads(response.read())["status"] == "pending"
    sign_in(page, live_server, token)
    cards = page.locator(".comment")
    expect(cards).to_have_count(2)
    expect(cards.first.locator(".article a")).to_have_text("Mariages : la flambée des prix")
    expect(cards.first.locator(".article a")).to_have_attribute("href", "https://journal.example.sn/societe/mariage")
    expect(cards.first.locator(".others")).to_have_text("1 other comment from this author in the last 7 days")
    for i in range(2):
        text = next(t for t in texts if t[:40] in cards.nth(i).locator(".text").inner_text())
        chips = cards.nth(i).locator(".reasons .feature").all_inner_texts()
        words = set(re.findall(r"\w+", fold_accents(text.casefold())))
        assert chips and all(chip.rsplit(" ", 1)[0] in words for chip in chips), chips  # whole words of the text
        assert not {"et", "de", "en", "tous", "vos"} & {chip.rsplit(" ", 1)[0] for chip in chips}  # no stop words
        marked = cards.nth(i).locator(".text mark").all_inner_texts()
        assert marked and all(fold_accents(m.casefold()) in words for m in marked)


def test_the_queue_pages_through_by_priority(page, live_server, token, redis_client):
    ids = [make_comment(redis_client, 0.5 - i / 1000, ms=1_000_000 + i) for i in range(53)]
    sign_in(page, live_server, token)
    expect(page.locator(".comment")).to_have_count(50)
    first = page.locator(".comment").evaluate_all("cards => cards.map(c => c.dataset.id)")
    assert first == ids[:50]  # most useful first: nearest to 0.5
    page.click("text=Next comments")
    expect(page.locator(".comment")).to_have_count(3)
    assert page.locator(".comment").evaluate_all("cards => cards.map(c => c.dataset.id)") == ids[50:]
