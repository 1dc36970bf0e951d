"""The cost of one submission inside the app, without HTTP: wall time per POST /v1/comments and Redis time.

Usage: .venv/bin/python benchmarks/submission.py [--texts distinct|templated] [--rounds 5] [--per-round 400]

Starts a throw-away redis-server and the real app (Flask test client: validation, normalisation, scoring,
rules, the admission script, the response), warms it up, then times rounds of submissions and prints the
median time per submission and the Redis time per script call (`INFO commandstats`), as Markdown.
`distinct` texts are 14 random words each (every one new); `templated` ones differ by one word, so nearly
every one is a near duplicate of an earlier one (the duplicate rules' path).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from throwaway import NO_LIMITS, benchmark_app, throwaway_redis  # noqa: E402

WORDS = ("marché budget école santé route pluie récolte élection football musique jeunesse emploi quartier "
         "village ministre député mairie hôpital transport pêche riz mil arachide coton fleuve plage").split()


def body(rng: random.Random, texts: str, i: int) -> dict:
    if texts == "templated":
        text = f"Merci pour cet article sur la saison des pluies et le marché {rng.choice(WORDS)}"
    else:
        text = " ".join(rng.sample(WORDS, 14))
    return {"name": "Lecteur", "email": f"l{i}@exemple.sn", "text": text}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--texts", choices=("distinct", "templated"), default="distinct")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--per-round", type=int, default=400)
    args = parser.parse_args()
    rng = random.Random(0)
    with throwaway_redis() as (redis, data_dir):
        app = benchmark_app(redis, data_dir, **NO_LIMITS)
        client = app.test_client()
        store = app.extensions["moderation"].redis
        for i in range(300):
            client.post("/v1/comments", json=body(rng, args.texts, i))
        store.config_resetstat()
        rounds = []
        for _ in range(args.rounds):
            start = time.perf_counter()
            for i in range(args.per_round):
                client.post("/v1/comments", json=body(rng, args.texts, i))
            rounds.append((time.perf_counter() - start) / args.per_round * 1e6)
        scripts = store.info("commandstats").get("cmdstat_evalsha", {})
        submissions = args.rounds * args.per_round
        print(f"| {args.texts} | {statistics.median(rounds):,.0f} µs ({', '.join(f'{r:,.0f}' for r in rounds)}) "
              f"| {scripts.get('calls', 0) / submissions:.2f} | {scripts.get('usec_per_call', 0):,.0f} µs |")


if __name__ == "__main__":
    main()
