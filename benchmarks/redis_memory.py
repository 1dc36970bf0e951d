"""Redis memory per stored comment, measured by submitting comments through the real app.

Usage: .venv/bin/python benchmarks/redis_memory.py [--comments N]
Starts a throw-away redis-server, submits N varied comments (French and English, with the usual fields), and
prints used_memory per comment, split by status, for the capacity arithmetic in docs/operations.md.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from throwaway import throwaway_redis  # noqa: E402

from service import create_app  # noqa: E402

TEXTS = [
    "Merci pour cet article très clair sur la réforme foncière et ses enjeux pour les villages du Sine-Saloum.",
    "Je ne suis pas d'accord avec l'auteur : la hausse du prix du riz touche d'abord les ménages ruraux, "
    "et les subventions annoncées n'arriveront pas avant la soudure.",
    "Check out my channel and subscribe for free gift cards every day http://gift.example.com",
    "I think the minister is right about the budget, but the schools in the regions need more teachers now.",
    "Les Lions ont bien joué mais l'arbitrage était vraiment scandaleux en deuxième mi-temps, surtout le penalty.",
]


WORDS = ("marché budget école santé route pluie récolte élection football musique jeunesse emploi quartier "
         "village ministre député mairie hôpital transport pêche riz mil arachide coton fleuve plage").split()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--comments", type=int, default=20000)
    args = parser.parse_args()
    with throwaway_redis() as (redis, data_dir):
        app = create_app({"redis_url": redis.url, "embedded_redis": False, "data_dir": data_dir,
                          "log_level": "WARNING", "flood_seconds": 0, "rate_limit_ip": None,
                          "rate_limit_email": None, "run_deliverer": False})
        client = app.test_client()
        store = app.extensions["moderation"].redis
        store.flushdb()
        base = store.info("memory")["used_memory"]
        rng = random.Random(0)
        for i in range(args.comments):
            n = rng.randrange(10**9)
            client.post("/v1/comments", json={
                "name": f"Lecteur {n}", "email": f"lecteur{n}@exemple.sn", "ip": f"196.{n % 250}.{n // 250 % 250}.{n % 200 + 1}",
                "user_agent": "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/120 Mobile Safari/537.36",
                "article_url": f"https://journal.example.sn/articles/{n % 500}", "lang": "fr",
                # random words keep texts distinct (a number alone would become the phone placeholder)
                "text": f"{TEXTS[i % len(TEXTS)]} {' '.join(rng.sample(WORDS, 4))}"})
        used = store.info("memory")["used_memory"] - base
        statuses = {s: store.zcard(f"mod:status:{s}") for s in ("approved", "pending", "rejected")}
        per_comment = used / args.comments
        print(f"## Redis memory per comment\n\nCommand: `.venv/bin/python benchmarks/redis_memory.py "
              f"--comments {args.comments}`. {args.comments:,} distinct comments of 90-230 characters with name, e-mail, "
              f"IP, user agent, article and language, through the real app (record, history, indexes, queue, "
              f"duplicate fingerprints).\n")
        print("| measurement | value |\n|---|---|")
        print(f"| statuses | {statuses['approved']:,} approved, {statuses['pending']:,} pending, "
              f"{statuses['rejected']:,} rejected |")
        print(f"| Redis `used_memory` added | {used / 2**20:,.1f} MiB |")
        print(f"| per comment | {per_comment / 1024:.2f} KiB |")
        print(f"| per million comments | {per_comment * 1e6 / 2**30:.2f} GiB |")


if __name__ == "__main__":
    main()
