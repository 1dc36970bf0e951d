"""Language identification, one comment at a time and in batches."""

from __future__ import annotations

import random
import re
from collections import Counter

import numpy as np
import pytest
from py3langid.langid import visit_counts

from model_training import language
from model_training.features import clean_markup
from model_training.language import UNDETERMINED, detect_language, detect_languages


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


def _py3langid(text: str) -> str:
    """What py3langid's own classify (its byte-by-byte walk, its float16 arithmetic) says of a comment's words."""
    words = language._language_words(text)
    return language._accepted(None if words is None else language._identifier().classify(words))


# Scripts of three-byte characters, whose two-character n-grams are the automaton's longest names (six bytes).
OTHER_SCRIPTS = ["这是中文评论，我不同意作者的观点。", "日本語の文章です。作者の意見には反対です。",
                 "한국어 문장입니다. 저자의 의견에 동의하지 않습니다.", "यह हिंदी में एक टिप्पणी है।",
                 "Это комментарий на русском языке.", "هذا تعليق باللغة العربية", "ትግርኛ ጽሑፍ እዩ", "Ελληνικά σχόλια εδώ"]


def _random_texts(count: int) -> list[str]:
    """Texts of random characters from many scripts, combining marks and emoji included, and of random bytes."""
    rng = random.Random(17)
    alphabet = ("abcdeéèàçñüößøæœ ABCÉ 漢字한국어 русский عربية ελληνικά हिन्दी ትግርኛ 😂👍🏾 ' - . \u0301\u200b"
                + "".join(map(chr, range(0x80, 0x250))))
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 120))) for _ in range(count)]
    return texts + [bytes(rng.randrange(256) for _ in range(60)).decode("latin-1") for _ in range(count // 4)]


def test_the_walk_finds_the_n_grams_py3langid_finds(corpus_texts):
    """Each text's n-gram counts from the six-step walk over a whole batch are those of py3langid's byte loop."""
    identifier, arrays = language._identifier(), language._arrays()
    texts = [*corpus_texts, *OTHER_SCRIPTS, *_random_texts(1000), "", "a"]
    encoded = [language._encode(text) for text in texts]
    grams, rows = arrays._walk(b"".join(encoded), np.array([len(e) for e in encoded]))
    found = [Counter() for _ in texts]
    for row, gram in zip(rows.tolist(), grams.tolist(), strict=True):
        found[row][gram] += 1
    for text, walked, one in zip(texts, found, encoded, strict=True):
        assert walked == (visit_counts(identifier.tk_nextmove, identifier._rowbase, identifier.tk_output, one) or {}), text


def test_one_comment_and_a_batch_get_what_py3langid_says(corpus_texts):
    """A batch (the numpy walk and scoring) answers what py3langid's classify answers, and so does one comment:
    every corpus text, odd ones, other scripts and random ones."""
    texts = list(corpus_texts)
    texts += ["", "lol", "TOUT EN CAPITALES, C'EST UN CRI", "x" * 5000, "Merci " * 800, "é" * 3, "Ça va ?"]
    texts += OTHER_SCRIPTS + _random_texts(2000)
    expected = [_py3langid(text) for text in texts]
    assert detect_languages(texts) == expected
    assert [detect_language(text) for text in texts] == expected
    assert {"en", "fr", UNDETERMINED} <= set(expected)


def test_the_automaton_forgets_what_it_read_more_than_depth_bytes_ago(corpus_texts):
    """What the six-step walk relies on: from any state, the last `depth` bytes alone decide where the walk ends."""
    arrays = language._arrays()
    assert 4 <= arrays.depth <= 8  # byte n-grams of a few characters
    # Every run of `depth` bytes of a thousand corpus texts (the n-grams a real text walks through), and random bytes.
    data = np.frombuffer(" ".join(sorted(corpus_texts)[:1000] + OTHER_SCRIPTS).encode(), dtype=np.uint8)
    windows = np.lib.stride_tricks.sliding_window_view(data, arrays.depth)
    # Start from the state each window follows along those texts (what a real text does), and from random states.
    met, state = [], 0
    for byte in data.tolist():
        state = int(arrays.next_move[arrays.row_base[state] + byte])
        met.append(state)
    rng = np.random.default_rng(3)
    tails = np.concatenate([windows, rng.integers(0, 256, (20_000, arrays.depth))])
    starts = np.concatenate([[0] + met[:len(windows) - 1], rng.integers(0, len(arrays.row_base), 20_000)])
    from_anywhere, from_start = starts, np.zeros(len(starts), dtype=np.int64)
    for column in tails.T:
        from_anywhere = arrays.next_move[arrays.row_base[from_anywhere] + column]
        from_start = arrays.next_move[arrays.row_base[from_start] + column]
    assert np.array_equal(from_anywhere, from_start)


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


@pytest.mark.parametrize("size", [0, 1, language._ONE_BY_ONE, language._ONE_BY_ONE + 1, 48])
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
