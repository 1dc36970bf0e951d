"""Abuse rules, each with positive and negative cases in French and English, through the real API."""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import re
import threading
import time

import pytest

from model_training.features import normalize_text, without_placeholders
from service.app import create_app
from service.moderation.rules import domain_matches, email_hit, ip_hit, word_hit
from service.netaddr import canonical_ip
from service.storage import abuse, comments, keys, tokens
from service.storage.abuse import NEAR_DISTANCE, Admitter, bucket_keys, simhash

from .conftest import bearer

HAM_FR = "Merci pour cet article très clair sur la réforme foncière et ses enjeux."


@pytest.fixture
def make_client(config, redis_client):
    """Build a client whose app has the given settings on top of the test defaults."""
    def build(**overrides):
        return create_app({**config, **overrides}).test_client()
    return build


# The website's site key: only a request carrying one may say which IP its commenter has.
SITE_HEADERS: dict = {}


@pytest.fixture(autouse=True)
def site_key(redis_client):
    """A site key for the tests' website (Redis is emptied before every test)."""
    SITE_HEADERS.clear()
    SITE_HEADERS.update(bearer(tokens.create(redis_client, "journal", "site")))


def post(client, text=HAM_FR, email="lecteur@exemple.sn", headers=None, **extra):
    if headers is None and "ip" in extra:
        headers = SITE_HEADERS
    return client.post("/v1/comments", json={"name": "Lecteur", "email": email, "text": text, **extra}, headers=headers)


def codes(response) -> list[str]:
    return [r["code"] for r in response.get_json()["reasons"]]


# Limits ---------------------------------------------------------------------------------------------------------

def test_rate_limit_per_ip_answers_429_while_other_commenters_are_served(make_client):
    client = make_client(rate_limit_ip=(3, 60))
    for i in range(3):
        assert post(client, f"{HAM_FR} {i}", email=f"a{i}@exemple.sn", ip="196.1.1.1").status_code == 201
    limited = post(client, f"{HAM_FR} x", email="a9@exemple.sn", ip="196.1.1.1")
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    body = limited.get_json()
    assert (body["type"], body["reason"], body["subject"]) == ("/problems/rate-limited", "rate_limited", "ip")
    assert post(client, f"{HAM_FR} y", email="b@exemple.sn", ip="196.1.1.2").status_code == 201


def test_without_a_site_key_the_declared_ip_is_ignored_and_the_peer_is_limited(make_client, redis_client):
    client = make_client(rate_limit_ip=(3, 60))
    responses = [client.post("/v1/comments", json={"name": "L", "email": f"x{i}@exemple.sn", "ip": f"198.51.100.{i}",
                                                   "text": f"{HAM_FR} {i}"}) for i in range(6)]
    assert [r.status_code for r in responses] == [201, 201, 201, 429, 429, 429]  # one peer, however many it invents
    stored = [comments.load(redis_client, r.get_json()["id"]) for r in responses[:3]]
    assert {record["submission"]["ip"] for record in stored} == {"127.0.0.1"}


def test_behind_trusted_proxies_the_forwarded_address_counts(make_client):
    client = make_client(rate_limit_ip=(2, 60), trusted_proxies=1)
    def send(i, forwarded):
        return client.post("/v1/comments", headers={"X-Forwarded-For": forwarded},
                           json={"name": "L", "email": f"y{i}@exemple.sn", "text": f"{HAM_FR} {i}"}).status_code
    assert [send(i, f"6.6.6.{i}, 196.1.1.9") for i in range(3)] == [201, 201, 429]  # forged left part ignored
    assert send(9, "196.1.1.10") == 201


def test_rate_limit_per_email(make_client):
    client = make_client(rate_limit_email=(2, 60))
    assert [post(client, f"Comment number {i} about the budget vote", email="same@example.com").status_code
            for i in range(3)] == [201, 201, 429]


