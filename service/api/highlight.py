"""Mark the words that pushed a comment's score, escaping everything else."""

from __future__ import annotations

import re

from markupsafe import Markup, escape

from model_training.features import (
    MESSENGER_TOKEN,
    SOURCE_TOKEN,
    URL_TOKEN,
    fold_accents,
    link_hosts,
    registrable_domain,
)

LINK_TOKENS = (URL_TOKEN, MESSENGER_TOKEN, SOURCE_TOKEN)

# A URL (marked when the URL placeholder moved the score) or a word.
TOKEN_RE = re.compile(r"(?P<url>\b(?:https?://|www\.)[^\s<>\"']+)|\w+", re.IGNORECASE)


def _domain(url: str) -> str:
    """The registrable domain a link leads to (`evil.example` for https://paypal.com.evil.example/login)."""
    hosts = link_hosts(url)
    return registrable_domain(hosts[0]) if hosts else ""


def _key(word: str) -> str:
    return fold_accents(word.casefold())


def highlight(text: str, words: list[dict]) -> Markup:
    """Return the text, HTML-escaped, with the words that weighed wrapped in <mark class="spam|ham">.

    `words` are whole words of the normalised text with their weights
    (moderation.explain); a word of the text is marked when its folded form
    is one of them, and links are marked when the link signal is.
    """
    weights = {w["word"]: w["weight"] for w in words or []}
    link_weight = next((weights[t] for t in LINK_TOKENS if t in weights), None)
    out, position = [], 0
    for match in TOKEN_RE.finditer(text):
        weight = link_weight if match.group("url") else weights.get(_key(match.group()))
        domain = _domain(match.group()) if match.group("url") else ""
        if weight is None and not domain:
            continue
        out.append(escape(text[position:match.start()]))
        if weight is None:
            out.append(escape(match.group()))
        else:
            side = "spam" if weight > 0 else "ham"
            out.append(Markup('<mark class="{}">{}</mark>').format(side, match.group()))
        if domain:  # where the link really goes, whatever its text makes it look like
            out.append(Markup(' <span class="domain">({})</span>').format(domain))
        position = match.end()
    out.append(escape(text[position:]))
    return Markup("").join(out)
