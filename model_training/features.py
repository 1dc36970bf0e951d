"""Text normalisation and the scikit-learn pipeline, shared by training and serving.

Everything a pickled pipeline refers to must be importable by the service, so
this module depends only on runtime dependencies of the service (scikit-learn,
and for links, numbers and lookalike letters tldextract, phonenumbers and
confusable-homoglyphs, all with their data in their wheels), and holds only
module-level functions (lambdas do not pickle).
"""

from __future__ import annotations

import functools
import html
import re
import unicodedata

import numpy as np
import phonenumbers
import tldextract
from confusable_homoglyphs import confusables
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import FunctionTransformer

from .domains import TRUSTED_DOMAINS

# Bump whenever normalize_text or build_pipeline changes what features a text
# gets: pickled pipelines call this module's current code, so a model trained
# under another version would silently see different features. The service
# refuses such a model.
FEATURES_VERSION = 3

# Placeholders are plain words with an "x" suffix that keeps them apart from real
# words. Only the word analyzer sees them (see without_placeholders).
URL_TOKEN = "urlx"  # a link to any other site, followed by the words of its registrable domain
SOURCE_TOKEN = "sourcex"  # a link to a trusted news outlet or institution
MESSENGER_TOKEN = "chatlinkx"  # a WhatsApp / Telegram / Messenger link: a private contact channel
EMAIL_TOKEN = "emailx"
PHONE_TOKEN = "phonex"
MIXED_SCRIPT_TOKEN = "mixscriptx"  # a word mixing Latin letters with lookalikes from other scripts ("pаypal")
SIGNAL_TOKENS = frozenset({URL_TOKEN, SOURCE_TOKEN, MESSENGER_TOKEN, EMAIL_TOKEN, PHONE_TOKEN, MIXED_SCRIPT_TOKEN})

# Registrable domains read through the public suffix list bundled with tldextract: no network, ever.
_DOMAINS = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)
MESSENGER_DOMAINS = frozenset({"wa.me", "whatsapp.com", "t.me", "telegram.me", "telegram.org", "m.me", "viber.com"})
# How many phone-number candidates of up to MAX_CACHED_PHONE characters is_phone_number remembers (2 MB at most).
PHONE_CACHE_SIZE = 20_000
MAX_CACHED_PHONE = 32
# Where a number written without a country code is most likely from: the first customer's readers.
PHONE_REGIONS = ("SN", "CI", "ML", "BF", "NE", "GN", "BJ", "TG", "CM", "CD", "CG", "GA", "FR", "BE", "CA", "US", "GB")


_HREF_RE = re.compile(r"""<a\s[^>]*?href\s*=\s*["']?([^"'\s>]+)[^>]*>""", re.IGNORECASE)
_TAG_RE = re.compile(r"<[^>]{0,500}>")
# Zero-width characters, BOM, soft hyphen, word joiners and bidi controls:
# invisible, and used to split words past filters.
_INVISIBLE_RE = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
_APOSTROPHES_RE = re.compile("[\u2018\u2019\u02bc\u00b4`]")
# A scheme or www. link, or a bare host name whose ending tldextract must confirm is a public suffix.
_LINK_RE = re.compile(
    r"(?:\b(?:https?://|www\.)(?P<host>[\w.-]+\.[\w-]+)|(?<![\w@.-])(?P<bare>(?:[\w-]+\.)+[a-z][\w-]{1,}))"
    r"(?::\d+)?(?P<rest>[/?#]\S*)?",
    re.IGNORECASE,
)
# What every match of _LINK_RE holds (a dot followed by a host's character), for a quick first look.
_LINK_HINT_RE = re.compile(r"\.[\w-]")
_EMAIL_RE = re.compile(r"\b[\w.%+-]+@[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}\b")
_PHONE_RE = re.compile(r"(?<![\w+])(?:\+|00)?\d(?:[\s.-]?\d){6,}(?!\w)")
# Digit runs that are amounts, years or dates, however many digits: "3 000 000", "1945-2024", "12.05.2024".
_NOT_PHONE_RE = re.compile(r"\d{1,3}(?:[ .,]\d{3})+|(?:19|20)\d\d\s?[-/]\s?(?:19|20)\d\d|\d{1,2}[./-]\d{1,2}[./-]\d{2,4}")
# Letters spelt out one by one to get past filters: "w h a t s a p p", "c.o.n.t.a.c.t".
_SPACED_LETTERS_RE = re.compile(r"(?<!\w)(?:[a-z][ .*_-]){3,}[a-z](?!\w)")
# Unicode's confusables (UTS #39 data, as shipped by confusable_homoglyphs): a character that looks like one
# ASCII letter or digit -> that character, for the words that mix it with ASCII letters.
_CONFUSABLES = {
    ord(ch): targets[0].lower()
    for ch, glyphs in confusables.confusables_data.items()
    if len(ch) == 1 and not ch.isascii()
    for targets in [[g["c"] for g in glyphs if len(g["c"]) == 1 and g["c"].isascii() and g["c"].isalnum()]]
    if targets
}
_WORD_RE = re.compile(r"\w+")
# Digits and symbols standing for letters inside a word: "v1agra", "m@rabout", "c0ntact".
_LEET = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"}
_LEET_HINT_RE = re.compile(r"[013457@$]")
_LEET_RE = re.compile(r"(?<=[a-z])[013457@$](?=[a-z])")
# French elided articles and pronouns: "l'article", "qu'il", "jusqu'à".
_ELISION_RE = re.compile(r"\b(?:l|d|j|m|t|s|n|c|qu|jusqu|lorsqu|puisqu|quoiqu)'(?=\w)")
_DIGIT_RE = re.compile(r"\d")
_REPEAT_RE = re.compile(r"(\w)\1{3,}")


