"""Redis state of the abuse rules: rate and flood limits, duplicate counters, text fingerprints, lists."""

from __future__ import annotations

import hashlib
import time

from . import keys, scripts

SIMHASH_BITS = 64
BANDS = 8
BAND_BITS = SIMHASH_BITS // BANDS
# Fingerprints this many bits apart or fewer are near duplicates. Measured on French and English pairs with
# character 5-grams: small edits land 1-8 bits apart, unrelated texts 14-30. With 8 bands of 8 bits, two
# fingerprints within 7 bits always share a band (pigeonhole), so the band lookup misses none of them.
NEAR_DISTANCE = BANDS - 1


def simhash(text: str) -> int:
    """A 64-bit SimHash of a normalised text's character 5-grams: similar texts get close fingerprints."""
    shingles = [text[i:i + 5] for i in range(max(1, len(text) - 4))]
    weights = [0] * SIMHASH_BITS
    for shingle in shingles:
        h = int.from_bytes(hashlib.blake2b(shingle.encode(), digest_size=8).digest(), "big")
        for bit in range(SIMHASH_BITS):
            weights[bit] += 1 if h >> bit & 1 else -1
    return sum(1 << bit for bit in range(SIMHASH_BITS) if weights[bit] > 0)


def bands(fingerprint: int) -> list[int]:
    """The fingerprint cut into 8-bit bands; near duplicates share at least one band."""
    mask = (1 << BAND_BITS) - 1
    return [(fingerprint >> (BAND_BITS * i)) & mask for i in range(BANDS)]


class Limits:
    """Rate limits per commenter IP, e-mail and site key, and flood control per IP and e-mail."""

    def __init__(self, client, *, per_ip: tuple[int, int] | None, per_email: tuple[int, int] | None,
                 per_site: tuple[int, int] | None, flood_seconds: float):
        self.client = client
        self.rates = {"ip": per_ip, "email": per_email, "site": per_site}
        self.flood_ms = int(flood_seconds * 1000)
        self._check = client.register_script(scripts.CHECK_LIMITS)

    def check(self, *, ip: str | None, email: str, site: str | None) -> tuple[str, str, int] | None:
        """Count this submission; return (rule, subject kind, ms to wait) if a limit is exceeded, else None."""
        subjects = {"ip": ip, "email": email, "site": site}
        rate_keys, args, labels = [], [], []
        for kind, rule in self.rates.items():
            if rule and subjects[kind]:
                rate_keys.append(keys.rate(kind, subjects[kind]))
                args += [rule[0], rule[1]]
                labels.append(("rate_limited", kind))
        flood_keys = []
        if self.flood_ms:
            for kind in ("ip", "email"):
                if subjects[kind]:
                    flood_keys.append(keys.flood(kind, subjects[kind]))
                    labels.append(("flood", kind))
        if not rate_keys and not flood_keys:
            return None
        index, wait_ms = self._check(keys=rate_keys + flood_keys, args=[len(rate_keys), *args, self.flood_ms])
        if index == 0:
            return None
        rule, kind = labels[index - 1]
        return rule, kind, max(int(wait_ms), 0)


def text_signals(client, normalized: str, *, window_days: int, min_words: int) -> tuple[int, int]:
    """Count earlier submissions of this text and of near-identical ones, and record this one; one round trip."""
    tokens = normalized.split()
    if len(tokens) < min_words:
        return 0, 0
    digest = hashlib.sha1(normalized.encode()).hexdigest()
    fingerprint = simhash(normalized)
    window_ms = window_days * 86_400_000
    band_keys = [keys.simhash_band(i, b) for i, b in enumerate(bands(fingerprint))]
    pipe = client.pipeline(transaction=False)
    pipe.incr(keys.duplicate(digest))
    pipe.pexpire(keys.duplicate(digest), window_ms)
    for key in band_keys:
        pipe.smembers(key)
    for key in band_keys:
        pipe.sadd(key, f"{fingerprint:016x}")
        pipe.pexpire(key, window_ms)
    replies = pipe.execute()
    duplicates = replies[0] - 1
    candidates = set().union(*replies[2:2 + BANDS])
    near = sum(1 for c in candidates if 0 < bin(int(c, 16) ^ fingerprint).count("1") <= NEAR_DISTANCE)
    return duplicates, near


class ListCache:
    """The block, allow and disposable-domain lists, re-read from Redis at most every `ttl` seconds."""

    def __init__(self, client, names, ttl: float = 5.0):
        self.client = client
        self.names = tuple(names)
        self.ttl = ttl
        self._loaded_at = float("-inf")
        self._lists: dict[str, set] = {}

    def get(self) -> dict[str, set]:
        """Every list, from the cache when fresh."""
        if time.monotonic() - self._loaded_at >= self.ttl:
            pipe = self.client.pipeline(transaction=False)
            for name in self.names:
                pipe.smembers(keys.abuse_list(name))
            self._lists = dict(zip(self.names, pipe.execute()))
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
