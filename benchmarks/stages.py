"""Where the time of one submission goes: each stage of POST /v1/comments timed on its own.

Usage: .venv/bin/python benchmarks/stages.py [--comments 2000] [--sweep-mb 8]

Starts a throw-away redis-server and the real app, then, for distinct French and English comments with the
usual fields, times each stage by calling the code the request runs (median µs per comment), and the whole
request through Flask's test client. The stages do not add up to the request exactly: Flask's routing,
the metrics and log hooks and the test client are the rest. `--sweep-mb N` reads N MB of memory before each
timed call, so that each stage meets the caches as it does inside a live worker (`live_stages.py`), where
the same code costs two to four times as much as back to back. Prints Markdown.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from throwaway import NO_LIMITS, benchmark_app, throwaway_redis  # noqa: E402

from model_training.features import normalize_text  # noqa: E402
from model_training.language import detect_language  # noqa: E402
from service.api.bodies import parse_json  # noqa: E402
from service.api.schemas import validate_submission  # noqa: E402
from service.moderation import intake  # noqa: E402
from service.moderation.policy import within_rules  # noqa: E402
from service.storage import comments, scripts  # noqa: E402
from service.storage.abuse import simhash  # noqa: E402
from service.storage.comments import NewComment, Outcome, comment_spec  # noqa: E402
from service.storage.scripts import ScriptKeys  # noqa: E402

WORDS = ("marché budget école santé route pluie récolte élection football musique jeunesse emploi quartier "
         "village ministre député mairie hôpital transport pêche riz mil arachide coton fleuve plage the minister "
         "schools regions teachers budget right").split()


def body(rng: random.Random, i: int) -> bytes:
    return json.dumps({"name": f"Lecteur {i}", "email": f"lecteur{i}@exemple.sn", "ip": f"196.207.{i % 250}.{i % 200 + 1}",
                       "user_agent": "Mozilla/5.0 (Linux; Android 14) Chrome/120 Mobile Safari/537.36",
                       "article_url": f"https://journal.example.sn/articles/{i % 500}", "lang": "fr",
                       "text": " ".join(rng.sample(WORDS, 14))}, ensure_ascii=False).encode()


def timer(sweep_mb: int):
    """A `timed(function, items)`: the median µs of function(item) over the items, and the results.

    With `sweep_mb`, that much memory is read before each call (untimed), as
    gunicorn, Redis, the load generator and the kernel do between two
    requests of a live worker: the stage then finds the model's tables out
    of the CPU caches, as it does there.
    """
    sweep = np.ones(sweep_mb << 20, dtype=np.uint8) if sweep_mb else None

    def timed(function, items) -> tuple[float, list]:
        times, results = [], []
        for item in items:
            if sweep is not None:
                sweep.sum()
            start = time.perf_counter()
            results.append(function(item))
            times.append(time.perf_counter() - start)
        return statistics.median(times) * 1e6, results
    return timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--comments", type=int, default=2000)
    parser.add_argument("--sweep-mb", type=int, default=0,
                        help="read this many MB of memory before each timed call, to time the stages with the "
                             "caches as a live worker's requests find them (0: back to back)")
    args = parser.parse_args()
    timed = timer(args.sweep_mb)
    rng = random.Random(0)
    with throwaway_redis() as (redis, data_dir):
        app = benchmark_app(redis, data_dir, **NO_LIMITS)
        rt = app.extensions["moderation"]
        state = rt.models.state
        bodies = [body(rng, i) for i in range(args.comments)]
        rows = []
        us, parsed = timed(parse_json, bodies)
        rows.append(("parse the JSON body (strict)", us))
        us, submissions = timed(lambda raw: validate_submission(raw, rt.submission_fields), parsed)
        rows.append(("validate the fields (e-mail included)", us))
        us, normalized = timed(lambda s: normalize_text(s["text"], trusted=state.thresholds.trusted_domains),
                               submissions)
        rows.append(("normalise the text", us))
        us, languages = timed(lambda s: intake.language_of(detect_language(s["text"]), s.get("lang")), submissions)
        rows.append(("identify the language", us))
        us, _ = timed(simhash, normalized)
        rows.append(("fingerprint (SimHash)", us))
        us, hits = timed(rt.guard.rules, submissions)
        rows.append(("rules that need no Redis", us))
        pairs = list(zip(submissions, normalized, strict=True))
        us, _ = timed(lambda p: state.active.scorer.score(p[0]["text"], explain=0, normalized=p[1]), pairs)
        rows.append(("score, no explanation", us))
        us_explained, scores = timed(lambda p: state.active.scorer.score(p[0]["text"], explain=intake.FEATURES_SHOWN,
                                                                         normalized=p[1]), pairs)
        rows.append(("explanation (8 n-grams), beyond the score", us_explained - us))
        triples = list(zip(submissions, scores, languages, hits, strict=True))

        def decide(t):
            submission, score, language, rule_hits = t
            verdict = intake.model_verdicts(state.active, state.thresholds, [submission], [score], [language])[0]
            return {c: within_rules(verdict, [*rule_hits, h] if h else rule_hits) for c, h in rt.guard.text_hits.items()}
        us, decisions = timed(decide, triples)
        rows.append(("decide, for each class of text", us))

        def encode(t):
            (submission, score, language, _), outcomes = t
            fields = {"id": comments.new_comment_id(), "score": round(score.probability, 6), "model_version": "v",
                      "language": language, "features": score.top_features(8), "submission": submission,
                      "created_at": "2026-12-02T00:00:00.000+00:00", "updated_at": "2026-12-02T00:00:00.000+00:00"}
            comment = NewComment(fields, {c: Outcome(d.status, d.reasons) for c, d in outcomes.items()})
            script_keys = ScriptKeys()
            return orjson.dumps({"comment": comment_spec(comment, script_keys.add, expire_ms=rt.settings.expire_ms),
                                 "text_class": "new_text"}), script_keys.keys  # as Admitter.admit encodes it
        us, encoded = timed(encode, list(zip(triples, decisions, strict=True)))
        rows.append(("build the record and the script's payload", us))
        store = rt.redis.register_script(scripts.STORE)
        us, _ = timed(lambda e: store(keys=e[1], args=[e[0]]), encoded)
        rows.append(("Redis: one script call (the store alone, round trip included)", us))
        answer = {"id": "0" * 24, "status": "approved", "score": 0.1, "model_version": "v", "reasons": []}
        us, _ = timed(lambda _: app.json.dumps(answer), range(args.comments))
        rows.append(("encode the answer", us))
        rt.redis.flushdb()
        client = app.test_client()
        rt.redis.config_resetstat()
        total, _ = timed(lambda raw: client.post("/v1/comments", data=raw, content_type="application/json"), bodies)
        # The one script call of a submission is the admission script: Redis's own count of the time it ran.
        admission = rt.redis.info("commandstats")["cmdstat_evalsha"]
        stages = sum(us for _, us in rows)
        print(f"## One submission, stage by stage\n\nCommand: `.venv/bin/python benchmarks/stages.py "
              f"{' '.join(sys.argv[1:])}`; median µs per comment over {args.comments:,} distinct comments"
              f"{f', {args.sweep_mb} MB of memory read before each call' if args.sweep_mb else ''}.\n")
        print("| stage | µs |\n|---|---|")
        for name, us in rows:
            print(f"| {name} | {us:,.0f} |")
        print(f"| **the stages above** | **{stages:,.0f}** |")
        print(f"| the whole request (test client: admission script with limits and fingerprints, Flask, metrics, "
              f"log) | {total:,.0f} |")
        print(f"| of which inside Redis, running the admission script (INFO commandstats, mean of "
              f"{admission['calls']:,} calls) | {admission['usec_per_call']:,.0f} |")


if __name__ == "__main__":
    main()
