"""Highlighting score-moving words without ever letting markup through."""

from __future__ import annotations

import pytest

from service.api.highlight import highlight

SPAMMY = [{"word": "check", "weight": 0.8}, {"word": "out", "weight": 0.7}, {"word": "urlx", "weight": 2.0},
          {"word": "merci", "weight": -0.4}]


@pytest.mark.parametrize(
    ("text", "words", "expected"),
    [
        ("Check OUT this", SPAMMY, '<mark class="spam">Check</mark> <mark class="spam">OUT</mark> this'),
        ("Mérci beaucoup", [{"word": "merci", "weight": -0.4}], '<mark class="ham">Mérci</mark> beaucoup'),
        ("see http://x.example.com/a?b=1 now", SPAMMY,
         'see <mark class="spam">http://x.example.com/a?b=1</mark> <span class="domain">(example.com)</span> now'),
        ("log in at https://paypal.com.secure-login.net/x", [],  # a link shows where it really goes
         'log in at https://paypal.com.secure-login.net/x <span class="domain">(secure-login.net)</span>'),
        ("<script>alert(1)</script> check", SPAMMY,
         '&lt;script&gt;alert(1)&lt;/script&gt; <mark class="spam">check</mark>'),
        ('"><img src=x onerror=alert(1)>', SPAMMY, "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;"),
        ("plain text", [], "plain text"),
        ("see wa.me/221770000000", [{"word": "chatlinkx", "weight": 1.1}], "see wa.me/221770000000"),  # bare: not a URL
        ("see https://wa.me/22177", [{"word": "chatlinkx", "weight": 1.1}],
         'see <mark class="spam">https://wa.me/22177</mark> <span class="domain">(wa.me)</span>'),
    ],
)
def test_highlight_marks_words_and_escapes_everything_else(text, words, expected):
    assert str(highlight(text, words)) == expected


def test_markup_inside_a_url_is_escaped():
    out = str(highlight('http://x.example.com/"><b>', SPAMMY))
    assert "<b>" not in out and "&lt;b&gt;" in out
