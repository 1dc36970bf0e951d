"""Which language a comment is written in, for one comment or a batch, with py3langid's model.

py3langid walks a text's UTF-8 bytes through a finite automaton whose states
name the byte n-grams seen so far, then scores the n-gram counts with naive
Bayes. Its walk is a Python loop over every byte, which one comment takes
(py3langid's `classify`), as do batches of a few. For a larger batch
(`POST /v1/score`, training, `simulate`) the same automaton and weights are
held as numpy arrays: the state after every byte of every text is found in
six numpy steps, and the counts are scored with one sparse product with
py3langid's arithmetic (the same answers as `classify` on every text of the
corpora and on random text, tested).
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from py3langid.langid import MODEL_FILE, LanguageIdentifier

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
# Up to this many texts, a batch is cheaper one text at a time (py3langid's classify, 0.1 ms each) than in
# numpy (a fixed 0.5 ms).
_ONE_BY_ONE = 8
# A batch is walked in chunks of at most this many characters, which bounds the walk's memory: about 30 bytes
# per byte of text (a few integers), up to 4 bytes per character, so some 30 MB at most.
_CHUNK_CHARACTERS = 1 << 18


def automaton_depth(next_move: np.ndarray, row_base: np.ndarray) -> int:
    """The length of the longest byte string that names a state: how far back the automaton's state can depend.

    py3langid's automaton is an Aho-Corasick automaton over its byte
    n-grams: a state stands for the longest end of the text read so far that
    begins one of them. The shortest string leading to a state from the start
    is that name, so a breadth-first walk from the start gives every
    state's name length.
    """
    depth = np.full(len(row_base), -1, dtype=np.int64)
    depth[0], frontier, level = 0, np.zeros(1, dtype=np.int64), 0
    every_byte = np.arange(256, dtype=np.int64)
    while len(frontier):
        level += 1
        reached = np.zeros(len(row_base), dtype=bool)
        for block in range(0, len(frontier), 4096):  # a few MB at a time
            reached[next_move[(row_base[frontier[block:block + 4096]][:, None] + every_byte).ravel()]] = True
        frontier = np.flatnonzero(reached & (depth < 0))
        depth[frontier] = level
    return int(depth.max())


class _Identifier:
    """py3langid's model held as numpy arrays, to walk and score many texts at once.

    py3langid walks a text one byte at a time in a Python loop. Since a
    state depends only on the last `depth` bytes read (see automaton_depth),
    the state after every byte of every text is found instead in `depth`
    numpy steps over all the bytes at once: step k moves every position on
    by the byte k places before it, starting from `depth` places back.
    """

    def __init__(self, model: LanguageIdentifier):
        self.model = model
        self.next_move = np.frombuffer(model.tk_nextmove, dtype=np.uint32)  # a view: py3langid's 39 MB, not a copy
        self.row_base = np.asarray(model.tk_row, dtype=np.int64) << 8
        self.depth = automaton_depth(self.next_move, self.row_base)
        self.output = np.asarray(model.tk_output, dtype=np.int64)
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
        grams, rows = self._walk(b"".join(encoded), lengths)
        counts = sp.csr_matrix((np.ones(len(grams), dtype=np.float32), (rows, grams)),
                               shape=(len(texts), len(self.output)))
        counts.sum_duplicates()
        return self._decide(counts, lengths)

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

    def _walk(self, joined: bytes, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The n-gram found at each byte of the joined texts where there is one, and the text it was found in."""
        offset = self.depth - 1  # zeros in front, so that looking back never leaves the array
        flat = np.frombuffer(bytes(offset) + joined, dtype=np.uint8)
        text_of = np.repeat(np.arange(len(lengths)), lengths)  # the text each byte belongs to
        # How far each byte is from the start of its text: a step that looks back further starts from nothing.
        into_text = np.arange(len(joined), dtype=np.int64) - (np.cumsum(lengths) - lengths)[text_of]
        state = np.zeros(len(joined), dtype=np.int64)
        for back in range(offset, -1, -1):
            state = self.next_move[self.row_base[state] + flat[offset - back:len(flat) - back]]
            if back:
                state[into_text < back] = 0
        found = self.output[state]
        hit = np.flatnonzero(found >= 0)
        return found[hit], text_of[hit]


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
def _arrays() -> _Identifier:
    return _Identifier(_identifier())


def load_identifier() -> None:
    """Load py3langid's model and the arrays texts are scored with now, not in the first request."""
    _arrays()


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
    if len(known) <= _ONE_BY_ONE:
        guesses = iter(map(_identifier().classify, known))
    else:
        guesses = (guess for chunk in _chunks(known) for guess in _arrays().classify(chunk))
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
