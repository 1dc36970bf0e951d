"""What a moderator is shown of a score: whole words that weighed, never fragments or common words."""

from __future__ import annotations

import re

import pytest

from model_training.artifact import resolve_model_dir
from model_training.features import fold_accents
from service.config import DEFAULT_MODELS_DIR
from service.moderation.explain import stop_words, weighty_words
from service.moderation.model import load_model


@pytest.fixture(scope="module")
def model():
    return load_model(resolve_model_dir(DEFAULT_MODELS_DIR))


@pytest.mark.parametrize("text", [
    "Professeur Kofi, grand voyant médium, résout tous vos problèmes de couple et de travail.",
    "Gagnez de l'argent facilement depuis chez vous, contactez-moi en privé https://bit.ly/xx",
    "Merci pour cet article et pour les chiffres de la récolte, c'est très clair.",
])
def test_only_whole_words_of_the_comment_and_no_common_words(model, text):
    words = weighty_words(model, text)
    assert words
    own = set(re.findall(r"\w+", fold_accents(text.casefold())))
    for word in words:
        assert word["signal"] or word["word"] in own, word  # a word of the text, not an n-gram fragment
        assert word["word"] not in stop_words()
    assert {"et", "de", "pour", "la", "en"}.isdisjoint(w["word"] for w in words)


def test_a_link_is_named_as_a_signal_and_the_words_follow_the_score(model):
    words = weighty_words(model, "Gagnez de l'argent facilement, contactez-moi https://bit.ly/xx")
    assert any(w["signal"] and w["word"] == "urlx" and w["weight"] > 0 for w in words)
    ham = weighty_words(model, "Merci pour cet article très clair sur la réforme foncière au Sine-Saloum.")
    assert ham and all(w["weight"] < 0 for w in ham[:3])  # what weighed most pulls a legitimate comment to ham


def test_word_weights_add_up_to_the_decision_value(model):
    for text in ("Contactez-moi sur WhatsApp pour gagner de l'argent", "Merci pour cet article très clair."):
        score = model.scorer.score(text, explain=None)
        assert sum(score.word_weights().values()) == pytest.approx(score.decision_value)