def registrable_domain(host: str) -> str:
    """Return the registrable domain of a host ("news.bbc.co.uk" -> "bbc.co.uk"), or "" if it has no public suffix."""
    parts = _DOMAINS(host.lower().strip("."))
    return f"{parts.domain}.{parts.suffix}" if parts.domain and parts.suffix else ""


def _link_domain(match: re.Match) -> str:
    """The domain a link stands for: its registrable domain, or for a scheme/www link with none (an IP address,
    a reserved name) the host itself; "" when a bare word.word is no link at all ("m.sall", "etc.etc")."""
    if match.group("host"):
        host = match.group("host").lower().removeprefix("www.").strip(".")
        return registrable_domain(host) or host
    return registrable_domain(match.group("bare"))


def is_listed(domain: str, domains) -> bool:
    """Say whether a registrable domain, or any domain it ends with, is in the list."""
    labels = domain.split(".")
    return any(".".join(labels[i:]) in domains for i in range(len(labels) - 1))


def link_tokens(domain: str, trusted=TRUSTED_DOMAINS) -> str:
    """The tokens a link to a (registrable) domain becomes."""
    if is_listed(domain, MESSENGER_DOMAINS):
        return MESSENGER_TOKEN
    if is_listed(domain, trusted):
        return SOURCE_TOKEN
    # The domain's words ("casino lion dor bet") carry meaning that a glued token would hide.
    return f"{URL_TOKEN} {re.sub(r'[^0-9a-z]+', ' ', domain)}"


def link_hosts(text: str) -> list[str]:
    """The host of every link in a raw text, in order: what normalize_text turns into link tokens."""
    hosts = []
    text = fold_accents(clean_markup(text).casefold())
    if not _LINK_HINT_RE.search(text):
        return []
    for match in _LINK_RE.finditer(_EMAIL_RE.sub(" ", text) if "@" in text else text):
        if _link_domain(match):
            hosts.append((match.group("host") or match.group("bare")).lower().removeprefix("www.").strip("."))
    return hosts


def _replace_link(match: re.Match, trusted, keep_links: bool) -> str:
    domain = _link_domain(match)
    if not domain:  # "m.sall", "etc.etc": not a link, leave the words to the model
        return match.group(0)
    tokens = link_tokens(domain, trusted)
    if not keep_links and tokens.startswith(URL_TOKEN):
        return " "
    return f" {tokens} "


def is_phone_number(candidate: str) -> bool:
    """Say whether a run of digits is a phone number (international, or possible in one of PHONE_REGIONS).

    Answers are remembered for candidates of a phone number's length: a
    number that is in no region costs one parse per region (0.3 ms), and a
    spam campaign repeats its numbers.
    """
    return _is_phone_number(candidate) if len(candidate) > MAX_CACHED_PHONE else _remembered_phone(candidate)


@functools.lru_cache(maxsize=PHONE_CACHE_SIZE)
def _remembered_phone(candidate: str) -> bool:
    return _is_phone_number(candidate)


def _is_phone_number(candidate: str) -> bool:
    if _NOT_PHONE_RE.fullmatch(candidate.strip()):
        return False
    digits = re.sub(r"\D", "", candidate)
    if candidate.startswith("+") or digits.startswith("00"):
        candidate = "+" + digits.removeprefix("00")
    for region in PHONE_REGIONS:
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_possible_number(number):
            return True
    return False


def fold_confusables(text: str) -> tuple[str, bool]:
    """Spell lookalike letters in words that also have ASCII letters as those letters: "pаypаl" -> "paypal".

    Returns the text and whether a word mixed in letters of another script.
    Words wholly in another script (Russian, Greek) are left alone.
    """
    if text.isascii():
        return text, False
    mixed = False

    def fold_word(match: re.Match) -> str:
        nonlocal mixed
        word = match.group()
        if word.isascii() or not any(ch.isascii() and ch.isalpha() for ch in word):
            return word
        folded = word.translate(_CONFUSABLES)
        if folded != word:
            mixed = mixed or any(not ch.isascii() and not unicodedata.name(ch, "").startswith("LATIN")
                                 for ch in word if ord(ch) in _CONFUSABLES)
        return folded

    return _WORD_RE.sub(fold_word, text), mixed


