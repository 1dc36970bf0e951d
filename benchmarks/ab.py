"""A/B load: the same wrk load on two checkouts of the service at once, in alternating rounds.

Usage: .venv/bin/python benchmarks/ab.py OTHER_CHECKOUT [--rounds 8] [--seconds 5] [--connections 1 8]

This machine's speed drifts by a third within minutes (the host's other guests), so two versions measured one
after the other differ by the drift as much as by the change. Here both run at once, each with its own Redis over a
Unix socket as `make run` runs it: A is this checkout, B is OTHER_CHECKOUT (for example a git worktree holding the
change), both served with this checkout's Python. wrk (distinct texts, as `load.py --texts distinct`) alternates
between them round by round, and each B round is compared with the A round just before it. Prints Markdown: the
medians of each side and the median of those per-round ratios, which the drift between rounds hardly moves.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import load  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("other", type=Path, help="the checkout to compare with this one")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, nargs="+", default=[1, 8])
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install wrk")
    if not (args.other / "service" / "__init__.py").is_file():
        sys.exit(f"{args.other} is not a checkout of this project")
    os.environ["BENCH_TEXTS"] = "distinct"
    trees = {"A": ROOT, "B": args.other.resolve()}
    with contextlib.ExitStack() as stack:
        bases, keys = {}, {}
        for side, tree in trees.items():
            redis, _, bases[side] = stack.enter_context(load.throwaway_service(tree))
            keys[side] = load.site_key(redis.url)
        print(f"## A/B load: `POST /v1/comments`\n\nA: `{trees['A']}`; B: `{trees['B']}`. wrk, distinct texts, "
              f"{args.rounds} alternating rounds of {args.seconds} s per connection count. Command: "
              f"`.venv/bin/python benchmarks/ab.py {' '.join(sys.argv[1:])}`.\n")
        print("| connections | side | req/s | p50 ms | p99 ms | non-2xx | B/A requests/s, median of rounds (range) |\n"
              "|---|---|---|---|---|---|---|")

        def run(side: str, connections: int, seconds: int) -> dict:
            os.environ["BENCH_SITE_KEY"] = keys[side]  # read by the wrk script
            return load.run_wrk(bases[side], connections, seconds)

        for connections in args.connections:
            for side in trees:  # warm-up
                run(side, connections, 2)
            runs = {"A": [], "B": []}
            for _ in range(args.rounds):
                for side in trees:
                    runs[side].append(run(side, connections, args.seconds))
            ratios = [b["rps"] / a["rps"] for a, b in zip(runs["A"], runs["B"], strict=True)]
            for side in trees:
                m = load.median_of(runs[side])
                ratio = (f"**{statistics.median(ratios):.2f}** ({min(ratios):.2f}–{max(ratios):.2f})"
                         if side == "B" else "")
                print(f"| {connections} | {side} | {m['rps']:,.0f} | {m['p50']:.2f} | {m['p99']:.2f} | "
                      f"{int(sum(r['non_2xx'] for r in runs[side]))} | {ratio} |")


if __name__ == "__main__":
    main()
