"""The fast scorer equals the pipeline's predict_proba and explains itself."""

from __future__ import annotations

import numpy as np
import orjson
import pytest

from model_training.data import corpus_files, load_corpora
from service.config import DEFAULT_MODELS_DIR
from service.moderation.model import load_model
from service.moderation.scorer import WORD_CACHE_SIZE, features_of, rounded
from tests.conftest import FRENCH_CORPUS


def test_fast_scorer_matches_predict_proba_on_thousands_of_comments(uci_data):
    model = load_model(DEFAULT_MODELS_DIR)
    corpus = load_corpora(corpus_files(uci_data) + [FRENCH_CORPUS])
    texts = corpus.texts + ["", "   ", "<b>&amp;</b>", "é" * 500, "l'été d'Aïssatou 📱 +221 77 123 45 67",
                            "w h a t s a p p m@rabout https://www.rfi.fr/x wa.me/221 bamako-hebdo.net/a"]
    expected = model.pipeline.predict_proba(np.asarray(texts, dtype=object))[:, 1]
    fast = np.array([model.scorer.score(t, explain=0).probability for t in texts])
    batch = np.array([s.probability for s in model.scorer.score_many(model.scorer.normalize(texts), explain=0)])
    assert len(texts) > 7000
    assert np.max(np.abs(fast - expected)) < 1e-9
    assert np.max(np.abs(batch - expected)) < 1e-9


def test_a_batch_gives_every_comment_the_score_and_explanation_it_gets_alone():
    model = load_model(DEFAULT_MODELS_DIR)
    texts = ["", "Merci pour cet article", "Check out my channel http://spam.example.com and subscribe!",
             "Gagnez 500 000 FCFA par jour, écrivez sur w h a t s a p p +221 77 123 45 67", "   ", "lol lol lol"]
    normalized = model.scorer.normalize(texts)
    for explain in (0, 3, 8, None):
        alone = [model.scorer.score(t, explain=explain, normalized=n) for t, n in zip(texts, normalized, strict=True)]
        together = model.scorer.score_many(normalized, explain=explain)
        for one, batched in zip(alone, together, strict=True):
            assert batched.decision_value == pytest.approx(one.decision_value, abs=1e-12)
            assert batched.known_share == one.known_share
            assert [(b, g) for b, g, _ in batched.contributions] == [(b, g) for b, g, _ in one.contributions]
            assert [c for _, _, c in batched.contributions] == pytest.approx([c for _, _, c in one.contributions])


def test_a_batch_of_corpus_comments_explains_each_as_alone_equal_weights_included(uci_data):
    """The n-grams of a word seen once in training often weigh exactly the same: which of them make the top
    of an explanation, and in which order, must not depend on the batch."""
    model = load_model(DEFAULT_MODELS_DIR)
    texts = load_corpora(sorted(uci_data.glob("Youtube*")) + [FRENCH_CORPUS]).texts[::5]
    normalized = model.scorer.normalize(texts)
    ties = 0
    for explain in (1, 8, 50):
        together = model.scorer.score_many(normalized, explain=explain)
        for text, batched in zip(normalized, together, strict=True):
            one = model.scorer.score("", explain=explain, normalized=text)
            assert [(b, g) for b, g, _ in batched.contributions] == [(b, g) for b, g, _ in one.contributions]
            weights = [abs(c) for _, _, c in one.contributions]
            ties += len(weights) - len(set(weights))
    assert len(texts) > 300 and ties > 0  # the case this test is about did occur


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


def test_rounding_many_floats_at_once_is_pythons_round():
    """rounded() gives round(v, digits) for every value, near-halves and exact halves included, signs and all."""
    rng = np.random.default_rng(5)
    for digits in (4, 6):
        halves = (rng.integers(-10**6, 10**6, 20_000) + 0.5) / 10.0 ** digits  # as near a half as floats get
        near = np.concatenate([np.nextafter(halves, np.inf), np.nextafter(halves, -np.inf), halves])
        exact = np.array([0.03125, -0.03125, 0.5, 2.5, 1e-4 / 2, 0.0, -0.0, 1e-300, -1e-300, 1e20, -7.0])
        values = np.concatenate([rng.uniform(-5, 5, 100_000), rng.uniform(-1e-3, 1e-3, 20_000),
                                 rng.uniform(0, 1, 20_000), near, exact, [np.nan, np.inf, -np.inf]])
        expected = [round(float(v), digits) for v in values]
        got = rounded(values, digits)
        assert orjson.dumps(got, option=orjson.OPT_SERIALIZE_NUMPY) == orjson.dumps(expected)  # -0.0 too
        assert [repr(v) for v in got] == [repr(v) for v in expected]


def test_features_of_a_batch_are_each_scores_top_features(uci_data):
    model = load_model(DEFAULT_MODELS_DIR)
    texts = load_corpora(sorted(uci_data.glob("Youtube*")) + [FRENCH_CORPUS]).texts[::3]
    scores = model.scorer.score_many(model.scorer.normalize(texts), explain=50)
    for limit in (0, 1, 8, 50):
        assert repr(features_of(scores, limit)) == repr([score.top_features(limit) for score in scores])