def _replace_phone(match: re.Match) -> str:
    return f" {PHONE_TOKEN} " if is_phone_number(match.group()) else match.group()


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


def clean_markup(text: str) -> str:
    """Unescape and strip HTML (keeping link targets), NFKC-normalise, drop invisible characters, unify apostrophes."""
    text = html.unescape(text)
    if "<" in text:  # what every tag holds
        text = _HREF_RE.sub(r" \1 ", text)
        text = _TAG_RE.sub(" ", text)
    text = html.unescape(text)  # double-escaped entities such as "&amp;#39;"
    if text.isascii():  # NFKC leaves ASCII as it is; the invisible characters and curly apostrophes are not ASCII
        return text.replace("`", "'")
    text = unicodedata.normalize("NFKC", text)
    text = _INVISIBLE_RE.sub("", text)
    return _APOSTROPHES_RE.sub("'", text)


def normalize_text(text: str, *, trusted=TRUSTED_DOMAINS, keep_links: bool = True) -> str:
    """Return the canonical form of a comment that every feature is computed on.

    On top of `clean_markup`: lower-cased, accent-folded, lookalike letters
    of other scripts inside Latin words spelt as Latin (with a
    `mixscriptx` token when any were); links become
    `sourcex` (a trusted outlet in `trusted`), `chatlinkx` (a messenger) or
    `urlx` and the words of their registrable domain; e-mail addresses and
    phone numbers become placeholders (other numbers stay); letters spelt
    out one by one and leet inside words are joined back; French elisions
    are removed and letters repeated more than three times are shortened.
    With `keep_links` false, `urlx` links are dropped: what the text says on its own.
    """
    text, mixed_script = fold_confusables(fold_accents(clean_markup(text).casefold()))
    # Each pattern runs only on texts holding what any of its matches must hold, which most texts lack.
    if "@" in text:
        text = _EMAIL_RE.sub(f" {EMAIL_TOKEN} ", text)
    if _LINK_HINT_RE.search(text):
        text = _LINK_RE.sub(lambda m: _replace_link(m, trusted, keep_links), text)
    if _DIGIT_RE.search(text):
        text = _PHONE_RE.sub(_replace_phone, text)
    text = _SPACED_LETTERS_RE.sub(lambda m: re.sub(r"[ .*_-]", "", m.group()), text)
    if _LEET_HINT_RE.search(text):
        text = _LEET_RE.sub(lambda m: _LEET[m.group()], text)
    if "'" in text:
        text = _ELISION_RE.sub("", text)
    text = _REPEAT_RE.sub(r"\1\1\1", text)
    if mixed_script:
        text += f" {MIXED_SCRIPT_TOKEN}"
    return " ".join(text.split())  # str.split's whitespace is re's \s: the same characters


_SENTENCE_END_RE = re.compile(r"(?<=[.!?])\s+")
# Tails a text has at most: from its 2nd to its 9th sentence on. Each tail is scored, so without a bound a text
# of many short sentences ("Oui. Oui. Oui. ...", 1,000 in 5,000 characters) would cost as many scorings as it
# has sentences; 99.5 % of the corpora's comments have no more than 8 tails.
MAX_TAILS = 8


def sentence_tails(normalized: str) -> list[str]:
    """A normalised text from its second sentence on, from its third on, and so on (empty for one sentence),
    up to MAX_TAILS of them.

    Spam often opens with a sentence about the article and makes its offer
    after it; scored whole, the opening dilutes the offer. A comment is
    approved only when none of these tails reads as spam either (see
    `model_training.evaluate.policy_outcome`). Sentences end at `.`, `!`
    or `?` followed by a space, which normalisation keeps.
    """
    sentences = _SENTENCE_END_RE.split(normalized, maxsplit=MAX_TAILS)
    return [" ".join(sentences[k:]) for k in range(1, len(sentences))]


_PLACEHOLDERS_RE = re.compile(rf"(?<!\S)(?:{'|'.join(sorted(SIGNAL_TOKENS))})(?!\S)")


def without_placeholders(normalized: str) -> str:
    """A normalised text minus its placeholder tokens: what the character n-grams are taken from.

    Placeholders are word features only; as characters they would share
    n-grams with each other ("x ") and with real words ("deux", "prix").
    """
    return _PLACEHOLDERS_RE.sub(" ", normalized)


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
        preprocessor=without_placeholders,
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
