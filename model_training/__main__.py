"""Command line for data scientists: train, evaluate, fetch-data, export-labels, promote, rollback, shadow."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path

import numpy as np
import redis

from . import registry
from .artifact import load_verified
from .data import DEFAULT_WEIGHTS, FORMATS, deduplicate, load_corpora
from .errors import TrainingError
from .evaluate import evaluate, log
from .fetch import data_home, fetch
from .labels import export_lines, parse_since
from .report import write_report
from .train import Targets, train


def parse_weight(raw: str) -> tuple[str, float]:
    """Parse FORMAT=WEIGHT, e.g. sms=0.1 or labels=3."""
    name, sep, value = raw.partition("=")
    try:
        weight = float(value)
    except ValueError:
        weight = -1.0
    if not sep or name not in FORMATS or weight < 0:
        raise argparse.ArgumentTypeError(f"expected FORMAT=WEIGHT with FORMAT one of {', '.join(FORMATS)}, got {raw!r}")
    return name, weight


def build_parser() -> argparse.ArgumentParser:
    """Describe the sub-commands and their options."""
    parser = argparse.ArgumentParser(prog="python -m model_training", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    def data_options(p):
        p.add_argument("--data", action="extend", nargs="+", required=True, type=Path,
                       help="corpus file(s); repeatable; format recognised by content")
        p.add_argument("--weight", action="append", type=parse_weight, default=[], metavar="FORMAT=W",
                       help=f"sample weight of one kind of data ({', '.join(FORMATS)}); repeatable; "
                            f"defaults: {', '.join(f'{k}={v:g}' for k, v in DEFAULT_WEIGHTS.items())}, others 1")
        p.add_argument("--out", required=True, type=Path, help="output directory")

    p = commands.add_parser("train", help="train, evaluate and write OUT/<version>/ with model, metadata and report")
    data_options(p)
    p.add_argument("--reject-precision", type=float, default=0.99, help="auto-reject precision target (default 0.99)")
    p.add_argument("--max-spam-approved", type=float, default=0.02,
                   help="largest share of spam that may be auto-approved (default 0.02)")
    p.add_argument("--C", type=float, help="inverse regularisation strength (skips the grid search with --no-search)")
    p.add_argument("--no-search", action="store_true", help="skip the hyperparameter grid search")
    p.add_argument("--no-baselines", action="store_true", help="skip the baseline and cross-source comparisons")

    p = commands.add_parser("evaluate", help="write an evaluation report (JSON, Markdown, PNG) of a model's configuration")
    p.add_argument("--model", required=True, type=Path, help="model directory (its params and thresholds are used)")
    data_options(p)
    p.add_argument("--no-baselines", action="store_true", help="skip the baseline and cross-source comparisons")

    p = commands.add_parser(
        "fetch-data", help="put the public corpora in the data home (downloaded once, verified by sha256); "
                           "print their paths",
        description="Make sure the UCI YouTube and SMS spam collections are in DATA_HOME/uci, downloading them "
                    "from UCI only when missing, and print their paths one a line (for `train --data $(...)`). "
                    "Without a network, copy the files there by hand: they are verified all the same.")
    p.add_argument("--home", type=Path, help="data home (default: MODERATION_DATA_HOME, else "
                                              "$XDG_CACHE_HOME/comment-moderation or ~/.cache/comment-moderation)")

    redis_help = "Redis URL (default: MODERATION_REDIS_URL, else the embedded server of `make run`)"
    p = commands.add_parser("export-labels", help="write the moderators' decisions as labelled JSONL")
    p.add_argument("--out", required=True, type=Path, help="output file ('-' for stdout)")
    p.add_argument("--since", help="only decisions made at or after this ISO 8601 date or time")
    p.add_argument("--redis-url", help=redis_help)

    p = commands.add_parser("promote", help="verify a model and make it the active one for every running instance")
    p.add_argument("model_dir", type=Path, help="model directory written by train")
    p.add_argument("--models-root", type=Path, help="directory the instances load models from (default: "
                                                    "MODERATION_MODELS_ROOT, else ./models)")
    p.add_argument("--redis-url", help=redis_help)

    p = commands.add_parser("rollback", help="make the previously active model active again")
    p.add_argument("--redis-url", help=redis_help)

    p = commands.add_parser("shadow", help="score every submission with a candidate model too, without using it")
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("model_dir", type=Path, nargs="?", help="model directory written by train")
    target.add_argument("--clear", action="store_true", help="stop shadow scoring")
    p.add_argument("--models-root", type=Path, help="directory the instances load models from")
    p.add_argument("--redis-url", help=redis_help)
    return parser


def run_evaluate(args) -> Path:
    """Re-run the model's configuration leave-one-group-out on the given data and write the report.

    A directory with a trained artifact also gets the artifact's top n-grams;
    one with only metadata.json (a configuration to try) does not.
    """
    try:
        metadata = json.loads((args.model / "metadata.json").read_text())
    except (OSError, ValueError) as exc:
        raise TrainingError(f"{args.model}: not a model directory ({exc})") from exc
    pipeline = load_verified(args.model)[1] if "artifact" in metadata else None
    corpus, dropped = deduplicate(load_corpora(args.data, weights=dict(args.weight)))
    log(f"{len(corpus)} examples after removing {dropped} duplicates")
    report, oof = evaluate(corpus, metadata.get("params", {}), metadata["thresholds"],
                           pipeline=pipeline, baselines=not args.no_baselines)
    report["model_version"] = metadata.get("version")
    return write_report(report, np.asarray(corpus.labels), oof.scores, args.out)


def run_registry_command(args) -> None:
    """export-labels, promote, rollback and shadow: the commands that talk to the service's Redis."""
    client = registry.connect(args.redis_url)
    actor = f"{getpass.getuser()} (cli)"
    if args.command == "export-labels":
        try:
            since = parse_since(args.since)
        except ValueError:
            raise TrainingError(f"--since {args.since!r} is not an ISO 8601 date or time") from None
        out = sys.stdout if str(args.out) == "-" else args.out.open("w", encoding="utf-8")
        count = 0
        try:
            for line in export_lines(client, since):
                out.write(line)
                count += 1
        finally:
            if out is not sys.stdout:
                out.close()
        log(f"exported {count} labels")
    elif args.command == "promote":
        record = registry.promote(client, args.model_dir, actor, args.models_root)
        log(f"model {record['version']} is now active; running instances switch within seconds")
        print(record["version"])
    elif args.command == "rollback":
        record = registry.rollback(client, actor)
        log(f"rolled back: model {record['version']} is active again")
        print(record["version"])
    elif args.command == "shadow" and args.clear:
        registry.clear_shadow(client)
        log("shadow scoring stopped")
    elif args.command == "shadow":
        record = registry.set_shadow(client, args.model_dir, actor, args.models_root)
        log(f"model {record['version']} now scores every submission in shadow")
        print(record["version"])


def main(argv=None) -> int:
    """Run one sub-command; report user errors on stderr with exit status 2."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "train":
            corpus = load_corpora(args.data, weights=dict(args.weight))
            targets = Targets(reject_precision=args.reject_precision, max_spam_approved=args.max_spam_approved)
            params = {"C": args.C} if args.C is not None else None
            out_dir = train(corpus, args.out, params=params, targets=targets,
                            search=not args.no_search and params is None, baselines=not args.no_baselines)
            print(out_dir)
        elif args.command == "evaluate":
            print(run_evaluate(args))
        elif args.command == "fetch-data":
            for path in fetch(args.home or data_home(), log=log):
                print(path)
        else:
            run_registry_command(args)
    except TrainingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
        print(f"error: Redis is not reachable ({type(exc).__name__}); start the service with `make run` (it runs its "
              "own Redis) or set MODERATION_REDIS_URL.", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