def test_the_email_limit_counts_an_address_whatever_its_case(make_client):
    client = make_client(rate_limit_email=(2, 60))
    assert [post(client, f"Comment number {i} about the budget vote", email=email).status_code
            for i, email in enumerate(["Awa.Ndiaye@exemple.sn", "awa.ndiaye@exemple.sn", "AWA.NDIAYE@exemple.sn"])
            ] == [201, 201, 429]


def test_no_key_name_holds_a_commenters_ip_or_email_address(make_client, redis_client):
    client = make_client(rate_limit_email=(5, 60), rate_limit_ip=(5, 60), flood_seconds=15)
    assert post(client, email="awa.ndiaye@exemple.sn", ip="196.207.12.34").status_code == 201
    names = list(redis_client.scan_iter("*"))
    # The rules did file keys for this commenter, named by digests of the addresses.
    for kind, address in (("ip", "196.207.12.34"), ("email", "awa.ndiaye@exemple.sn")):
        assert keys.rate(kind, address) in names and keys.flood(kind, address) in names
    assert keys.author("awa.ndiaye@exemple.sn") in names
    assert not [name for name in names if "awa.ndiaye" in name or "196.207.12.34" in name]


def test_flood_control_refuses_a_second_comment_within_15_seconds(make_client):
    client = make_client(flood_seconds=15)
    assert post(client, ip="196.1.1.1").status_code == 201
    again = post(client, "Un deuxième commentaire tout de suite après le premier.", ip="196.1.1.1",
                 email="autre@exemple.sn")
    assert again.status_code == 429 and again.get_json()["reason"] == "flood"
    assert 14 <= int(again.headers["Retry-After"]) <= 15
    same_email = post(client, "Another one from the same address, different IP.", ip="196.1.1.3")
    assert same_email.status_code == 429 and same_email.get_json()["subject"] == "email"
    assert post(client, "Someone else entirely, a different person.", ip="196.1.1.4",
                email="x@example.com").status_code == 201


def test_a_website_with_its_key_and_no_commenter_ip_is_never_throttled_as_one_commenter(make_client):
    client = make_client(rate_limit_ip=(2, 60), flood_seconds=15)
    statuses = [post(client, f"{HAM_FR} {i}", email=f"r{i}@exemple.sn", headers=SITE_HEADERS).status_code
                for i in range(6)]
    assert statuses == [201] * 6


def test_rate_limit_per_site_key(make_client, redis_client):
    client = make_client(rate_limit_site=(2, 60))
    statuses = [post(client, f"{HAM_FR} {i}", email=f"s{i}@exemple.sn", headers=SITE_HEADERS).status_code
                for i in range(3)]
    assert statuses == [201, 201, 429]


def test_site_key_can_be_required_and_opens_nothing_else(make_client, redis_client):
    site = SITE_HEADERS
    client = make_client(require_site_key=True)
    assert post(client).status_code == 401
    assert post(client, headers=bearer("mod_0123456789abcdef.wrongwrongwrongwrongwrong")).status_code == 401
    created = post(client, headers=site)
    assert created.status_code == 201
    assert client.get("/v1/review/queue", headers=site).status_code == 403
    assert "email" not in client.get(f"/v1/comments/{created.get_json()['id']}", headers=site).get_json()["comment"]


@pytest.mark.parametrize(("trusted", "forwarded", "expected"), [
    (0, "203.0.113.9", "127.0.0.1"),  # not configured: never trust the header; the peer is the commenter
    (1, "203.0.113.9", "203.0.113.9"),
    (1, "6.6.6.6, 203.0.113.9", "203.0.113.9"),  # the client may forge anything left of the trusted hop
    (2, "6.6.6.6, 203.0.113.9, 10.0.0.2", "203.0.113.9"),
    (2, "203.0.113.9", None),  # fewer hops than trusted proxies
    (1, "not-an-ip", None),
])
def test_forwarded_for_is_used_only_through_trusted_proxies(make_client, client, trusted, forwarded, expected):
    app_client = make_client(trusted_proxies=trusted)
    created = post(app_client, headers={"X-Forwarded-For": forwarded})
    assert created.status_code == 201
    moderator = bearer(tokens.create(app_client.application.extensions["moderation"].redis, f"m{trusted}x", "moderator"))
    record = app_client.get(f"/v1/comments/{created.get_json()['id']}", headers=moderator).get_json()
    assert record["comment"].get("ip") == expected


