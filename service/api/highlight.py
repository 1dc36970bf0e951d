"""Mark the words that pushed a comment's score, escaping everything else."""

from __future__ import annotations

import re

from markupsafe import Markup, escape

from model_training.features import URL_TOKEN, fold_accents

# A URL (marked when the URL placeholder moved the score) or a word.
TOKEN_RE = re.compile(r"(?P<url>\b(?:https?://|www\.)[^\s<>\"']+)|\w+", re.IGNORECASE)


def _key(word: str) -> str:
    return fold_accents(word.casefold())


def highlight(text: str, features: list[dict]) -> Markup:
    """Return the text, HTML-escaped, with words of word-level features wrapped in <mark class="spam|ham">.

    Features are n-grams of the normalised text; a word is marked when it
    appears in a feature, matching case- and accent-insensitively, and URLs
    are marked when the URL placeholder is a feature.
    """
    weights: dict[str, float] = {}
    for feature in features or []:
        if feature.get("kind") != "word":
            continue
        for word in str(feature.get("feature", "")).split():
            if abs(feature["weight"]) > abs(weights.get(word, 0.0)):
                weights[word] = feature["weight"]
    out, position = [], 0
    for match in TOKEN_RE.finditer(text):
        weight = weights.get(URL_TOKEN) if match.group("url") else weights.get(_key(match.group()))
        if weight is None:
            continue
        out.append(escape(text[position:match.start()]))
        side = "spam" if weight > 0 else "ham"
        out.append(Markup('<mark class="{}">{}</mark>').format(side, match.group()))
        position = match.end()
    out.append(escape(text[position:]))
    return Markup("").join(out)
