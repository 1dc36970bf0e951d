"""Admission cost as text fingerprints accumulate: the rate limits and the duplicate and near-duplicate search.

Usage: .venv/bin/python benchmarks/admission.py [--fingerprints 40000]

Starts a throw-away redis-server and admits distinct texts one after another through the service's
Admitter (rate limits on, as in production). Every text is new: random 14-word sentences drawn from the
words of tests/data/french_ham.txt. Prints the median and p99 time of one admission (client and Redis)
after each checkpoint, and Redis's own time running the script over the same admissions (INFO
commandstats), as Markdown. Every fingerprint stays for the whole duplicate window (7 days), so a site's
weekly comment count is the number to read the table at.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from throwaway import throwaway_redis  # noqa: E402

from model_training.features import normalize_text  # noqa: E402
from service.storage.abuse import Admitter  # noqa: E402
from service.storage.client import connect  # noqa: E402

CHECKPOINTS = (1_000, 10_000, 40_000, 80_000, 160_000, 320_000)
SAMPLE = 500  # admissions timed just before each checkpoint


def vocabulary() -> list[str]:
    text = (ROOT / "tests" / "data" / "french_ham.txt").read_text(encoding="utf-8")
    return sorted(set(re.findall(r"\w{3,}", text.lower())))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fingerprints", type=int, default=40_000)
    args = parser.parse_args()
    words = vocabulary()
    rng = random.Random(0)
    with throwaway_redis() as (redis, _):
        client = connect(redis.url)
        admitter = Admitter(client, per_ip=(30, 600), per_email=(30, 600), per_site=(6000, 60),
                            flood_seconds=15, duplicate_window_days=7, duplicate_min_words=5)
        print(f"## Admission cost vs fingerprints in the window\n\nCommand: `.venv/bin/python "
              f"benchmarks/admission.py {' '.join(sys.argv[1:])}`. {len(words)} words, 14 per text.\n")
        print("| fingerprints stored | median ms | p99 ms | inside Redis, µs a call (mean) |\n|---|---|---|---|")
        timings: list[float] = []
        for i in range(args.fingerprints):
            if i + SAMPLE in CHECKPOINTS:
                client.config_resetstat()  # Redis's own time, over the same admissions as the timings below
            text = normalize_text(" ".join(rng.choice(words) for _ in range(14)))
            started = time.perf_counter()
            admission = admitter.admit(ip=f"2001:db8::{i:x}", email=f"l{i}@exemple.sn", site=None,
                                       normalized=text)
            timings.append(time.perf_counter() - started)
            if admission.exceeded:
                sys.exit(f"admission {i} was refused: {admission.exceeded}")
            if i + 1 in CHECKPOINTS:
                recent = sorted(timings[-SAMPLE:])
                inside = client.info("commandstats")["cmdstat_evalsha"]["usec_per_call"]
                print(f"| {i + 1:,} | {statistics.median(recent) * 1000:.3f} | "
                      f"{recent[int(len(recent) * 0.99) - 1] * 1000:.3f} | {inside:.0f} |", flush=True)


if __name__ == "__main__":
    main()
