"""Text normalisation and language detection shared by training and serving."""

from __future__ import annotations

import unicodedata

import pytest

from model_training.features import detect_language, fold_accents, normalize_text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Hello<br />World", "hello world"),
        ("&lt;b&gt;bold&lt;/b&gt; &amp;#39;quoted&amp;#39;", "bold 'quoted'"),
        ('see <a href="http://www.spam.example.com/x">here</a>', "see urlx spam_example_com here"),
        ("ＦＲＥＥ ｍｏｎｅｙ", "free money"),  # NFKC folds full-width letters
        ("fr\u200bee mo\ufeffney", "free money"),  # zero-width space and BOM removed
        ("c\u202eheck", "check"),  # bidi override removed
        ("Élève Garçon À Noël", "eleve garcon a noel"),
        ("visit https://bit.ly/abc?x=1 now", "visit urlx bit_ly now"),
        ("go to www.example.fr today", "go to urlx example_fr today"),
        ("mail me at jean.dupont@exemple.sn", "mail me at emailx"),
        ("call +221 77 123 45 67 or 0800123456", "call phonex or phonex"),
        ("it costs 25 euros", "it costs 25 euros"),
        ("l'article d'hier qu'il a lu jusqu'à l’aube", "article hier il a lu a aube"),
        ("freeeeeee!!!!!!!", "freee!!!!!!!"),  # letters only: squashing punctuation measured worse
        ("  many   spaces\n\tand lines ", "many spaces and lines"),
        ("", ""),
    ],
)
def test_normalize_text(raw, expected):
    assert normalize_text(raw) == expected


def test_fold_accents_keeps_letters():
    assert fold_accents("àâäéèêëîïôöùûüç") == "aaaeeeeiioouuuc"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Merci pour cet article très clair sur la réforme.", "fr"),
        ("Je ne suis pas d'accord avec l'auteur.", "fr"),
        ("Check out my channel and subscribe to it", "en"),
        ("This is the best song I have ever heard", "en"),
        ("Bravo!", "und"),
        ("", "und"),
        ("lol 😂😂", "und"),
    ],
)
def test_detect_language(text, language):
    assert detect_language(normalize_text(text)) == language


def test_fold_accents_drops_exactly_the_combining_marks_of_the_decomposition():
    def by_definition(text: str) -> str:
        return "".join(ch for ch in unicodedata.normalize("NFD", text) if not unicodedata.combining(ch))

    every_character = [chr(cp) for cp in range(0x30000) if not 0xD800 <= cp <= 0xDFFF]
    assert [fold_accents(ch) for ch in every_character] == [by_definition(ch) for ch in every_character]
    for text in ("élève garçon Ngoné Aïssatou", "e\u0301te\u0301", "Ἀθῆναι", "", "ascii only"):
        assert fold_accents(text) == by_definition(text)
