"""Knowing what it does not know: the English model neither rejects nor approves French text on its own."""

from __future__ import annotations

from pathlib import Path

import pytest

from service import create_app

FRENCH_HAM = [line for line in (Path(__file__).parent / "data" / "french_ham.txt").read_text().splitlines() if line]
FRENCH_SPAMMY = [
    "Gagnez un iPhone gratuit ! Cliquez ici http://cadeaux-gratuits.example.com et abonnez-vous à ma chaîne",
    "Visitez mon site pour gagner de l'argent facilement depuis chez vous http://argent-facile.example.fr",
    "Abonnez vous à ma chaîne YouTube, je fais des vidéos de musique, merci de partager http://youtu.be/abc",
]


def submit(client, text: str, **extra) -> dict:
    response = client.post("/v1/comments", json={"name": "Lecteur", "email": "lecteur@exemple.sn", "text": text, **extra})
    assert response.status_code == 201
    return response.get_json()


def test_shipped_model_knows_english_but_not_french(app):
    assert app.extensions["moderation"].models.state.active.known_languages == frozenset({"en"})


def test_french_ham_is_held_for_review_not_auto_decided(client):
    assert len(FRENCH_HAM) >= 40
    bodies = [submit(client, text) for text in FRENCH_HAM]
    assert {b["status"] for b in bodies} == {"pending"}
    assert all("unfamiliar_language" in [r["code"] for r in b["reasons"]] for b in bodies)


@pytest.mark.parametrize("text", FRENCH_SPAMMY + ["Regardez ma nouvelle vidéo et partagez-la, merci !"])
def test_french_spam_goes_to_review_with_the_reason(client, text):
    body = submit(client, text)
    assert body["status"] == "pending"
    assert "unfamiliar_language" in [r["code"] for r in body["reasons"]]


def test_approve_unfamiliar_setting_approves_low_scores_and_still_never_rejects(config, redis_client):
    lenient = create_app({**config, "approve_unfamiliar": True}).test_client()
    statuses = [submit(lenient, text)["status"] for text in FRENCH_HAM + FRENCH_SPAMMY]
    assert "rejected" not in statuses
    assert statuses.count("approved") >= 10  # the shipped model scores many French comments low


def test_english_spam_is_still_rejected(client):
    body = submit(client, "Check out my channel http://free-prizes.example.com please subscribe and share!!!")
    assert body["status"] == "rejected"
    assert [r["code"] for r in body["reasons"]] == ["model_score_high"]


def test_declared_language_counts_only_when_the_text_says_nothing(client):
    english = submit(client, "Check out my channel http://free-prizes.example.com please subscribe!!!", lang="fr")
    assert english["status"] == "rejected"  # detected English wins over the page's declared language
    record = client.get(f"/v1/comments/{english['id']}").get_json()
    assert record["language"] == "en"
