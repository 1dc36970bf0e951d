"""Command line for data scientists: `python -m model_training train|...`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .data import load_corpora
from .errors import TrainingError
from .train import Targets, train


def build_parser() -> argparse.ArgumentParser:
    """Describe the sub-commands and their options."""
    parser = argparse.ArgumentParser(prog="python -m model_training", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser("train", help="train, evaluate and write a versioned model directory")
    p.add_argument("--data", action="extend", nargs="+", required=True, type=Path, help="corpus file(s); repeatable")
    p.add_argument("--out", required=True, type=Path, help="directory that receives <version>/")
    p.add_argument("--label-weight", type=float, default=1.0, help="sample weight of export-labels rows")
    p.add_argument("--reject-precision", type=float, default=0.99, help="auto-reject precision target")
    p.add_argument("--max-spam-approved", type=float, default=0.02, help="share of spam allowed to be auto-approved")
    p.add_argument("--C", type=float, default=10.0, help="inverse regularisation strength")
    return parser


def main(argv=None) -> int:
    """Run one sub-command; report user errors on stderr with exit status 2."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "train":
            corpus = load_corpora(args.data, label_weight=args.label_weight)
            targets = Targets(reject_precision=args.reject_precision, max_spam_approved=args.max_spam_approved)
            out_dir = train(corpus, args.out, params={"C": args.C}, targets=targets)
            print(out_dir)
    except TrainingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
