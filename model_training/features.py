"""Text normalisation and the scikit-learn pipeline, shared by training and serving.

Everything a pickled pipeline refers to must be importable by the service, so
this module depends on nothing but the standard library and scikit-learn, and
holds only module-level functions (lambdas do not pickle).
"""

from __future__ import annotations

import html
import re
import unicodedata

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import FunctionTransformer

# Bump whenever normalize_text or build_pipeline changes what features a text
# gets: pickled pipelines call this module's current code, so a model trained
# under another version would silently see different features. The service
# refuses such a model.
FEATURES_VERSION = 2

# Placeholders are plain words so that both the word and the character
# analyzers see them; "x" suffixes keep them apart from real words.
URL_TOKEN = "urlx"
EMAIL_TOKEN = "emailx"
PHONE_TOKEN = "phonex"

_HREF_RE = re.compile(r"""<a\s[^>]*?href\s*=\s*["']?([^"'\s>]+)[^>]*>""", re.IGNORECASE)
_TAG_RE = re.compile(r"<[^>]{0,500}>")
# Zero-width characters, BOM, soft hyphen, word joiners and bidi controls:
# invisible, and used to split words past filters.
_INVISIBLE_RE = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
_APOSTROPHES_RE = re.compile("[\u2018\u2019\u02bc\u00b4`]")
_URL_RE = re.compile(
    r"\b(?:https?://|www\.)([a-z0-9.-]+\.[a-z]{2,})(?::\d+)?\S*"
    r"|\b([a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|net|org|info|biz|fr|io|co|ly|me|tk|ru|xyz|top))\b(?:/\S*)?"
)
_EMAIL_RE = re.compile(r"\b[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}\b")
_PHONE_RE = re.compile(r"(?<!\w)\+?\d(?:[\s.-]?\d){6,}(?!\w)")
# French elided articles and pronouns: "l'article", "qu'il", "jusqu'à".
_ELISION_RE = re.compile(r"\b(?:l|d|j|m|t|s|n|c|qu|jusqu|lorsqu|puisqu|quoiqu)'(?=\w)")
_REPEAT_RE = re.compile(r"(\w)\1{3,}")
_SPACE_RE = re.compile(r"\s+")


def _domain_token(host: str) -> str:
    """Turn a host name into one word token: "www.Example.co.uk" -> "example_co_uk"."""
    host = host.lower().removeprefix("www.")
    return re.sub(r"[^a-z0-9]+", "_", host).strip("_")


def _replace_url(match: re.Match) -> str:
    host = match.group(1) or match.group(2) or ""
    return f" {URL_TOKEN} {_domain_token(host)} "


class _CombiningMarks(dict):
    """A str.translate table deleting combining marks, filled in as characters are met.

    Only code points below U+3000 (alphabetic scripts and the combining
    blocks) are remembered, so hostile text cannot grow it without bound.
    """

    def __missing__(self, codepoint: int):
        value = None if unicodedata.combining(chr(codepoint)) else codepoint
        if codepoint < 0x3000:
            self[codepoint] = value
        return value


_COMBINING_MARKS = _CombiningMarks()


def fold_accents(text: str) -> str:
    """Remove diacritics: "élève" -> "eleve", "garçon" -> "garcon"."""
    if text.isascii():
        return text
    return unicodedata.normalize("NFD", text).translate(_COMBINING_MARKS)


def normalize_text(text: str) -> str:
    """Return the canonical form of a comment that every feature is computed on.

    HTML is unescaped and stripped (link targets are kept), Unicode is NFKC
    normalised, invisible characters are dropped, the text is lower-cased and
    accent-folded, URLs, e-mail addresses and phone numbers become
    placeholders (a URL keeps its domain as a token; other numbers stay, since
    leave-one-video-out scores were better with them), French elisions are
    removed and letters repeated more than three times are shortened.
    """
    text = html.unescape(text)
    text = _HREF_RE.sub(r" \1 ", text)
    text = _TAG_RE.sub(" ", text)
    text = html.unescape(text)  # double-escaped entities such as "&amp;#39;"
    text = unicodedata.normalize("NFKC", text)
    text = _INVISIBLE_RE.sub("", text)
    text = _APOSTROPHES_RE.sub("'", text)
    text = fold_accents(text.casefold())
    text = _URL_RE.sub(_replace_url, text)
    text = _EMAIL_RE.sub(f" {EMAIL_TOKEN} ", text)
    text = _PHONE_RE.sub(f" {PHONE_TOKEN} ", text)
    text = _ELISION_RE.sub("", text)
    text = _REPEAT_RE.sub(r"\1\1\1", text)
    return _SPACE_RE.sub(" ", text).strip()


def normalize_batch(texts) -> list[str]:
    """Normalise an iterable of texts; the first step of every pipeline."""
    return [normalize_text(t) for t in texts]


WORD_TOKEN_PATTERN = r"(?u)\b\w+\b"


def build_pipeline(*, word_ngrams=(1, 2), char_ngrams=(2, 5), min_df=2, C=10.0, class_weight=None) -> Pipeline:
    """Build the unfitted spam classifier: normalise, TF-IDF words + characters, logistic regression.

    The step names (`normalize`, `features__word`, `features__char`, `clf`)
    are part of the model format: the service's fast scorer reads them.
    """
    word = TfidfVectorizer(
        analyzer="word",
        token_pattern=WORD_TOKEN_PATTERN,
        ngram_range=word_ngrams,
        lowercase=False,
        sublinear_tf=True,
        min_df=min_df,
        dtype=np.float64,
    )
    char = TfidfVectorizer(
        analyzer="char_wb",
        ngram_range=char_ngrams,
        lowercase=False,
        sublinear_tf=True,
        min_df=min_df,
        dtype=np.float64,
    )
    return Pipeline(
        [
            ("normalize", FunctionTransformer(normalize_batch)),
            ("features", FeatureUnion([("word", word), ("char", char)])),
            ("clf", LogisticRegression(C=C, class_weight=class_weight, max_iter=5000)),
        ]
    )


# Frequent function words, accent-folded as normalize_text leaves them. Only
# words that are rare in the other language are listed.
_LANGUAGE_WORDS = {
    "fr": frozenset(
        "le la les des du un une et est sont que qui pas pour dans sur avec ce cette ces il elle nous vous ils elles "
        "mais au aux ne se son sa ses leur leurs plus tout tous tres bien aussi comme merci bonjour etre avoir fait "
        "etait sans entre je tu mon ma mes ton notre votre quand donc ou alors parce cela ca deja encore toujours "
        "rien jamais faut peut chez depuis".split()
    ),
    "en": frozenset(
        "the and is are was were to of that it for with this you my not but have has be they we your what at from "
        "so just like will can all out if about would there their them he she his her our me an or do does did "
        "been who when get got please check".split()
    ),
}
_WORD_RE = re.compile(r"[a-z]+")
UNDETERMINED = "und"


def detect_language(normalized: str) -> str:
    """Guess the language of a normalised text from its function words: "fr", "en" or "und"."""
    counts = {lang: 0 for lang in _LANGUAGE_WORDS}
    for word in _WORD_RE.findall(normalized):
        for lang, words in _LANGUAGE_WORDS.items():
            if word in words:
                counts[lang] += 1
    best = max(counts, key=counts.get)
    ranked = sorted(counts.values(), reverse=True)
    if ranked[0] < 2 or ranked[0] < 2 * ranked[1]:
        return UNDETERMINED
    return best
