"""Measure the classifier: per-comment latency (predict_proba vs the fast scorer), batch throughput,
`POST /v1/score` throughput, training time, model size and memory after load.

Usage: .venv/bin/python benchmarks/scoring.py [--data DIR] [--repeat N] [--skip-training]
Prints a Markdown section for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from throwaway import benchmark_app, throwaway_redis  # noqa: E402

from model_training.artifact import resolve_model_dir  # noqa: E402
from model_training.data import corpus_files, load_corpora  # noqa: E402
from service.api.schemas import submission_fields, validate_submission  # noqa: E402
from service.config import DEFAULT_MODELS_DIR  # noqa: E402
from service.errors import ValidationError  # noqa: E402
from service.moderation.model import load_model  # noqa: E402
from service.storage import tokens  # noqa: E402

FIELDS = submission_fields()


def rss_mb() -> float:
    """Peak resident memory of this process, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentile(values, q) -> float:
    return float(np.percentile(values, q))


def time_each(fn, items) -> list[float]:
    """Call fn on each item; return each call's duration in ms."""
    out = []
    for item in items:
        start = time.perf_counter()
        fn(item)
        out.append((time.perf_counter() - start) * 1000)
    return out


def is_valid(item: dict) -> bool:
    try:
        validate_submission(item, FIELDS)
    except ValidationError:
        return False
    return True


def distinct_items(data: Path) -> list[dict]:
    """The UCI corpora in `data`, shuffled (seed 0), as valid comments, no text or address twice."""
    corpus = load_corpora(corpus_files(data))
    texts = [corpus.texts[i] for i in np.random.default_rng(0).permutation(len(corpus.texts))]
    items = [{"name": f"Lecteur {i}", "email": f"lecteur{i}@exemple.sn", "text": t} for i, t in enumerate(texts)]
    return [item for item in items if is_valid(item)]  # a few SMS texts carry control characters: 422


