"""Redis state of the abuse rules: rate and flood limits, duplicate counters, text fingerprints, lists."""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass

import numpy as np
import orjson

from model_training.features import without_placeholders

from .. import clock
from . import keys, scripts
from .comments import NewComment, comment_spec
from .scripts import NEW_TEXT, ScriptKeys
from .tokens import StillValid

SIMHASH_BITS = 64
# Fingerprints this many bits apart or fewer are near duplicates. Measured on French and English pairs with
# character 5-grams: small edits land 1-8 bits apart, unrelated texts 14-30.
NEAR_DISTANCE = 7
# Multi-index lookup: a fingerprint is filed under each of its 4 blocks of 16 bits. Two fingerprints at most
# 7 bits apart differ by at most 1 bit in at least one block (4 blocks with 2 or more would make 8), so
# reading, for each block, the bucket of its own value and the 16 buckets one bit away misses none of them.
# That is 68 buckets of 65,536 per lookup: the candidates compared grow as N/964 with the N fingerprints in
# the window (8 bands of 8 bits, the earlier scheme, read N/32: 5-7 ms a submission at N = 40,000).
BLOCKS = 4
BLOCK_BITS = SIMHASH_BITS // BLOCKS
_BIT_WEIGHTS = np.uint64(1) << np.arange(SIMHASH_BITS, dtype=np.uint64)


_WORD_RE = re.compile(r"\w+")
# Each 5-gram's 8-byte hash, kept once computed; emptied when full. A comment's 5-grams are mostly ones earlier
# comments had (Zipfian words), and a dictionary lookup costs a tenth of a blake2b call. An entry is about
# 150 bytes, so the cache stays under 15 MB per worker whatever the input.
SHINGLE_CACHE_SIZE = 100_000
_shingle_hashes: dict[str, bytes] = {}


def _shingle_hash(shingle: str) -> bytes:
    digest = _shingle_hashes.get(shingle)
    if digest is None:
        digest = hashlib.blake2b(shingle.encode(), digest_size=8).digest()
        if len(_shingle_hashes) >= SHINGLE_CACHE_SIZE:
            _shingle_hashes.clear()
        _shingle_hashes[shingle] = digest
    return digest


def simhash(text: str) -> int:
    """A 64-bit SimHash of a normalised text: similar texts get close fingerprints.

    It hashes the character 5-grams of the text's words in sorted order, with
    the model's placeholder tokens left out: the same words in another order,
    or the same words with a lookalike-letters flag, get the same fingerprint.
    Each 5-gram's hash is a big-endian 64-bit number; bit i of the
    fingerprint is set when more 5-grams have bit i set than not.
    """
    words = " ".join(sorted(_WORD_RE.findall(without_placeholders(text))))
    shingles = {words[i:i + 5] for i in range(max(1, len(words) - 4))}
    digests = np.frombuffer(b"".join(map(_shingle_hash, shingles)), dtype=np.uint8).reshape(-1, 8)
    # Bytes reversed to little-endian order, so that unpacking each byte's bits from its lowest puts bit i at column i.
    bits = np.unpackbits(digests[:, ::-1], axis=1, bitorder="little")
    votes = 2 * bits.sum(axis=0, dtype=np.int32) - len(shingles)
    return int(_BIT_WEIGHTS[votes > 0].sum())


def blocks(fingerprint: int) -> list[int]:
    """The fingerprint cut into its 16-bit blocks."""
    mask = (1 << BLOCK_BITS) - 1
    return [(fingerprint >> (BLOCK_BITS * i)) & mask for i in range(BLOCKS)]


def bucket_keys(fingerprint: int) -> tuple[list[str], list[str]]:
    """The buckets a fingerprint is filed under (one per block), and the 64 buckets one bit away from them.

    scripts.ADMIT files a new fingerprint under the first and reads both; the second reaches it as one
    space-separated argument.
    """
    own, near = [], []
    for i, value in enumerate(blocks(fingerprint)):
        own_bucket, *near_buckets = keys.simhash_blocks(i, [value] + [value ^ (1 << bit) for bit in range(BLOCK_BITS)])
        own.append(own_bucket)
        near += near_buckets
    return own, near


# How far back moderators see a commenter's other comments.
AUTHOR_WINDOW_DAYS = 7


def recent_by_author(client, records: list[dict]) -> dict[str, int]:
    """For each record, how many other comments its author sent in the last AUTHOR_WINDOW_DAYS (one round trip)."""
    since = clock.now_ms() - AUTHOR_WINDOW_DAYS * clock.DAY_MS
    pipe = client.pipeline(transaction=False)
    for record in records:
        pipe.zcount(keys.author(record["submission"].get("email", "")), since, "+inf")
    counts = pipe.execute() if records else []
    return {record["id"]: max(0, count - 1) for record, count in zip(records, counts, strict=True)}


@dataclass(frozen=True)
class Admission:
    """The outcome of admitting one submission: a limit it exceeded, or the class of its text.

    `stored` says that the comment handed to `admit` was stored with it;
    `token_refused` that the site key's StillValid check failed (nothing
    was counted or stored).
    """

    exceeded: tuple[str, str, int] | None  # (rule, subject kind, ms to wait)
    text_class: str = NEW_TEXT  # one of scripts.TEXT_CLASSES
    stored: bool = False
    token_refused: bool = False


