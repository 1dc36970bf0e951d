"""A comment's parts: spam that opens on the article and makes its offer after it is approved only when every
sentence tail scores low too, in training (out-of-fold, thresholds) and in the service (one comment or a batch)."""

from __future__ import annotations

import numpy as np
import pytest

from model_training.artifact import load_verified, resolve_model_dir
from model_training.evaluate import OutOfFold, policy_outcome, score_texts, score_with_parts
from model_training.features import MAX_TAILS, normalize_text, sentence_tails
from model_training.train import Targets, choose_thresholds
from service.config import DEFAULT_MODELS_DIR
from service.moderation.intake import Judged, highest_parts
from service.moderation.model import load_model
from service.moderation.policy import Bounds, Thresholds, model_decision
from service.moderation.scorer import Score
from service.storage import tokens

from .test_sessions import sign_in

ENGLISH = {"word": 0.9}
# Approve-below 0.2 for one sentence, 0.1 for the highest part of several.
PARTS = Thresholds(approve_below=0.2, reject_at=0.8, approve_parts_below=0.1)
# A comment about the article, then an offer (the shape that leaks when it is scored whole).
OFFER = ("Le chômage des jeunes dont parle l'article est une réalité, il faut en parler. Gagnez 500 000 FCFA "
         "par semaine depuis chez vous! Contactez-moi sur WhatsApp au +221 77 123 45 67 pour commencer.")


@pytest.mark.parametrize(("normalized", "tails"), [
    ("bon article. merci! vraiment? oui", ["merci! vraiment? oui", "vraiment? oui", "oui"]),
    ("un seul avis, sans fin de phrase", []),
    ("il coute 3.5 millions. trop cher.", ["trop cher."]),  # no space after the point: not a sentence end
    ("fin de phrase.", []),
    ("attendez... gagnez urlx", ["gagnez urlx"]),
])
def test_sentence_tails_are_the_text_from_each_later_sentence_on(normalized, tails):
    assert sentence_tails(normalized) == tails


def test_a_text_of_many_sentences_has_at_most_max_tails_the_last_one_holding_the_rest():
    # Every tail is scored: "oui. " a thousand times must not cost a thousand scorings.
    sentences = [f"phrase {i}." for i in range(1000)]
    tails = sentence_tails(" ".join(sentences))
    assert len(tails) == MAX_TAILS
    assert tails[0] == " ".join(sentences[1:]) and tails[-1] == " ".join(sentences[MAX_TAILS:])


def decide(p, parts=None, thresholds=PARTS, **kwargs):
    return model_decision(Score(p, 0.0, known_share=ENGLISH), thresholds, parts=parts, **kwargs)


def test_one_sentence_keeps_the_whole_score_rule():
    assert decide(0.15).status == "approved"
    assert decide(0.25).status == "pending"


def test_several_sentences_are_approved_only_when_every_part_scores_below_their_own_threshold():
    approved = decide(0.03, parts=0.05)
    assert approved.status == "approved"
    assert approved.reasons == [{"code": "model_score_low", "message": "Spam probability 0.030 is below 0.100, as is "
                                 "each part of the text from a later sentence on (at most 0.050)."}]
    offer = decide(0.05, parts=0.4)
    assert offer.status == "pending"
    assert [r["code"] for r in offer.reasons] == ["model_part_score_high"]
    assert offer.reasons[0]["part_score"] == 0.4
    assert "0.050 is below 0.100" in offer.reasons[0]["message"] and "0.400" in offer.reasons[0]["message"]
    # Below the one-sentence threshold but not the parts one: review, and the message names the parts threshold.
    uncertain = decide(0.15, parts=0.15)
    assert uncertain.status == "pending"
    assert uncertain.reasons[0]["message"] == "Spam probability 0.150 is between 0.100 and 0.800."
    assert decide(0.9, parts=0.9).status == "rejected"  # rejection reads the whole text, as before


def test_a_link_alone_does_not_reject_a_text_whose_link_free_parts_all_score_low():
    assert decide(0.9, parts=0.9, without_links=0.15).status == "rejected"  # below 0.2, not below 0.1
    held = decide(0.9, parts=0.9, without_links=0.05)
    assert held.status == "pending" and held.reasons[1]["code"] == "link_only_evidence"