def score_endpoint(batches: list[list[str]], query: str = "") -> float:
    """Comments per second through `POST /v1/score{query}` (Flask test client, so no HTTP server), median of the
    batches (each sent once, after a warm-up call)."""
    with throwaway_redis() as (redis, data_dir):
        app = benchmark_app(redis, data_dir)
        headers = {"Authorization": f"Bearer {tokens.create(app.extensions['moderation'].redis, 'bench', 'site')}"}
        client = app.test_client()
        client.post(f"/v1/score{query}", json={"comments": [{"name": "A", "email": "a@b.sn", "text": "Merci"}]},
                    headers=headers)
        seconds = []
        for texts in batches:
            items = [{"name": f"Lecteur {i}", "email": f"lecteur{i}@exemple.sn", "text": t} for i, t in enumerate(texts)]
            items = [item for item in items if is_valid(item)]  # a few SMS texts carry control characters: 422
            start = time.perf_counter()
            response = client.post(f"/v1/score{query}", json={"comments": items}, headers=headers)
            seconds.append((time.perf_counter() - start) / len(items))
            if response.status_code != 200:
                sys.exit(f"/v1/score answered {response.status_code}: {response.get_data(as_text=True)[:300]}")
    return 1 / statistics.median(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "uci")
    parser.add_argument("--repeat", type=int, default=3, help="rounds of the latency measurement (median is kept)")
    parser.add_argument("--skip-training", action="store_true")
    args = parser.parse_args()

    rss_before = rss_mb()
    start = time.perf_counter()
    model = load_model(DEFAULT_MODELS_DIR)
    load_seconds = time.perf_counter() - start
    rss_after = rss_mb()

    corpus = load_corpora(corpus_files(args.data))
    rng = np.random.default_rng(0)
    texts = [corpus.texts[i] for i in rng.choice(len(corpus.texts), 2000, replace=False)]
    pipeline = model.pipeline

    rounds = {"predict_proba": [], "fast": [], "fast_explain": []}
    for _ in range(args.repeat):
        rounds["predict_proba"].append(time_each(lambda t: pipeline.predict_proba(np.asarray([t], dtype=object)),
                                                 texts[:500]))
        rounds["fast"].append(time_each(lambda t: model.scorer.score(t, explain=0), texts))
        rounds["fast_explain"].append(time_each(lambda t: model.scorer.score(t), texts))
    latency = {}
    for name, runs in rounds.items():
        medians = [statistics.median(r) for r in runs]
        p99s = [percentile(r, 99) for r in runs]
        latency[name] = (statistics.median(medians), statistics.median(p99s))

    batch = [texts[i % len(texts)] for i in range(1000)]
    start = time.perf_counter()
    pipeline.predict_proba(np.asarray(batch, dtype=object))
    batch_sklearn = 1000 / (time.perf_counter() - start)
    start = time.perf_counter()
    for t in batch:
        model.scorer.score(t)
    batch_fast = 1000 / (time.perf_counter() - start)
    endpoint = score_endpoint([batch] * 5)
    # Distinct texts in every call, so that no cache (phone numbers, word n-grams) sees a text twice.
    shuffled = [corpus.texts[i] for i in rng.permutation(len(corpus.texts))]
    fresh = [shuffled[k:k + 1000] for k in range(0, len(shuffled) - 999, 1000)]
    endpoint_fresh = score_endpoint(fresh)
    endpoint_unexplained = score_endpoint(fresh, query="?explain=0")

    train_seconds = None
    if not args.skip_training:
        with tempfile.TemporaryDirectory() as out:
            cmd = [sys.executable, "-m", "model_training", "train", "--data", *map(str, sorted(args.data.glob("Youtube*"))),
                   str(args.data / "SMSSpamCollection"), "--weight", "sms=0.1", "--out", out, "--no-baselines"]
            start = time.perf_counter()
            subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)
            train_seconds = time.perf_counter() - start

    model_dir = resolve_model_dir(DEFAULT_MODELS_DIR)
    size_kb = (model_dir / model.metadata["artifact"]["file"]).stat().st_size / 1024
    print(f"## Scoring benchmark — model {model.version}\n")
    print(f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}, {platform.machine()}. "
          f"Command: `.venv/bin/python benchmarks/scoring.py` ({args.repeat} rounds, median of the rounds).\n")
    print("| measurement | value |\n|---|---|")
    for name, label in (("predict_proba", "scikit-learn `predict_proba`, one comment"),
                        ("fast", "fast scorer, one comment, no explanation"),
                        ("fast_explain", "fast scorer, one comment, with explanation (what the service runs)")):
        p50, p99 = latency[name]
        print(f"| {label} | p50 {p50:.3f} ms, p99 {p99:.3f} ms |")
    ratio = latency["predict_proba"][0] / latency["fast_explain"][0]
    print(f"| speed-up of the service's scorer over `predict_proba` (p50) | {ratio:.1f}× |")
    print(f"| batch of 1,000: `predict_proba` on the whole batch | {batch_sklearn:,.0f} comments/s |")
    print(f"| batch of 1,000: fast scorer, one by one with explanations | {batch_fast:,.0f} comments/s |")
    print(f"| `POST /v1/score` with the valid ones of those 1,000 comments, 5 calls, in process (validation, rules, "
          f"scoring, JSON) | {endpoint:,.0f} comments/s |")
    print(f"| the same, {len(fresh)} calls of 1,000 distinct comments each (no text seen twice) | "
          f"{endpoint_fresh:,.0f} comments/s |")
    print(f"| the same with `?explain=0` (no explanations) | {endpoint_unexplained:,.0f} comments/s |")
    if train_seconds is not None:
        print(f"| training on YouTube + SMS (grid search, LOGO evaluation, no baselines) | {train_seconds:.0f} s |")
    print(f"| model artifact size | {size_kb:,.0f} KiB |")
    print(f"| model load (verify sha256, unpickle, build scorer) | {load_seconds * 1000:.0f} ms |")
    print(f"| process peak RSS before / after loading the model | {rss_before:.0f} / {rss_after:.0f} MB |")


if __name__ == "__main__":
    main()