class Admitter:
    """Rate limits per commenter IP, e-mail and site key, flood control, and duplicate counts: one round trip."""

    def __init__(self, client, *, per_ip: tuple[int, int] | None, per_email: tuple[int, int] | None,
                 per_site: tuple[int, int] | None, flood_seconds: float, duplicate_window_days: int,
                 duplicate_min_words: int, duplicate_reject_at: int = 3):
        self.rates = {"ip": per_ip, "email": per_email, "site": per_site}
        self.flood_ms = int(flood_seconds * 1000)
        self.window_ms = duplicate_window_days * clock.DAY_MS
        self.min_words = duplicate_min_words
        self.repeated_from = duplicate_reject_at - 1  # earlier copies that make a text `repeated_text`
        self._admit = client.register_script(scripts.ADMIT)

    def admit(self, *, ip: str | None, email: str, site: str | None, normalized: str,
              comment: NewComment | None = None, expire_ms: dict[str, int] | None = None,
              site_check: StillValid | None = None) -> Admission:
        """Check and count the limits; if none is exceeded, class the text and store `comment` with that class.

        `normalized` is the normalised text the duplicate detector compares;
        `expire_ms` how long a stored comment of each status is kept;
        `site_check` the site key's check, confirmed first.
        """
        subjects = {"ip": ip, "email": email, "site": site}
        script_keys = ScriptKeys()
        payload: dict = {}
        if site_check:
            payload["token"] = {"key": script_keys.add(site_check.key), "sha256": site_check.sha256}
        neighbours: list[str] = []
        limits, floods, labels = [], [], []
        for kind, rule in self.rates.items():
            if rule and subjects[kind]:
                limits.append({"key": script_keys.add(keys.rate(kind, subjects[kind])), "max": rule[0],
                               "window_s": rule[1]})
                labels.append(("rate_limited", kind))
        if self.flood_ms:
            for kind in ("ip", "email"):
                if subjects[kind]:
                    floods.append({"key": script_keys.add(keys.flood(kind, subjects[kind])), "window_ms": self.flood_ms})
                    labels.append(("flood", kind))
        if limits:
            payload["limits"] = limits
        if floods:
            payload["floods"] = floods
        if len(normalized.split()) >= self.min_words:
            fingerprint = simhash(normalized)
            own, neighbours = bucket_keys(fingerprint)
            high, low = fingerprint >> 32, fingerprint & 0xFFFFFFFF
            payload["text"] = {
                "count_key": script_keys.add(keys.duplicate(hashlib.sha1(normalized.encode()).hexdigest())),
                "own": script_keys.add_run(own), "window_ms": self.window_ms, "high": high, "low": low,
                "member": f"{high}:{low}", "max_distance": NEAR_DISTANCE, "repeated_from": self.repeated_from}
        if comment is not None:
            payload["comment"] = comment_spec(comment, script_keys.add, expire_ms=expire_ms or {})
            payload["author"] = {"key": script_keys.add(keys.author(email)), "now_ms": clock.now_ms(),
                                 "window_ms": AUTHOR_WINDOW_DAYS * clock.DAY_MS}
        if not payload:
            return Admission(None)
        position, wait_ms, text_class, stored = self._admit(
            keys=script_keys.keys, args=[orjson.dumps(payload), " ".join(neighbours)])
        if position == scripts.TOKEN_REFUSED:
            return Admission(None, token_refused=True)
        if position:
            rule, kind = labels[position - 1]
            return Admission((rule, kind, max(int(wait_ms), 0)))
        return Admission(None, text_class, bool(stored))


class ListCache:
    """The block, allow and disposable-domain lists, re-read from Redis at most every `ttl` seconds."""

    def __init__(self, client, names, ttl: float = 5.0):
        self.client = client
        self.names = tuple(names)
        self.ttl = ttl
        self._loaded_at = float("-inf")
        self._lists: dict[str, frozenset] = {}

    def get(self) -> dict[str, frozenset]:
        """Every list, from the cache when fresh (the same frozensets until the next reload)."""
        if time.monotonic() - self._loaded_at >= self.ttl:
            pipe = self.client.pipeline(transaction=False)
            for name in self.names:
                pipe.smembers(keys.abuse_list(name))
            self._lists = {name: frozenset(members) for name, members in zip(self.names, pipe.execute(), strict=True)}
            self._loaded_at = time.monotonic()
        return self._lists

    def invalidate(self) -> None:
        """Forget the cached lists; the next `get` reads Redis."""
        self._loaded_at = float("-inf")

    def replace(self, name: str, entries) -> None:
        """Replace one list's entries (takes effect on every instance within `ttl`)."""
        pipe = self.client.pipeline(transaction=True)
        pipe.delete(keys.abuse_list(name))
        if entries:
            pipe.sadd(keys.abuse_list(name), *entries)
        pipe.execute()
        self.invalidate()
