"""Where the time of one `POST /v1/score` batch goes: each stage timed on batches of distinct comments.

Usage: .venv/bin/python benchmarks/batch_stages.py [--data DIR] [--batch 1000]

Starts a throw-away redis-server and the real app, cuts the UCI corpora (shuffled) into batches of distinct
comments, and times each stage of the endpoint by calling the code it runs, batch after batch (median ms per
batch). No text or address is seen twice in the stages it names, so only the words' n-grams are cached,
as a site's comments share words too; the rows marked "again" show what is left once the batch's words
are cached. The last row is the whole call through Flask's test client, on other batches. Prints Markdown.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scoring import distinct_items  # noqa: E402
from throwaway import benchmark_app, throwaway_redis  # noqa: E402

from model_training.language import detect_languages  # noqa: E402
from service.api import schemas  # noqa: E402
from service.api.bodies import parse_json  # noqa: E402
from service.api.score import results_of, validated  # noqa: E402
from service.moderation import intake  # noqa: E402
from service.storage import tokens  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "uci")
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()
    items = distinct_items(args.data)
    schemas._email_syntax.cache_clear()  # that check remembered every address: start the timing without them
    batches = [items[k:k + args.batch] for k in range(0, len(items) - args.batch + 1, args.batch)]
    half = len(batches) // 2  # the first half times the stages, the second the whole call: all distinct
    times: dict[str, list[float]] = {}

    def timed(name, function):
        start = time.perf_counter()
        result = function()
        times.setdefault(name, []).append((time.perf_counter() - start) * 1000)
        return result

    with throwaway_redis() as (redis, data_dir):
        app = benchmark_app(redis, data_dir)
        rt = app.extensions["moderation"]
        state = rt.models.state
        for batch in batches[:half]:
            raw = json.dumps({"comments": batch}).encode()
            parsed = timed("parse the JSON body (strict)", lambda raw=raw: parse_json(raw))
            submissions = timed("validate the fields (e-mail included)",
                                lambda parsed=parsed: validated(parsed["comments"], rt.submission_fields)[0])
            hits = timed("rules that need no Redis", lambda s=submissions: [rt.guard.rules(x) for x in s])
            normalized = timed("normalise the texts",
                               lambda s=submissions: [intake.normalized_text(x, state.thresholds) for x in s])
            detected = timed("identify the languages (one batch)",
                             lambda s=submissions: detect_languages([x["text"] for x in s]))
            scores = timed("score with 8-n-gram explanations",
                           lambda n=normalized: state.active.scorer.score_many(n, explain=8))
            timed("the same texts again without explanations (their words' n-grams now cached)",
                  lambda n=normalized: state.active.scorer.score_many(n, explain=0))
            languages = [intake.language_of(d, x.get("lang")) for d, x in zip(detected, submissions, strict=True)]
            timed("the policy's own scoring: sentence tails, link-free texts (words cached)",
                  lambda s=submissions, c=scores, la=languages: intake.model_verdicts(state.active, state.thresholds,
                                                                                      s, c, la))
            assessments = timed("the whole preview again (normalise, languages, score, the policy's own scoring, decide)",
                                lambda s=submissions, h=hits: intake.preview(state, s, h))
            results = timed("build the results", lambda a=assessments: results_of(a, 8))
            timed("encode the answer", lambda r=results: orjson.dumps({"model_version": "v", "results": r}))
        client = app.test_client()
        headers = {"Authorization": f"Bearer {tokens.create(rt.redis, 'bench', 'site')}"}
        for batch in batches[half:]:
            body = json.dumps({"comments": batch}).encode()
            response = timed("the whole call (test client)", lambda body=body: client.post(
                "/v1/score", data=body, content_type="application/json", headers=headers))
            if response.status_code != 200:
                sys.exit(f"/v1/score answered {response.status_code}")
    print(f"## One `POST /v1/score` batch, stage by stage\n\nCommand: `.venv/bin/python benchmarks/batch_stages.py "
          f"--batch {args.batch}`; median ms per batch of {args.batch:,} distinct comments ({half} batches for the "
          f"stages, {len(batches) - half} others for the whole call).\n")
    print("| stage | ms per batch | µs per comment |\n|---|---|---|")
    for name, values in times.items():
        ms = statistics.median(values)
        print(f"| {name} | {ms:,.1f} | {ms * 1000 / args.batch:,.0f} |")


if __name__ == "__main__":
    main()