def test_the_site_keys_ip_field_wins_over_forwarded_for(make_client, redis_client):
    client = make_client(trusted_proxies=1)
    created = post(client, ip="196.1.1.1", headers={**SITE_HEADERS, "X-Forwarded-For": "203.0.113.9"}).get_json()
    moderator = bearer(tokens.create(redis_client, "mod", "moderator"))
    assert client.get(f"/v1/comments/{created['id']}", headers=moderator).get_json()["comment"]["ip"] == "196.1.1.1"


# Rules that shape the decision ----------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [HAM_FR, "I completely agree with the minister about the budget this year."])
def test_a_repeated_text_goes_to_review_then_is_rejected(client, text):
    first = post(client, text, email="a@exemple.sn")
    second = post(client, text, email="b@exemple.sn")
    third = post(client, text, email="c@exemple.sn")
    assert "duplicate_text" not in codes(first)
    assert second.get_json()["status"] == "pending" and codes(second)[0] == "duplicate_text"
    assert third.get_json()["status"] == "rejected" and codes(third)[0] == "repeated_text"


@pytest.fixture
def round_trips(app, monkeypatch):
    """The Redis commands this test's thread sends through the app's client from now on (a pipeline counts once)."""
    rt = app.extensions["moderation"]
    trips, caller = [], threading.current_thread()
    execute, pipeline = rt.redis.execute_command, rt.redis.pipeline

    def counted(real, name):
        def call(*args, **kwargs):
            if threading.current_thread() is caller:  # not the model watcher's polls
                trips.append(args[0] if name is None else name)
            return real(*args, **kwargs)
        return call

    monkeypatch.setattr(rt.redis, "execute_command", counted(execute, None))
    monkeypatch.setattr(rt.redis, "pipeline", counted(pipeline, "PIPELINE"))
    return trips


def test_a_submission_is_admitted_and_stored_in_one_redis_round_trip(client, monkeypatch, request):
    for email in ("a@exemple.sn", "b@exemple.sn"):  # loads both scripts and the lists
        post(client, "Texte pour charger les scripts avant de compter.", email=email)
    trips = request.getfixturevalue("round_trips")
    first = post(client, HAM_FR, email="c@exemple.sn")
    assert first.status_code == 201 and trips == ["EVALSHA"]
    trips.clear()
    # A repeated text changes the decision, still in the one round trip: the script picks its class's outcome.
    second = post(client, HAM_FR, email="d@exemple.sn")
    assert codes(second)[0] == "duplicate_text" and trips == ["EVALSHA"]
    monkeypatch.undo()
    for response in (first, second):
        stored = client.get(f"/v1/comments/{response.get_json()['id']}").get_json()
        assert stored["status"] == response.get_json()["status"]
        assert [e["event"] for e in stored["history"]] == ["created"]


def test_a_site_keys_submissions_take_one_round_trip_once_the_key_is_known(client, request):
    post(client, "Texte pour charger les scripts avant de compter.", email="a@exemple.sn", headers=SITE_HEADERS)
    trips = request.getfixturevalue("round_trips")
    for i in range(3):
        assert post(client, f"{HAM_FR} {i}", email=f"s{i}@exemple.sn", ip="196.1.1.1").status_code == 201
    assert trips == ["EVALSHA"] * 3  # the key's check rides on the admission script


def nothing_recorded_for(redis_client, email: str) -> bool:
    return not any(redis_client.exists(key) for key in (keys.rate("email", email), keys.flood("email", email)))


def stored_comments(redis_client) -> int:
    return sum(redis_client.zcard(keys.by_status(status)) for status in ("pending", "approved", "rejected"))


# The limits are off in the tests' defaults: here they are on, so that a refused submission could count in them.
LIMITS = {"rate_limit_email": (100, 60), "rate_limit_ip": (100, 60), "flood_seconds": 15}


