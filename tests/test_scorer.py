"""The fast scorer equals the pipeline's predict_proba and explains itself."""

from __future__ import annotations

import numpy as np
import pytest

from model_training.data import load_corpora
from service.config import DEFAULT_MODELS_DIR
from service.moderation.model import load_model
from service.moderation.scorer import WORD_CACHE_SIZE
from tests.conftest import FRENCH_CORPUS


def test_fast_scorer_matches_predict_proba_on_thousands_of_comments(uci_data):
    model = load_model(DEFAULT_MODELS_DIR)
    corpus = load_corpora(sorted(uci_data.iterdir()) + [FRENCH_CORPUS])
    texts = corpus.texts + ["", "   ", "<b>&amp;</b>", "é" * 500, "l'été d'Aïssatou 📱 +221 77 123 45 67",
                            "w h a t s a p p m@rabout https://www.rfi.fr/x wa.me/221 bamako-hebdo.net/a"]
    expected = model.pipeline.predict_proba(np.asarray(texts, dtype=object))[:, 1]
    fast = np.array([model.scorer.score(t, explain=0).probability for t in texts])
    assert len(texts) > 7000
    assert np.max(np.abs(fast - expected)) < 1e-9


def test_contributions_explain_the_decision_value():
    model = load_model(DEFAULT_MODELS_DIR)
    score = model.scorer.score("Check out my channel http://spam.example.com and subscribe!", explain=None)
    features = score.top_features(5)
    assert features[0]["weight"] > 0
    assert {f["kind"] for f in features} <= {"word", "char"}
    assert abs(sum(c for _, _, c in score.contributions) + model.scorer.intercept - score.decision_value) < 1e-9


def test_explain_keeps_only_the_largest_contributions():
    model = load_model(DEFAULT_MODELS_DIR)
    text = "Check out my channel http://spam.example.com and subscribe! Merci beaucoup pour la vidéo"
    everything = model.scorer.score(text, explain=None).contributions
    top = model.scorer.score(text, explain=5).contributions
    assert top == sorted(everything, key=lambda c: abs(c[2]), reverse=True)[:5]
    assert model.scorer.score(text, explain=0).contributions == []


def test_the_word_cache_stays_bounded_and_changes_no_score():
    model = load_model(DEFAULT_MODELS_DIR)
    block = next(b for b in model.scorer.blocks if b.per_word)
    long_word = "subscribe" * 500  # known n-grams all along: would be a large entry
    texts = [f"{long_word} check my channel", "merci pour cet article", "merci pour cet article"]
    expected = model.pipeline.predict_proba(np.asarray(texts, dtype=object))[:, 1]
    assert [model.scorer.score(t, explain=0).probability for t in texts] == pytest.approx(expected, abs=1e-9)
    assert long_word not in block.cache and "merci" in block.cache
    for i in range(WORD_CACHE_SIZE + 10):
        model.scorer.score(f"w{i}", explain=0)
    assert len(block.cache) <= WORD_CACHE_SIZE