def test_thresholds_from_before_the_rule_judge_every_text_whole():
    old = Thresholds(approve_below=0.2, reject_at=0.8)
    assert decide(0.05, parts=0.7, thresholds=old).status == "approved"


def test_a_language_s_own_parts_threshold_applies_to_it():
    thresholds = Thresholds(approve_below=0.2, reject_at=0.8, approve_parts_below=0.1,
                            by_language={"fr": Bounds(0.2, 0.8, 0.3)})
    assert decide(0.05, parts=0.25, thresholds=thresholds, language="fr").status == "approved"
    assert decide(0.05, parts=0.25, thresholds=thresholds, language="en").status == "pending"


@pytest.fixture(scope="module")
def pipeline():
    return load_verified(resolve_model_dir(DEFAULT_MODELS_DIR))[1]


@pytest.fixture(scope="module")
def model():
    return load_model(DEFAULT_MODELS_DIR)


def test_training_and_the_service_find_the_same_highest_part(pipeline, model):
    texts = [OFFER, "Un seul avis sur le sujet", "Bon article! Merci. https://casino-lion-dor.bet gros gains"]
    normalized = [normalize_text(t) for t in texts]
    scores, parts = score_with_parts(pipeline[1:], normalized)
    assert np.isnan(parts[1]) and not np.isnan(parts[0]) and not np.isnan(parts[2])
    for text, part in zip(normalized, parts, strict=True):
        tails = sentence_tails(text)
        if tails:
            assert part == pytest.approx(max(pipeline[1:].predict_proba(tails)[:, 1]), abs=1e-12)
    judged = [Judged(text, score, 1.0) for text, score in zip(normalized, scores, strict=True)]
    found = highest_parts(model, judged)
    assert found[1] is None
    for i in (0, 2):
        assert found[i] == pytest.approx(max(scores[i], parts[i]), abs=1e-9)
    # The tails are scored only where they can change the outcome.
    assert highest_parts(model, [Judged(normalized[0], scores[0], scores[0])]) == [scores[0]]
    assert highest_parts(model, [Judged(normalized[0], scores[0], None)]) == [None]
    scored = score_texts(pipeline, texts)
    assert scored["parts"][0] == pytest.approx(parts[0]) and np.isnan(scored["parts"][1])
    assert np.isnan(scored["without_links"][0]) and not np.isnan(scored["parts_without_links"][2])


def out_of_fold(scores, parts) -> OutOfFold:
    n = len(scores)
    return OutOfFold(np.asarray(scores, float), np.full(n, np.nan), np.array(["fr"] * n), np.ones(n, bool),
                     np.asarray(parts, float))


def test_thresholds_give_texts_of_several_sentences_an_approve_below_of_their_own():
    # 100 one-sentence comments and 100 of several; among the latter, ten spam whose whole text scores like ham
    # but whose offer, read alone, does not.
    labels = np.array(([0] * 50 + [1] * 50) * 2)
    one = np.concatenate([np.linspace(0.0, 0.3, 50), np.linspace(0.5, 0.99, 50)])
    several = np.concatenate([np.linspace(0.0, 0.3, 50), np.full(10, 0.05), np.linspace(0.5, 0.99, 40)])
    tails = np.concatenate([np.linspace(0.0, 0.2, 50), np.full(10, 0.9), np.linspace(0.5, 0.99, 40)])
    oof = out_of_fold(np.concatenate([one, several]), np.concatenate([np.full(100, np.nan), tails]))
    targets = Targets(reject_precision=0.99, max_spam_approved=0.02)
    chosen = choose_thresholds(labels, oof, np.array(["site"] * 200), targets)
    assert chosen["approve_below"] <= 0.05  # on whole scores, as before: the ten offers pin it
    assert 0.3 < chosen["approve_parts_below"] <= chosen["reject_at"]  # on the highest parts, they do not
    approved, rejected = policy_outcome(oof, chosen)
    assert not (approved & (labels == 1)).any()  # the ten offers are held, though their whole text scores 0.05
    assert approved[100:150].all()  # the ham of several sentences is approved
    # Judged whole (thresholds from before the rule), the same comments are hardly approved at all.
    old, _ = policy_outcome(oof, {"approve_below": chosen["approve_below"], "reject_at": chosen["reject_at"]})
    assert old.sum() < 20 < approved.sum()