@pytest.mark.parametrize("how", ["revoked", "replaced"])
def test_a_known_site_key_revoked_or_replaced_is_refused_at_once_with_nothing_recorded(make_client, redis_client, how):
    client = make_client(**LIMITS)
    for i in range(2):  # verified, then known to this process
        assert post(client, f"{HAM_FR} {i}", email=f"s{i}@exemple.sn", ip=f"196.1.1.{i + 1}").status_code == 201
    assert not nothing_recorded_for(redis_client, "s1@exemple.sn") and stored_comments(redis_client) == 2
    if how == "revoked":
        tokens.revoke(redis_client, "journal")
    else:
        tokens.create(redis_client, "journal", "site", replace=True)
    refused = post(client, "Un tout autre texte sur la saison des pluies et les récoltes.", email="late@exemple.sn",
                   ip="196.1.1.9")
    assert refused.status_code == 401 and refused.content_type == "application/problem+json"
    assert refused.get_json()["detail"] == "The token is not valid or has been revoked."
    assert nothing_recorded_for(redis_client, "late@exemple.sn")
    assert stored_comments(redis_client) == 2
    # Forgotten by the process: the next request with it is refused before its body is even read.
    assert client.post("/v1/comments", json={"text": ""}, headers=SITE_HEADERS).status_code == 401


def test_a_known_site_keys_id_with_another_secret_is_refused(make_client, redis_client):
    client = make_client(**LIMITS)
    assert post(client, HAM_FR, email="s@exemple.sn", ip="196.1.1.1").status_code == 201
    assert not nothing_recorded_for(redis_client, "s@exemple.sn")
    forged = {"Authorization": SITE_HEADERS["Authorization"][:-4] + "abcd"}
    refused = post(client, "Un autre texte sur les élections et le vote des jeunes.", email="f@exemple.sn",
                   headers=forged)
    assert refused.status_code == 401
    assert nothing_recorded_for(redis_client, "f@exemple.sn")


@pytest.mark.parametrize("text", ["Merci beaucoup !", "Great video"])
def test_short_common_texts_are_not_duplicates(client, text):
    results = [post(client, text, email=f"{i}@exemple.sn") for i in range(3)]
    assert all(not {"duplicate_text", "repeated_text"} & set(codes(r)) for r in results)


@pytest.mark.parametrize(("base", "variant"), [
    ("Gagnez des cartes cadeaux gratuites chaque jour en vous abonnant à ma chaîne",
     "GAGNEZ des cartes cadeaux gratuites chaque jour en vous abonnant à ma chaine !!!"),
    ("Check out my channel and subscribe for free gift cards every day",
     "Check out my channel and subscribe for free gift card every day"),
    # Cyrillic lookalikes, leet, and the same words in another order are the same text.
    ("Grand marabout Koffi, retour de l'être aimé en trois jours, appelez vite",
     "Grаnd mаrаbout Kоffi, retour de l'être аimé en trois jours, аppelez vite"),
    ("Grand marabout Koffi, retour de l'être aimé en trois jours, appelez vite",
     "Gr4nd m@rabout K0ffi, retour de l'être aimé en tr0is jours, appelez vite"),
    ("Grand marabout Koffi, retour de l'être aimé en trois jours, appelez vite",
     "appelez vite, retour de l'être aimé en trois jours, Grand marabout Koffi"),
])
def test_near_duplicates_go_to_review(client, base, variant):
    post(client, base)
    near = post(client, variant, email="b@exemple.sn")
    # Leet undone, a variant can even be the same text: an exact duplicate is caught too.
    assert {"near_duplicate_text", "duplicate_text"} & set(codes(near)) and near.get_json()["status"] != "approved"
    other = post(client, "Les Lions ont bien joué mais l'arbitrage était scandaleux en seconde mi-temps.", email="c@x.sn")
    assert "near_duplicate_text" not in codes(other)


