"""Redis memory of a site at steady state: a daily volume of comments for N days, with time compressed.

Usage: .venv/bin/python benchmarks/redis_memory.py [--per-day 5000] [--days 40] [--day-seconds 12]

Starts a throw-away redis-server and the real app with the default settings (decided comments kept 30 days,
fingerprints 7 days, labels archived to files), and shortens the service's day (`service.clock.DAY_MS`) to
`--day-seconds`, so that every retention period and window runs in compressed time inside Redis. Each
simulated day: `--per-day` varied comments (French and English, with name, e-mail, IP, user agent, article)
go through POST /v1/comments; moderators decide every comment sent to review that day; the label exporter
archives the decisions and the retention sweep runs. Prints Redis memory at the end of each day and the
steady state, as Markdown. Memory grows linearly with the daily volume (each comment is a few KiB alive
for the retention period), so the table ends with the memory a 5,000- and a 50,000-comment site needs.
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

from service import clock  # noqa: E402
from service.storage import keys, retention  # noqa: E402
from service.storage.labels import LabelArchive, LabelExporter  # noqa: E402

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


def comment(rng: random.Random, i: int) -> dict:
    n = rng.randrange(10**9)
    return {"name": f"Lecteur {n}", "email": f"lecteur{n}@exemple.sn", "ip": f"196.{n % 250}.{n // 250 % 250}.{n % 200 + 1}",
            "user_agent": "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/120 Mobile Safari/537.36",
            "article_url": f"https://journal.example.sn/articles/{n % 500}", "lang": "fr",
            # random words keep texts distinct (a number alone would become the phone placeholder)
            "text": f"{TEXTS[i % len(TEXTS)]} {' '.join(rng.sample(WORDS, 4))}"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-day", type=int, default=5000)
    parser.add_argument("--days", type=int, default=40)
    parser.add_argument("--day-seconds", type=float, default=12.0, help="real seconds one simulated day lasts")
    args = parser.parse_args()
    clock.DAY_MS = int(args.day_seconds * 1000)  # before the app reads any retention period
    rng = random.Random(0)
    with throwaway_redis() as (redis, data_dir):
        app = benchmark_app(redis, data_dir, **NO_LIMITS, min_submit_seconds=0)
        settings = app.extensions["moderation"].settings
        queue = app.extensions["moderation"].queue
        store = app.extensions["moderation"].redis
        client = app.test_client()
        exporter = LabelExporter(store, LabelArchive(settings.labels_dir))
        base = store.info("memory")["used_memory"]
        print(f"## Redis memory at steady state\n\nCommand: `.venv/bin/python benchmarks/redis_memory.py --per-day "
              f"{args.per_day} --days {args.days} --day-seconds {args.day_seconds:g}`: {args.per_day:,} comments a day "
              f"for {args.days} days, default retention ({settings.retain_decided_days} days for decided comments, "
              f"{settings.duplicate_window_days} for fingerprints), every comment sent to review decided the same "
              f"day, labels archived to files.\n")
        print("| day | approved | pending | rejected | labels in the stream | keys | used_memory MiB | behind (s) |")
        print("|---|---|---|---|---|---|---|---|")
        start = time.monotonic()
        used = []
        for day in range(1, args.days + 1):
            for i in range(args.per_day):
                client.post("/v1/comments", json=comment(rng, i))
            while ids := queue.claim("moderator", 500):
                queue.decide_many([(cid, rng.choice(("approved", "rejected")), "") for cid in ids], "moderator")
            exporter.export_once()
            retention.sweep(store, now_ms=clock.now_ms(), keep_personal_days=settings.keep_personal_days)
            memory = store.info("memory")["used_memory"] - base
            used.append(memory)
            counts = [store.zcard(keys.by_status(s)) for s in ("approved", "pending", "rejected")]
            behind = time.monotonic() - start - day * args.day_seconds
            print(f"| {day} | {counts[0]:,} | {counts[1]:,} | {counts[2]:,} | {store.xlen(keys.label_stream()):,} "
                  f"| {store.dbsize():,} | {memory / 2**20:,.1f} | {max(behind, 0):.1f} |", flush=True)
            if behind < 0:
                time.sleep(-behind)
        steady = statistics.median(used[-5:])
        per_comment_day = steady / args.per_day
        print(f"\nSteady state (median of the last 5 days): **{steady / 2**20:,.1f} MiB** for {args.per_day:,} "
              f"comments a day, {per_comment_day / 2**10:,.1f} KiB per daily comment.\n")
        print("| comments a day | Redis memory at steady state |\n|---|---|")
        for volume in (5_000, 50_000):
            print(f"| {volume:,} | {per_comment_day * volume / 2**30:,.2f} GiB |")


if __name__ == "__main__":
    main()
