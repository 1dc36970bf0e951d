"""The shipped model serves the French site: French and English known, news links are sources, spam is decided."""

from __future__ import annotations

from pathlib import Path

import pytest

from model_training.features import TRUSTED_DOMAINS
from service.app import create_app
from service.moderation.policy import Bounds, Thresholds, model_decision
from service.moderation.scorer import Score

DATA = Path(__file__).parent / "data"
# Held out: written for these tests, in none of the training corpora.
FRENCH_HAM = [line for line in (DATA / "french_ham.txt").read_text().splitlines() if line]
FRENCH_SPAM = [line for line in (DATA / "french_spam.txt").read_text().splitlines() if line]
NEWS_LINKS = [
    "See the BBC's explainer: https://www.bbc.com/news/world-africa-67890123",
    "Reuters has the full figures here https://www.reuters.com/world/africa/ if anyone doubts it.",
    "L'article de RFI donne une autre version : https://www.rfi.fr/fr/afrique/20241012-senegal-budget",
    "Jeune Afrique en parle aussi, avec les chiffres officiels : https://www.jeuneafrique.com/1612345/politique/",
    "Le communiqué complet est sur le site du gouvernement : https://www.sec.gouv.sn/communique-conseil",
]


def submit(client, text: str, **extra) -> dict:
    response = client.post("/v1/comments", json={"name": "Lecteur", "email": "lecteur@exemple.sn", "text": text, **extra})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_shipped_model_knows_french_and_english_with_thresholds_for_each(app):
    state = app.extensions["moderation"].models.state
    assert {"fr", "en"} <= state.active.known_languages
    assert set(state.thresholds.by_language) >= {"fr", "en"}
    for bounds in state.thresholds.by_language.values():
        assert 0 < bounds.approve_below < bounds.reject_at < 1
        assert 0 < bounds.approve_parts_below <= bounds.reject_at  # comments of several sentences: their own


def test_held_out_french_ham_is_mostly_approved_and_never_rejected(client):
    statuses = [submit(client, text)["status"] for text in FRENCH_HAM]
    assert "rejected" not in statuses
    assert statuses.count("approved") >= 0.7 * len(statuses)


def test_held_out_french_spam_is_mostly_rejected_and_never_approved(client):
    statuses = [submit(client, text)["status"] for text in FRENCH_SPAM]
    assert "approved" not in statuses
    assert statuses.count("rejected") >= 0.5 * len(statuses)


@pytest.mark.parametrize("text", NEWS_LINKS)
def test_a_link_to_a_news_outlet_is_not_spam_evidence(client, text):
    body = submit(client, text)
    assert body["status"] == "approved", body["reasons"]


def test_a_legitimate_comment_is_not_rejected_for_one_unknown_link(client):
    text = ("Je ne suis pas d'accord avec l'auteur sur les chiffres du chômage, le rapport dit autre chose : "
            "https://observatoire-emploi-sahel.org/rapport-2024.pdf")
    body = submit(client, text)
    assert body["status"] != "rejected"


def test_link_only_evidence_holds_instead_of_rejecting():
    score = Score(probability=0.99, decision_value=4.6, normalized="voir urlx casino bet")
    thresholds = Thresholds(approve_below=0.1, reject_at=0.9)
    held = model_decision(score, thresholds, language="fr", without_links=0.04)
    assert held.status == "pending"
    assert [r["code"] for r in held.reasons] == ["model_score_high", "link_only_evidence"]
    assert held.reasons[1]["score_without_links"] == 0.04
    assert model_decision(score, thresholds, language="fr", without_links=0.5).status == "rejected"
    assert model_decision(score, thresholds, language="fr").status == "rejected"


def test_each_language_is_decided_by_its_own_thresholds():
    thresholds = Thresholds(approve_below=0.1, reject_at=0.95, by_language={"fr": Bounds(0.2, 0.8)})
    score = Score(probability=0.85, decision_value=1.7)
    assert model_decision(score, thresholds, language="fr").status == "rejected"
    assert model_decision(score, thresholds, language="en").status == "pending"
    low = Score(probability=0.15, decision_value=-1.7)
    assert model_decision(low, thresholds, language="fr").status == "approved"
    assert model_decision(low, thresholds, language="en").status == "pending"


def test_threshold_overrides_apply_to_every_language(config, redis_client):
    app = create_app({**config, "approve_below": 0.05, "reject_at": 0.99})
    thresholds = app.extensions["moderation"].models.state.thresholds
    assert set(thresholds.by_language.values()) == {Bounds(0.05, 0.99, 0.05)}  # approve-below for parts too
    assert thresholds.bounds == Bounds(0.05, 0.99, 0.05)


def test_a_sites_own_domain_can_be_trusted(config, redis_client):
    text = "Notre dossier complet sur le sujet : https://www.journal-du-fleuve.sn/dossiers/peche-artisanale"
    plain = create_app(config).test_client()
    trusting = create_app({**config, "trusted_domains": TRUSTED_DOMAINS | {"journal-du-fleuve.sn"}}).test_client()
    untrusted = submit(plain, text)
    trusted = submit(trusting, text + " ")
    assert trusted["status"] == "approved"
    assert trusted["score"] < untrusted["score"]


def test_detected_language_wins_over_the_declared_one(client):
    body = submit(client, "Buy cheap viagra online, best price, no prescription needed", lang="fr")
    record = client.get(f"/v1/comments/{body['id']}").get_json()
    assert record["language"] == "en"


@pytest.mark.parametrize(("p", "approve_below", "expected"), [
    (0.0709, 0.0715, "Spam probability 0.0709 is below 0.0715."),
    (0.05, 0.0715, "Spam probability 0.050 is below 0.071."),
    (0.0714999, 0.0715, "Spam probability 0.0714999 is below 0.0715000."),
])
def test_reason_messages_never_contradict_themselves_after_rounding(p, approve_below, expected):
    decision = model_decision(Score(probability=p, decision_value=0.0), Thresholds(approve_below=approve_below, reject_at=0.9))
    assert decision.reasons[0]["message"] == expected


def test_lookalike_letters_do_not_lower_a_spam_score(client):
    latin = "Check out my channel and subscribe, free gift cards every day http://free-prizes.example.com"
    cyrillic = latin.replace("a", "\u0430").replace("e", "\u0435").replace("o", "\u043e")  # а е о
    plain = submit(client, latin)
    disguised = submit(client, cyrillic)
    assert plain["status"] == "rejected"
    assert disguised["status"] == "rejected" and disguised["score"] >= plain["score"]


def test_the_link_check_uses_the_comments_own_language_thresholds(app):
    from service.moderation.intake import link_free_text
    model = app.extensions["moderation"].models.state.active
    text = "Bon article, voir https://casino-lion-dor.bet pour les détails"
    score = model.scorer.score(text, explain=0)
    thresholds = Thresholds(approve_below=0.1, reject_at=0.99, by_language={"fr": Bounds(0.1, score.probability - 0.01)})
    submission = {"text": text}
    bare = link_free_text(thresholds, submission, score, "fr")  # above the French reject_at: rescored without it
    assert bare is not None and "casino" not in bare and "article" in bare
    assert link_free_text(thresholds, submission, score, "en") is None  # below the global one