def test_a_flood_of_variations_is_caught_without_growing_the_buckets(client, redis_client):
    base = "Gagnez des cartes cadeaux gratuites chaque jour en vous abonnant à ma chaîne numéro"
    assert "near_duplicate_text" not in codes(post(client, base, email="a@exemple.sn"))
    flagged = [post(client, f"{base} {n}", email=f"v{n}@exemple.sn") for n in range(20)]
    assert all("near_duplicate_text" in codes(r) for r in flagged)
    own, near = bucket_keys(simhash(normalize_text(base)))
    assert all(redis_client.scard(key) == 1 for key in own)  # only the first text is filed
    assert not any(redis_client.exists(key) for key in near)


@pytest.mark.parametrize(("text", "fires"), [
    (f"{HAM_FR} Sources : https://ansd.sn/rapport et https://www.senego.example.com/article", True),
    ("See https://data.example.org/a and www.example.net/b for the figures.", True),
    (f"{HAM_FR} Source : https://ansd.sn/rapport", False),
    ("I agree with this analysis of the budget.", False),
])
def test_two_links_or_more_go_at_least_to_review(client, text, fires):
    response = post(client, text)
    assert ("many_links" in codes(response)) is fires
    if fires:
        assert response.get_json()["status"] in ("pending", "rejected")


def test_a_filled_honeypot_is_rejected_and_an_empty_one_is_ignored(client):
    assert post(client, honeypot="http://spam.example.com").get_json()["status"] == "rejected"
    assert codes(post(client, "Un autre commentaire parfaitement normal sur l'article.", honeypot=""))[0] != "honeypot"


@pytest.mark.parametrize(("seconds_ago", "fires"), [(1, True), (4.5, True), (6, False), (600, False)])
def test_submitting_faster_than_a_human_goes_to_review(client, seconds_ago, fires):
    rendered = time.time() - seconds_ago
    response = post(client, f"{HAM_FR} {seconds_ago}", form_rendered_at=rendered)
    assert ("submitted_too_fast" in codes(response)) is fires
    if fires:
        assert response.get_json()["status"] != "approved"


def test_form_rendered_at_accepts_iso_dates_and_refuses_garbage(client):
    iso = (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)).isoformat()
    assert "submitted_too_fast" in codes(post(client, form_rendered_at=iso))
    bad = post(client, "x y z", form_rendered_at="yesterday")
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "form_rendered_at"


@pytest.mark.parametrize(("email", "fires"), [("bot@yopmail.fr", True), ("x@mailinator.com", True),
                                              ("x@sub.guerrillamail.com", True), ("lecteur@orange.sn", False)])
def test_disposable_email_domains_send_to_review(client, email, fires):
    response = post(client, f"{HAM_FR} {email}", email=email)
    assert ("disposable_email" in codes(response)) is fires
    if fires:
        assert response.get_json()["status"] != "approved"


# Block and allow lists -------------------------------------------------------------------------------------------

@pytest.fixture
def admin_client(client, admin):
    def put(name, entries):
        response = client.put(f"/v1/admin/lists/{name}", json={"entries": entries}, headers=admin)
        assert response.status_code == 200, response.get_json()
        client.application.extensions["moderation"].guard.lists.invalidate()  # no 5 s wait in tests
        return response.get_json()
    return put


@pytest.mark.parametrize(("blocked", "text", "fires"), [
    ("alla", "Il allait au marché tous les matins.", False),
    ("alla", "Alla est partie hier.", True),
    ("crétin", "Quel CRETIN ce ministre", True),
    ("crétin", "Les crétins sont partout", False),
    ("viagra", "Buy Viagra now", True),
    ("viagra", "viagrafree is a word we made up", False),
    ("casino en ligne", "Le meilleur Casino en Ligne du Sénégal", True),
])
def test_blocked_words_match_on_word_boundaries_without_case_or_accents(blocked, text, fires):
    assert (word_hit(text, [blocked]) is not None) is fires


