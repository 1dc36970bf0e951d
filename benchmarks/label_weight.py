"""How much should the moderators' labels weigh against the public corpora? One retraining per weight.

Usage: .venv/bin/python benchmarks/label_weight.py --data PATH [PATH ...] --stream FILE
           [--labels 100] [--next 300] [--weights 3 10 30] [--seed 0] [--C 10]

Takes the first `--labels` comments of the (shuffled) stream as moderator labels, trains on --data plus those
labels at each weight with thresholds chosen as `train` chooses them, and decides the next `--next` comments
as the service would. Prints, per weight, the share auto-decided and the errors, as Markdown.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from model_training.data import Corpus, deduplicate, load_corpora  # noqa: E402
from model_training.evaluate import policy_outcome, score_unseen  # noqa: E402
from model_training.simulate import read_stream  # noqa: E402
from model_training.train import Targets, fit_with_thresholds  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", nargs="+", required=True, type=Path)
    parser.add_argument("--stream", required=True, type=Path)
    parser.add_argument("--labels", type=int, default=100)
    parser.add_argument("--next", type=int, default=300)
    parser.add_argument("--weights", type=float, nargs="+", default=[3, 10, 30])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--C", type=float, default=10.0)
    args = parser.parse_args()
    base = load_corpora(args.data)
    stream = read_stream(args.stream, args.seed)
    labelled, following = stream[:args.labels], stream[args.labels:args.labels + args.next]
    truth = np.asarray([label for _, label in following])
    rows = []
    for weight in args.weights:
        corpus = Corpus()
        corpus.extend(base)
        for text, label in labelled:
            corpus.add(text, label, "labels:benchmark", weight)
        corpus, _ = deduplicate(corpus)
        model, thresholds, oof = fit_with_thresholds(corpus, {"C": args.C}, Targets())
        approved, rejected = policy_outcome(score_unseen(model, [t for t, _ in following], oof.languages), thresholds)
        rows.append(f"| {weight:g} | {(approved | rejected).mean():.1%} | {int((rejected & (truth == 0)).sum())} of "
                    f"{int((truth == 0).sum())} | {int((approved & (truth == 1)).sum())} of {int((truth == 1).sum())} |")
    print(f"{args.labels} labels from {args.stream.name} (seed {args.seed}), decisions on the next {len(following)}:\n")
    print("| label weight | auto-decided | ham auto-rejected | spam auto-approved |\n|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
