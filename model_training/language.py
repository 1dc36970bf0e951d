"""Which language a comment is written in, for one comment or a batch, with py3langid's model.

py3langid walks a text's UTF-8 bytes through a finite automaton whose states
name the byte n-grams seen so far, then scores the n-gram counts with naive
Bayes. That walk is a Python loop over every byte: one comment takes
py3langid's `classify`; a batch (`POST /v1/score`, training, `simulate`) walks
its texts in lockstep, one numpy step per byte position for all of them, and
scores their counts with one sparse product, with py3langid's arithmetic (the
same answers as `classify` on every text of the corpora, tested).
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from py3langid.langid import MODEL_FILE, LanguageIdentifier, visit_counts

from .features import _DIGIT_RE, clean_markup

UNDETERMINED = "und"
# A language counts as known to a model once it has seen this many training texts in it: it gets thresholds of
# its own, and the service lets the model decide comments in it.
MIN_LANGUAGE_EXAMPLES = 50
# py3langid spreads its probability over 97 languages, so short texts rarely score high: below this the text
# does not say its language ("Amine.", "lol"); "Buy cheap viagra online" is 0.27 English.
MIN_LANGUAGE_CONFIDENCE = 0.2
# What says nothing of a text's language: links, e-mail addresses, words with a digit, runs of symbols.
_NOT_LANGUAGE = (r"(?:https?://|www\.)\S+", r"\S+@\S+", r"\S*\d\S*", r"[^\w\s']+")
# The longest texts of a batch are walked one by one: the lockstep walk costs one numpy step per byte of the
# longest text it holds, which only pays while many texts are still being walked.
_WALKED_ALONE = 16
# A batch is walked in chunks of at most this many characters, which bounds the walk's memory (it holds two
# 8-byte integers per n-gram occurrence, about one per byte).
_CHUNK_CHARACTERS = 1 << 20


class _BatchIdentifier:
    """py3langid's model held as numpy arrays, to walk and score many texts at once."""

    def __init__(self, model: LanguageIdentifier):
        self.model = model
        self.next_move = np.frombuffer(model.tk_nextmove, dtype=np.uint32)
        self.row_base = [row << 8 for row in model.tk_row]
        self.row_base_array = np.asarray(self.row_base, dtype=np.int64)
        self.output = model.tk_output
        self.output_array = np.asarray(self.output, dtype=np.int64)
        self.classes = list(model.nb_classes)
        self.prior = np.asarray(model.nb_pc, dtype=np.float32)
        # A language listed twice (one column per script) adds its second column to its first, as py3langid does.
        first = {}
        self.aliases = []
        for i, language in enumerate(self.classes):
            if language in first:
                self.aliases.append((first[language], i))
            first.setdefault(language, i)

    def classify(self, texts: list[str]) -> list[tuple[str, float]]:
        """The most likely language of each text and its probability, as py3langid's `classify` answers."""
        encoded = [_encode(text) for text in texts]
        lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
        order = np.argsort(-lengths, kind="stable").tolist()
        rows, grams = self._walk_together(encoded, order[_WALKED_ALONE:])
        for i in order[:_WALKED_ALONE]:
            found = visit_counts(self.model.tk_nextmove, self.row_base, self.output, encoded[i]) or {}
            rows.append(np.full(sum(found.values()), i, dtype=np.int64))
            grams.append(np.repeat(np.fromiter(found, dtype=np.int64), list(found.values())))
        counts = sp.csr_matrix((np.ones(sum(map(len, rows)), dtype=np.float32),
                                (np.concatenate(rows), np.concatenate(grams))), shape=(len(texts), len(self.output)))
        counts.sum_duplicates()
        return self._decide(counts, lengths)

    def _walk_together(self, encoded: list[bytes], order: list[int]) -> tuple[list, list]:
        """The text and n-gram of every n-gram occurrence of encoded[i] for i in `order` (longest first)."""
        lengths = np.fromiter((len(encoded[i]) for i in order), dtype=np.int64, count=len(order))
        flat = np.frombuffer(b"".join(encoded[i] for i in order) + b"\0", dtype=np.uint8)
        starts = np.cumsum(lengths) - lengths
        texts = np.asarray(order, dtype=np.int64)
        state = np.zeros(len(order), dtype=np.int64)
        rows, grams = [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.int64)]
        active = len(order)
        for position in range(int(lengths[0]) if active else 0):
            while lengths[active - 1] <= position:
                active -= 1
            state[:active] = self.next_move[self.row_base_array[state[:active]] + flat[starts[:active] + position]]
            found = self.output_array[state[:active]]
            hit = np.flatnonzero(found >= 0)
            rows.append(texts[hit])
            grams.append(found[hit])
        return rows, grams

    def _decide(self, counts: sp.csr_matrix, lengths: np.ndarray) -> list[tuple[str, float]]:
        """Each row's language and probability from its n-gram counts, with py3langid's arithmetic."""
        # The n-grams the batch holds, in order, and each occurrence's rank among them (np.unique's answer,
        # from a mask over every n-gram the model knows rather than a sort of the occurrences).
        present = np.zeros(counts.shape[1], dtype=bool)
        present[counts.indices] = True
        used = np.flatnonzero(present)
        columns = (np.cumsum(present) - 1)[counts.indices]
        weights = sp.csr_matrix((np.log1p(counts.data), columns, counts.indptr),
                                shape=(counts.shape[0], len(used)))
        scores = np.asarray(weights @ np.asarray(self.model.nb_ptc[used], dtype=np.float32)) + self.prior
        scores[np.diff(counts.indptr) == 0] = 0.0  # no known n-gram: every language equally likely
        scores *= (1.0 / np.sqrt(np.maximum(lengths, 1))).astype(np.float32)[:, None]
        np.exp(scores - scores.max(axis=1, keepdims=True), out=scores)
        scores /= scores.sum(axis=1, keepdims=True)
        for first, second in self.aliases:
            scores[:, first] += scores[:, second]
            scores[:, second] = 0.0
        best = scores.argmax(axis=1)
        confidence = scores[np.arange(len(best)), best].tolist()
        return [(self.classes[b], c) for b, c in zip(best.tolist(), confidence, strict=True)]