def test_one_pass_over_a_long_list_finds_overlapping_and_boundary_matches():
    words = frozenset(f"mot{i}" for i in range(10_000)) | {"arnaque", "grand marabout", "a"}
    assert word_hit("Contactez le GRAND Marabout Koffi", words) == "grand marabout"
    assert word_hit("Les arnaqueurs et un mot99 ici", words) == "mot99"  # "arnaque" inside a word does not count
    assert word_hit("une arnaque: mot10000", words) == "arnaque"
    assert word_hit("à la maison", words) == "a"  # accent-folded, on its own
    assert word_hit("x" * 65_000 + " fin", words) is None
    assert word_hit("rien", frozenset({"", "  "})) is None


def test_blocked_words_reject_through_the_api(client, admin_client):
    admin_client("block_words", ["arnaque"])
    assert post(client, "C'est une ARNAQUE totale, fuyez").get_json()["status"] == "rejected"
    assert codes(post(client, "Les arnaqueurs ont été arrêtés par la police hier.", email="b@x.sn"))[0] != "blocked_word"


@pytest.mark.parametrize(("entries", "email", "fires"), [
    (["spammer@example.com"], "Spammer@Example.com", True),
    (["spam.example"], "x@mail.spam.example", True),
    (["spam.example"], "x@notspam.example", False),
    (["@spam.example"], "x@spam.example", True),
])
def test_email_list_entries_match_addresses_and_domains(entries, email, fires):
    assert (email_hit(email, entries) is not None) is fires


@pytest.mark.parametrize(("host", "listed", "expected"), [
    ("spam.example", {"spam.example"}, "spam.example"),
    ("a.b.spam.example", {"spam.example"}, "spam.example"),
    ("notspam.example", {"spam.example"}, None),
    ("spam.example.org", {"spam.example"}, None),
    ("x.casino.bet", {"bet", "casino.bet"}, "casino.bet"),  # the most specific entry is the one named
    ("anything.bet", {"bet"}, "bet"),
    ("", {"spam.example"}, None),
])
def test_a_host_matches_a_listed_domain_or_any_domain_it_is_under(host, listed, expected):
    assert domain_matches(host, frozenset(listed)) == expected


@pytest.mark.parametrize(("entries", "ip", "fires"), [
    (["203.0.113.0/24"], "203.0.113.77", True), (["203.0.113.0/24"], "203.0.114.1", False),
    (["2001:db8::/32"], "2001:db8::1", True), (["196.1.1.1"], "196.1.1.1", True), ([], "196.1.1.1", False),
    (["203.0.113.5/24"], "203.0.113.77", True),  # an entry with host bits still means its network
])
def test_ip_list_entries_match_addresses_and_networks(entries, ip, fires):
    assert (ip_hit(ip, entries) is not None) is fires


def test_a_network_given_with_host_bits_is_stored_as_its_network(client, admin_client):
    assert admin_client("block_ips", ["203.0.113.5/24"])["entries"] == ["203.0.113.0/24"]


def test_blocked_emails_urls_and_ips_reject(client, admin_client):
    admin_client("block_emails", ["spam.example"])
    admin_client("block_urls", ["casino.example"])
    admin_client("block_ips", ["203.0.113.0/24"])
    assert codes(post(client, email="a@spam.example"))[0] == "blocked_email"
    assert codes(post(client, "Jouez ici https://www.casino.example/bonus", email="b@x.sn"))[0] == "blocked_url"
    assert codes(post(client, "Nice article about the election.", email="c@x.sn",
                      url="http://win.casino.example"))[0] == "blocked_url"
    assert codes(post(client, "Bonjour à tous les lecteurs du journal.", email="d@x.sn", ip="203.0.113.5"))[0] == \
        "blocked_ip"
    assert post(client, "Bonjour à tous les lecteurs du journal.", email="e@x.sn",
                ip="198.51.100.1").get_json()["status"] != "rejected"
    for i, wrapped in enumerate(("::ffff:203.0.113.9", "64:ff9b::cb00:7109")):  # the same network, wrapped in IPv6
        assert codes(post(client, "Bonjour à tous les lecteurs du journal.", email=f"f{i}@x.sn",
                          ip=wrapped))[0] == "blocked_ip"


