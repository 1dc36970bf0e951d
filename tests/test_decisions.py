"""Decisions at both thresholds, from the model's metadata or the settings."""

from __future__ import annotations

import pytest

from service.app import create_app
from service.moderation.policy import MIN_KNOWN_WORD_SHARE, Thresholds, distinct, model_decision
from service.moderation.scorer import Score

LIMITS = Thresholds(approve_below=0.2, reject_at=0.8)
ENGLISH = {"word": 0.9}


@pytest.mark.parametrize(
    ("probability", "status", "code"),
    [
        (0.0, "approved", "model_score_low"),
        (0.1999, "approved", "model_score_low"),
        (0.2, "pending", "model_score_uncertain"),
        (0.7999, "pending", "model_score_uncertain"),
        (0.8, "rejected", "model_score_high"),
        (1.0, "rejected", "model_score_high"),
    ],
)
def test_thresholds_split_approve_review_reject(probability, status, code):
    decision = model_decision(Score(probability, 0.0, known_share=ENGLISH), LIMITS)
    assert decision.status == status
    assert [r["code"] for r in decision.reasons] == [code]


UNFAMILIAR = {"word": MIN_KNOWN_WORD_SHARE - 0.01}


@pytest.mark.parametrize(("probability", "first"), [(0.95, "model_score_high"), (0.5, "model_score_uncertain"),
                                                     (0.05, "model_score_low")])
def test_unfamiliar_text_is_held_for_review_whatever_its_score(probability, first):
    decision = model_decision(Score(probability, 0.0, known_share=UNFAMILIAR), LIMITS)
    assert decision.status == "pending"
    assert [r["code"] for r in decision.reasons] == [first, "unfamiliar_text"]


def test_an_unseen_language_is_held_even_when_its_words_are_known():
    decision = model_decision(Score(0.05, 0.0, known_share=ENGLISH), LIMITS, language="fr", known_languages=frozenset({"en"}))
    assert decision.status == "pending"
    assert [r["code"] for r in decision.reasons] == ["model_score_low", "unfamiliar_language"]
    assert decision.reasons[1]["language"] == "fr"
    known = model_decision(Score(0.05, 0.0, known_share=ENGLISH), LIMITS, language="fr", known_languages=frozenset({"en", "fr"}))
    assert known.status == "approved"


def test_approve_unfamiliar_lets_low_scores_approve_but_never_reject():
    lenient = Thresholds(approve_below=0.2, reject_at=0.8, approve_unfamiliar=True)
    low = model_decision(Score(0.05, 0.0, known_share=UNFAMILIAR), lenient)
    assert low.status == "approved" and [r["code"] for r in low.reasons] == ["model_score_low"]
    assert model_decision(Score(0.95, 0.0, known_share=UNFAMILIAR), lenient).status == "pending"


def test_threshold_settings_override_the_model(config, redis_client):
    texts = ["I really liked this song, great video", "What a performance by the orchestra tonight",
             "The stadium was full for the final match"]

    def text(n):  # distinct texts: repeats would trigger the duplicate rules
        return {"name": "A", "email": "a@b.fr", "text": texts[n - 1]}

    everything_rejected = create_app({**config, "approve_below": 0.0, "reject_at": 0.0}).test_client()
    assert everything_rejected.post("/v1/comments", json=text(1)).get_json()["status"] == "rejected"
    everything_approved = create_app({**config, "approve_below": 1.0, "reject_at": 1.0}).test_client()
    assert everything_approved.post("/v1/comments", json=text(2)).get_json()["status"] == "approved"
    band = create_app({**config, "approve_below": 0.0, "reject_at": 1.0}).test_client()
    assert band.post("/v1/comments", json=text(3)).get_json()["status"] == "pending"


@pytest.mark.parametrize(("values", "shown"), [
    ((0.0274751, 0.206), ["0.027", "0.206"]),
    ((0.20612, 0.20648), ["0.2061", "0.2065"]),
    ((0.2060001, 0.206), ["0.2060001", "0.2060000"]),
    ((0.915, 0.3, 0.915), ["0.915", "0.300", "0.915"]),
    ((0.5, 0.5), ["0.500", "0.500"]),
])
def test_scores_and_thresholds_are_shown_with_the_digits_that_tell_them_apart(values, shown):
    assert distinct(*values) == shown
