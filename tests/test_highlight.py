"""Highlighting score-moving words without ever letting markup through."""

from __future__ import annotations

import pytest

from service.api.highlight import highlight

SPAMMY = [{"feature": "check out", "kind": "word", "weight": 1.5}, {"feature": "urlx", "kind": "word", "weight": 2.0},
          {"feature": "merci", "kind": "word", "weight": -0.4}, {"feature": "ck", "kind": "char", "weight": 0.3}]


@pytest.mark.parametrize(
    ("text", "features", "expected"),
    [
        ("Check OUT this", SPAMMY, '<mark class="spam">Check</mark> <mark class="spam">OUT</mark> this'),
        ("Mérci beaucoup", [{"feature": "merci", "kind": "word", "weight": -0.4}], '<mark class="ham">Mérci</mark> beaucoup'),
        ("see http://x.example.com/a?b=1 now", SPAMMY, 'see <mark class="spam">http://x.example.com/a?b=1</mark> now'),
        ("<script>alert(1)</script> check", SPAMMY,
         '&lt;script&gt;alert(1)&lt;/script&gt; <mark class="spam">check</mark>'),
        ('"><img src=x onerror=alert(1)>', SPAMMY, "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;"),
        ("plain text", [], "plain text"),
        ("ck ck", [{"feature": "ck", "kind": "char", "weight": 0.3}], "ck ck"),
    ],
)
def test_highlight_marks_words_and_escapes_everything_else(text, features, expected):
    assert str(highlight(text, features)) == expected


def test_markup_inside_a_url_is_escaped():
    out = str(highlight('http://x.example.com/"><b>', SPAMMY))
    assert "<b>" not in out and "&lt;b&gt;" in out
