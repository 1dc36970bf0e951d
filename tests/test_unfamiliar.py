"""Knowing what it does not know: text in a language the model was not trained on is never auto-decided."""

from __future__ import annotations

import pytest

from service.app import create_app

# Neither French nor English: the shipped model has seen next to none of these languages.
UNFAMILIAR = [
    "Ich bin mit dem Autor überhaupt nicht einverstanden, die Zahlen sind falsch und das weiß jeder hier.",
    "Não concordo com o autor, os números estão errados e todos aqui sabem disso muito bem.",
    "No estoy de acuerdo con el autor, las cifras son falsas y todo el mundo aquí lo sabe perfectamente.",
    "Ik ben het helemaal niet eens met de auteur, de cijfers kloppen niet en dat weet iedereen hier.",
]
UNFAMILIAR_SPAMMY = [
    "Kaufen Sie jetzt billige Uhren und gewinnen Sie ein kostenloses iPhone, klicken Sie hier http://uhren.example.de",
    "Ganhe dinheiro fácil em casa, clique aqui e inscreva-se no meu canal http://dinheiro.example.com.br",
]


def submit(client, text: str, **extra) -> dict:
    response = client.post("/v1/comments", json={"name": "Leser", "email": "leser@example.de", "text": text, **extra})
    assert response.status_code == 201
    return response.get_json()


@pytest.mark.parametrize("text", UNFAMILIAR + UNFAMILIAR_SPAMMY)
def test_unfamiliar_language_is_held_for_review_with_the_reason(client, text):
    body = submit(client, text)
    assert body["status"] == "pending"
    assert "unfamiliar_language" in [r["code"] for r in body["reasons"]]


def test_approve_unfamiliar_setting_approves_low_scores_and_still_never_rejects(config, redis_client):
    lenient = create_app({**config, "approve_unfamiliar": True}).test_client()
    statuses = [submit(lenient, text)["status"] for text in UNFAMILIAR + UNFAMILIAR_SPAMMY]
    assert "rejected" not in statuses
    assert statuses.count("approved") >= 2  # the ham among them score low


def test_english_spam_is_still_rejected(client):
    body = submit(client, "Check out my channel http://free-prizes.example.com please subscribe and share!!!")
    assert body["status"] == "rejected"
    assert [r["code"] for r in body["reasons"]] == ["model_score_high"]


def test_declared_language_counts_only_when_the_text_says_nothing(client):
    english = submit(client, "Check out my channel http://free-prizes.example.com please subscribe!!!", lang="de")
    assert english["status"] == "rejected"  # detected English wins over the page's declared language
    record = client.get(f"/v1/comments/{english['id']}").get_json()
    assert record["language"] == "en"
    short = submit(client, "Amine.", lang="fr-SN")
    assert client.get(f"/v1/comments/{short['id']}").get_json()["language"] == "fr"
