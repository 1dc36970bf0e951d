"""Measure the block-word rule against list size: one anonymous 64 KB comment, lists of 100 to 10,000 words.

Usage: .venv/bin/python benchmarks/blocklist.py [--repeat N]
Prints a Markdown table for docs/benchmarks.md. Target (issue 16): 10,000 words and a 64 KB text under 50 ms.
"""

from __future__ import annotations

import argparse
import random
import statistics
import string
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from service.moderation.rules import word_hit  # noqa: E402


def random_words(rng: random.Random, count: int) -> frozenset:
    """Distinct lower-case words and two-word phrases of 5 to 12 letters."""
    words = set()
    while len(words) < count:
        word = "".join(rng.choices(string.ascii_lowercase, k=rng.randint(5, 12)))
        words.add(word if rng.random() < 0.8 else f"{word} {word[::-1]}")
    return frozenset(words)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    rng = random.Random(7)
    # Real-looking words that never hit the list, so the whole text is scanned: the worst case.
    text = (" ".join(rng.choice(["élection", "budget", "réforme", "ministre", "Dakar", "santé", "écoles"])
                     for _ in range(12000)))[:65_000]
    print(f"| block words | first call (builds the automaton), ms | median of {args.repeat}, ms | max, ms |")
    print("|---|---|---|---|")
    for size in (100, 1_000, 10_000):
        words = random_words(rng, size)
        started = time.perf_counter()
        assert word_hit(text, words) is None
        first = (time.perf_counter() - started) * 1000
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            word_hit(text, words)
            times.append((time.perf_counter() - started) * 1000)
        print(f"| {size:,} | {first:.1f} | {statistics.median(times):.1f} | {max(times):.1f} |")


if __name__ == "__main__":
    main()
