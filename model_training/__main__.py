"""Command line for data scientists: train, evaluate, simulate, fetch-data; export-labels, promote, rollback,
shadow and retrain are the service's commands, run from here too."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from .artifact import load_verified
from .data import DEFAULT_WEIGHTS, FORMATS, deduplicate, load_corpora
from .errors import TrainingError
from .evaluate import evaluate, log
from .fetch import data_home, fetch
from .report import write_report
from .simulate import curve_lines, read_stream, simulate, write_curve
from .train import Targets, train

SERVICE_COMMANDS = {
    "export-labels": "write the moderators' decisions as labelled JSONL",
    "promote": "verify a model and make it the active one for every running instance",
    "rollback": "make the previously active model active again",
    "shadow": "score every submission with a candidate model too, without using it",
    "retrain": "train on the labels, compare with the active model on the newest ones, promote only if better",
}


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
                       help="corpus file(s), a directory of them, or a label archive directory "
                            "(MODERATION_LABELS_DIR); repeatable; format recognised by content")
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
        "simulate", help="replay a new site's comments: automation and errors as moderator labels accumulate",
        description="Replay --stream (a CSV or JSONL with text and label) in order against a model trained on "
                    "--data: auto-decided comments count as decided (errors against the true label), comments "
                    "sent to review become moderator labels, and every --every labels the model is retrained on "
                    "--data plus the labels (label weight as in production unless --weight labels=W), with "
                    "thresholds chosen as `train` chooses them. Writes OUT/curve.json and OUT/curve.png.")
    data_options(p)
    p.add_argument("--stream", required=True, type=Path, help="the new site's comments, in order")
    p.add_argument("--every", type=int, default=100, help="retrain after this many new labels (default 100)")
    p.add_argument("--seed", type=int, help="shuffle the stream with this seed instead of keeping file order")
    p.add_argument("--C", type=float, help="inverse regularisation strength (default: chosen once, as train does)")

    p = commands.add_parser(
        "fetch-data", help="put the public corpora in the data home (downloaded once, verified by sha256); "
                           "print their paths",
        description="Make sure the UCI YouTube and SMS spam collections are in DATA_HOME/uci, downloading them "
                    "from UCI only when missing, and print their paths one a line (for `train --data $(...)`). "
                    "Without a network, copy the files there by hand: they are verified all the same.")
    p.add_argument("--home", type=Path, help="data home (default: MODERATION_DATA_HOME, else "
                                              "$XDG_CACHE_HOME/comment-moderation or ~/.cache/comment-moderation)")

    # The service owns what is in Redis: these run `python -m service COMMAND` with the same arguments.
    for name, text in SERVICE_COMMANDS.items():
        commands.add_parser(name, help=f"{text} (runs `python -m service {name}`)", add_help=False)
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


def main(argv=None) -> int:
    """Run one sub-command; report user errors on stderr with exit status 2."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in SERVICE_COMMANDS:
        # model_training never imports the service: it hands the command over, arguments and all.
        return subprocess.run([sys.executable, "-m", "service", *argv], check=False).returncode
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
        elif args.command == "simulate":
            if args.every < 1:
                raise TrainingError("--every must be at least 1")
            weights = dict(args.weight)
            curve = simulate(load_corpora(args.data, weights=weights), read_stream(args.stream, args.seed),
                             every=args.every, params={"C": args.C} if args.C is not None else None,
                             label_weight=weights.get("labels"))
            for line in curve_lines(curve):
                log(line)
            print(write_curve(curve, args.out, f"{args.stream.name}, retrained every {args.every} labels"))
        elif args.command == "fetch-data":
            for path in fetch(args.home or data_home(), log=log):
                print(path)
    except TrainingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