def test_allow_list_approves_what_the_model_doubts_but_never_overrides_a_block(client, admin_client):
    admin_client("allow_emails", ["redaction@journal.example.sn"])
    admin_client("block_words", ["arnaque"])
    spammy = "Check out my channel http://x.example.com subscribe and share"
    assert post(client, spammy, email="redaction@journal.example.sn").get_json()["status"] == "approved"
    assert post(client, "arnaque", email="redaction@journal.example.sn").get_json()["status"] == "rejected"
    assert post(client, spammy, email="someone@else.example").get_json()["status"] != "approved"


def test_list_admin_validates_entries_and_names(client, admin, moderator):
    bad_ip = client.put("/v1/admin/lists/block_ips", json={"entries": ["300.1.1.1"]}, headers=admin)
    assert bad_ip.status_code == 422 and bad_ip.get_json()["errors"][0]["field"] == "entries[0]"
    assert client.put("/v1/admin/lists/nope", json={"entries": []}, headers=admin).status_code == 404
    assert client.put("/v1/admin/lists/block_words", json={"entries": ["x"]}, headers=moderator).status_code == 403
    assert client.get("/v1/admin/lists", headers=admin).get_json()["block_words"] == []


def test_score_endpoint_applies_the_stateless_rules(client, admin_client, admin):
    admin_client("block_words", ["arnaque"])
    body = {"comments": [{"name": "A", "email": "a@x.sn", "text": "arnaque"},
                         {"name": "A", "email": "a@yopmail.fr", "text": HAM_FR}]}
    results = client.post("/v1/score", json=body, headers=admin).get_json()["results"]
    assert results[0]["decision"] == "rejected" and results[0]["reasons"][0]["code"] == "blocked_word"
    assert results[1]["reasons"][0]["code"] == "disposable_email"


def test_every_fingerprint_within_the_near_distance_is_in_a_searched_bucket():
    rng = random.Random(20261129)
    cases = [(rng.getrandbits(64), rng.sample(range(64), rng.randint(1, NEAR_DISTANCE))) for _ in range(3000)]
    cases.append((rng.getrandbits(64), [0, 1, 16, 17, 32, 33, 48]))  # 2, 2, 2 and 1 bits: only block 3 finds it
    for fingerprint, flipped in cases:
        other = fingerprint
        for bit in flipped:
            other ^= 1 << bit
        own, near = bucket_keys(other)
        assert set(bucket_keys(fingerprint)[0]) & set(own + near), (fingerprint, flipped)
    # and a lookup reads 4 own buckets plus 16 one-bit neighbours of each
    own, near = bucket_keys(0)
    assert len(own) == 4 and len(near) == 64 and not set(own) & set(near)


def _reference_simhash(normalized: str) -> int:
    """SimHash as abuse.simhash defines it, computed the plain way: the fingerprints kept in Redis for the
    duplicate window must not change when the implementation gets faster."""
    words = " ".join(sorted(re.findall(r"\w+", without_placeholders(normalized))))
    shingles = {words[i:i + 5] for i in range(max(1, len(words) - 4))}
    votes = [0] * 64
    for shingle in shingles:
        value = int.from_bytes(hashlib.blake2b(shingle.encode(), digest_size=8).digest(), "big")
        for bit in range(64):
            votes[bit] += 1 if value >> bit & 1 else -1
    return sum(1 << bit for bit in range(64) if votes[bit] > 0)


def test_fingerprints_are_the_plain_simhash_also_when_the_shingle_cache_is_emptied(monkeypatch):
    texts = [HAM_FR, "Gagnez 500 000 FCFA par jour, contactez-moi sur WhatsApp", "", "ok", "é" * 40,
             "Same words in another order", "order another in words same", "𝕏 😀 ÀÉÎ õü"]
    expected = [_reference_simhash(normalize_text(t)) for t in texts]
    assert [simhash(normalize_text(t)) for t in texts] == expected
    assert expected[5] == expected[6]  # word order does not count
    monkeypatch.setattr(abuse, "_shingle_hashes", {})
    monkeypatch.setattr(abuse, "SHINGLE_CACHE_SIZE", 3)  # emptied again and again: the same fingerprints
    assert [simhash(normalize_text(t)) for t in texts] == expected
    assert len(abuse._shingle_hashes) <= 3