def test_without_spam_of_several_sentences_their_threshold_is_the_one_sentence_one():
    labels = np.array([0] * 50 + [1] * 50 + [0] * 20)
    scores = np.concatenate([np.linspace(0.0, 0.3, 50), np.linspace(0.5, 0.99, 50), np.linspace(0.0, 0.2, 20)])
    parts = np.concatenate([np.full(100, np.nan), np.linspace(0.0, 0.2, 20)])
    chosen = choose_thresholds(labels, out_of_fold(scores, parts), np.array(["site"] * 120), Targets())
    assert chosen["approve_parts_below"] == chosen["approve_below"]


def test_a_tail_is_held_to_the_level_of_spam_of_one_sentence():
    # Ham of several sentences whose tails score up to 0.6, spam of one sentence from 0.35: a tail scoring like
    # that spam is not approved, however low the rest of its text scores.
    labels = np.array([0] * 50 + [1] * 50)
    scores = np.concatenate([np.linspace(0.0, 0.1, 50), np.linspace(0.35, 0.99, 50)])
    parts = np.concatenate([np.linspace(0.0, 0.6, 50), np.full(50, np.nan)])
    chosen = choose_thresholds(labels, out_of_fold(scores, parts), np.array(["site"] * 100), Targets())
    assert 0.35 <= chosen["approve_parts_below"] < 0.37
    approved, _ = policy_outcome(out_of_fold(scores, parts), chosen)
    assert approved[:50].tolist() == (parts[:50] < chosen["approve_parts_below"]).tolist()


# The shipped model: its whole text reads as French ham (about 0.11, under approve-below for one sentence); its
# last sentence, an offer, does not.
LOAN_AFTER_OPENING = ("Les enseignants ont raison de réclamer leurs primes, le ministre doit répondre et payer ce qui "
                      "est dû depuis deux ans. Contactez-moi pour un prêt rapide.")
ON_TOPIC = ("Merci pour cet article très complet sur les inondations à Dakar, les autorités doivent agir vite pour "
            "les familles sinistrées. Il faut reloger les familles avant la prochaine saison des pluies.")


def test_an_offer_after_an_on_topic_opening_goes_to_review_and_says_why(client, app, redis_client):
    thresholds = app.extensions["moderation"].models.state.thresholds.for_language("fr")
    body = client.post("/v1/comments", json={"name": "A", "email": "a@exemple.sn", "text": LOAN_AFTER_OPENING}
                       ).get_json()
    assert body["score"] < thresholds.approve_below  # approved when it was judged whole
    assert body["status"] == "pending"
    part = body["reasons"][0]
    assert part["code"] == "model_part_score_high" and part["part_score"] >= thresholds.approve_parts_below
    on_topic = client.post("/v1/comments", json={"name": "B", "email": "b@exemple.sn", "text": ON_TOPIC}).get_json()
    assert on_topic["status"] == "approved"
    assert "each part of the text from a later sentence on" in on_topic["reasons"][0]["message"]
    # The review page names the reason in the moderators' language (French by default).
    sign_in(client, tokens.create(redis_client, "awa", "moderator"))
    page = client.get("/review").get_data(as_text=True)
    assert 'data-code="model_part_score_high">Semble légitime, mais une phrase plus loin ressemble à du spam<' in page


def test_a_batch_decides_texts_of_several_sentences_as_one_by_one(client, moderator):
    texts = [LOAN_AFTER_OPENING, ON_TOPIC, OFFER, "Bon article. Voir https://casino-lion-dor.bet pour gagner gros!",
             "Merci. Bonne analyse de la situation, voir aussi https://www.rfi.fr/fr/afrique pour le contexte.",
             "Un seul avis sans point final"]
    comments = [{"name": "C", "email": f"c{i}@exemple.sn", "text": text} for i, text in enumerate(texts)]
    results = client.post("/v1/score", headers=moderator, json={"comments": comments}).get_json()["results"]
    assert {"model_part_score_high"} <= {r["reasons"][0]["code"] for r in results}
    for comment, result in zip(comments, results, strict=True):
        submitted = client.post("/v1/comments", json=comment).get_json()
        assert (result["score"], result["decision"], result["reasons"]) == (
            submitted["score"], submitted["status"], submitted["reasons"])