def _encode(text: str) -> bytes:
    """The bytes py3langid reads: an all-capitals text lower-cased, NFC, UTF-8."""
    if text.isupper():
        text = text.lower()
    return unicodedata.normalize("NFC", text).encode("utf8", errors="surrogatepass")


@functools.cache
def _identifier() -> LanguageIdentifier:
    """py3langid's shipped model, loaded on first use (half a second) rather than at import."""
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


@functools.cache
def _batch_identifier() -> _BatchIdentifier:
    return _BatchIdentifier(_identifier())


def load_identifier() -> None:
    """Load py3langid's model and the arrays batches are scored with now, not in the first request."""
    _batch_identifier()


def _language_words(text: str) -> str | None:
    """The words of a raw comment that say its language (no links, addresses, numbers, symbols); None if too few.

    Accents and case are kept, since the identifier was trained on ordinary written text.
    """
    text = clean_markup(text)
    words = _not_language_re("://" in text or "www." in text, "@" in text, _DIGIT_RE.search(text) is not None).sub(
        " ", text)
    return words if len(list(itertools.islice(filter(str.isalpha, words), 3))) == 3 else None  # stops at the third


@functools.cache
def _not_language_re(link: bool, at: bool, digit: bool) -> re.Pattern:
    """_NOT_LANGUAGE as one pattern, without the first three alternatives a text cannot match.

    Each of those needs what most comments lack (a scheme or "www.", an "@",
    a digit); absent from the text, it can match nowhere, so leaving it out
    finds the same matches, without the engine trying it again at every
    character of every word (a third to half of the clean-up's time).
    """
    return re.compile("|".join([part for part, present in zip(_NOT_LANGUAGE, (link, at, digit, True), strict=True)
                                if present]))


def _accepted(guess: tuple[str, float] | None) -> str:
    """The language of a guess, or "und" when it is too unsure or there was too little to guess from."""
    if guess is None:
        return UNDETERMINED
    language, confidence = guess
    return UNDETERMINED if confidence < MIN_LANGUAGE_CONFIDENCE or language == "zxx" else language


def detect_language(text: str) -> str:
    """Identify the language of a raw comment with py3langid: an ISO 639-1 code, or "und" when unsure."""
    words = _language_words(text)
    return _accepted(None if words is None else _identifier().classify(words))


def detect_languages(texts: Sequence[str]) -> list[str]:
    """Identify the language of each raw comment of a batch, as `detect_language` does, but walking them together."""
    words = [_language_words(text) for text in texts]
    known = [w for w in words if w is not None]
    if len(known) <= _WALKED_ALONE:  # too few for the batch's fixed cost
        guesses = iter(map(_identifier().classify, known))
    else:
        guesses = (guess for chunk in _chunks(known) for guess in _batch_identifier().classify(chunk))
    return [_accepted(None if w is None else next(guesses)) for w in words]


def _chunks(texts: list[str]):
    """Consecutive runs of `texts` of at most _CHUNK_CHARACTERS characters each (or of one longer text)."""
    chunk, size = [], 0
    for text in texts:
        if chunk and size + len(text) > _CHUNK_CHARACTERS:
            yield chunk
            chunk, size = [], 0
        chunk.append(text)
        size += len(text)
    if chunk:
        yield chunk