def test_fingerprints_in_an_unknown_format_are_ignored_not_an_error(client, redis_client):
    own, near = bucket_keys(simhash(normalize_text(HAM_FR)))
    for key in own + near:
        redis_client.sadd(key, "0123456789abcdef")  # e.g. left by an older version
    assert post(client, HAM_FR).status_code == 201


@pytest.mark.parametrize(("spelling", "canonical"), [
    ("::ffff:192.0.2.66", "192.0.2.66"), ("::FFFF:c000:0242", "192.0.2.66"), ("64:ff9b::192.0.2.66", "192.0.2.66"),
    ("64:ff9b::c000:242", "192.0.2.66"), ("2002:c000:0242::1", "192.0.2.66"), ("fe80::1%eth0", "fe80::1"),
    ("2001:DB8::0:1", "2001:db8::1"), ("192.0.2.66", "192.0.2.66"),
])
def test_every_spelling_of_an_address_is_one_address(spelling, canonical):
    assert canonical_ip(spelling) == canonical


@pytest.mark.parametrize("neighbour", [0, 17, 63])
def test_the_admission_script_searches_exactly_the_neighbouring_buckets_python_names(redis_client, neighbour):
    # The script reads the 64 one-bit-away buckets bucket_keys names (one argument): each of them, and only them.
    admitter = Admitter(redis_client, per_ip=None, per_email=None, per_site=None, flood_seconds=0,
                        duplicate_window_days=1, duplicate_min_words=1)
    text = normalize_text("un texte nouveau sur la saison des pluies et les semis de mil a kaolack")
    fingerprint = simhash(text)
    _, near = bucket_keys(fingerprint)
    member = f"{fingerprint >> 32}:{fingerprint & 0xFFFFFFFF}"  # an earlier text with the same fingerprint
    redis_client.sadd(near[neighbour], member)
    assert admitter.admit(ip=None, email="a@exemple.sn", site=None, normalized=text).text_class == \
        "near_duplicate_text"
    redis_client.flushdb()
    redis_client.sadd(near[neighbour].replace("simhash16", "elsewhere"), member)
    assert admitter.admit(ip=None, email="a@exemple.sn", site=None, normalized=text).text_class == "new_text"


@pytest.mark.parametrize("flipped", [
    [], [63], [31], [0, 31, 32, 63, 5, 40, 20],  # up to 7 bits, the halves' top bits (negative in Lua's bit ops)
    list(range(32, 39)), list(range(0, 7)), [1, 2, 3, 33, 34, 35, 36],
    list(range(32, 40)), list(range(0, 8)), [0, 31, 32, 63, 5, 40, 20, 10], list(range(64)),  # 8 bits and more
])
def test_the_admission_script_counts_bits_up_to_the_near_distance_exactly(redis_client, flipped):
    # An earlier text whose fingerprint differs in these bits, filed in a bucket the search reads: near
    # when at most NEAR_DISTANCE bits differ, wherever they are; new from one bit more.
    admitter = Admitter(redis_client, per_ip=None, per_email=None, per_site=None, flood_seconds=0,
                        duplicate_window_days=1, duplicate_min_words=1)
    text = normalize_text("les semis de mil ont commencé tôt cette année dans la région de kaolack")
    other = simhash(text)
    for bit in flipped:
        other ^= 1 << bit
    redis_client.sadd(bucket_keys(simhash(text))[0][0], f"{other >> 32}:{other & 0xFFFFFFFF}")
    expected = "near_duplicate_text" if len(flipped) <= NEAR_DISTANCE else "new_text"
    assert admitter.admit(ip=None, email="a@exemple.sn", site=None, normalized=text).text_class == expected
