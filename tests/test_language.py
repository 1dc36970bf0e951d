"""Language identification, one comment at a time and in batches."""

from __future__ import annotations

import re

import pytest

from model_training import language
from model_training.features import clean_markup
from model_training.language import _WALKED_ALONE, UNDETERMINED, detect_language, detect_languages


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Merci pour cet article très clair sur la réforme.", "fr"),
        ("Je ne suis pas d'accord avec l'auteur.", "fr"),
        ("Check out my channel and subscribe to it", "en"),
        ("This is the best song I have ever heard", "en"),
        ("Buy cheap viagra online", "en"),
        ("dsl mais jsuis pas d'accord, l'AES c l'avenir", "fr"),
        ("Ich bin mit dem Autor überhaupt nicht einverstanden", "de"),
        ("Amine.", "und"),
        ("", "und"),
        ("lol 😂😂", "und"),
        ("https://example.com 77 845 20 13", "und"),
    ],
)
def test_detect_language(text, language):
    assert detect_language(text) == language


def test_a_batch_gets_the_languages_its_comments_get_one_by_one(corpus_texts):
    """The lockstep walk and sparse scoring answer what py3langid's classify answers, on every corpus text."""
    texts = list(corpus_texts)
    texts += ["", "lol", "TOUT EN CAPITALES, C'EST UN CRI", "x" * 5000, "Merci " * 800]
    languages = detect_languages(texts)
    assert languages == [detect_language(text) for text in texts]
    assert {"en", "fr", UNDETERMINED} <= set(languages)


def test_the_clean_up_leaves_out_only_alternatives_a_text_cannot_match(corpus_texts):
    """Each text is cleaned as the whole pattern cleans it: the same words on every corpus text and odd ones."""
    whole = re.compile("|".join(language._NOT_LANGUAGE))
    texts = list(corpus_texts)
    texts += ["écrivez à moi@exemple.sn ou www.exemple.sn", "prix: ٣٠٠٠ francs (chiffres arabes)", "a@b@c 12@34",
              "https://x.sn/é?a=1 http:/pas-un-lien", "rien que des mots, sans rien d'autre !!!", "", "@@@ ://"]
    for text in texts:
        cleaned = clean_markup(text)
        expected = whole.sub(" ", cleaned)
        assert language._language_words(text) == (expected if sum(map(str.isalpha, expected)) >= 3 else None), text


@pytest.mark.parametrize("size", [0, 1, _WALKED_ALONE, _WALKED_ALONE + 1, 3 * _WALKED_ALONE])
def test_batches_of_any_size_keep_their_order(size):
    texts = [("Merci pour cet article très clair sur la réforme." if i % 3 else "This is the best song I have ever heard")
             + " " * i for i in range(size)]
    assert detect_languages(texts) == ["en" if i % 3 == 0 else "fr" for i in range(size)]


def test_a_large_batch_is_walked_in_chunks_with_the_same_answers(monkeypatch):
    texts = [f"{'Merci pour cet article très clair ' if i % 2 else 'Check out my new channel please '}{i}" * 3
             for i in range(200)]
    expected = detect_languages(texts)
    monkeypatch.setattr(language, "_CHUNK_CHARACTERS", 1000)
    chunks = list(language._chunks(texts))
    assert len(chunks) > 10 and [t for chunk in chunks for t in chunk] == texts
    assert max(sum(map(len, chunk)) for chunk in chunks) <= 1000
    assert detect_languages(texts) == expected == ["en" if i % 2 == 0 else "fr" for i in range(200)]
