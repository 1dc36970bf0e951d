"""How wrk's keep-alive connections spread over the service's gunicorn workers, round by round.

Usage: .venv/bin/python benchmarks/spread.py [--tree CHECKOUT] [--rounds 12] [--seconds 4] [--connections 2 8]

A keep-alive connection stays with the worker that accepted it for its whole life, so how a load's connections
were shared at its start decides how many cores serve it. This runs a throw-away Redis and the service of
CHECKOUT (default: this one; another, such as a git worktree of an earlier commit, to compare), then many short
wrk runs (distinct texts, as `load.py --texts distinct`), each opening its connections afresh, and reads from
/proc, a second into each run, how many connections each worker holds. Prints Markdown: each run's split,
requests/s and p99, and how many runs left a worker with nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import load  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tree", type=Path, default=ROOT, help="the checkout to serve (default: this one)")
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--seconds", type=int, default=4)
    parser.add_argument("--connections", type=int, nargs="+", default=[2, 8])
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install wrk")
    os.environ["BENCH_TEXTS"] = "distinct"
    with load.throwaway_service(args.tree.resolve()) as (redis, service, base):
        os.environ["BENCH_SITE_KEY"] = load.site_key(redis.url)
        port = int(base.rsplit(":", 1)[1])
        workers = [pid for master in load.children(service.pid) for pid in load.children(master)]
        print(f"## Connections per worker: `{args.tree.resolve()}`\n\n{len(workers)} workers; wrk, distinct texts, "
              f"{args.rounds} runs of {args.seconds} s per connection count. Command: "
              f"`.venv/bin/python benchmarks/spread.py {' '.join(sys.argv[1:])}`.\n")
        load.run_wrk(base, max(args.connections), 2)  # warm-up
        for connections in args.connections:
            print(f"### {connections} connections\n\n| run | connections per worker | req/s | p99 ms |\n|---|---|---|---|")
            runs = []
            for number in range(1, args.rounds + 1):
                split: dict = {}
                reader = threading.Timer(1.0, lambda held=split: held.update(load.held_by_worker(port, workers)))
                reader.start()
                result = load.run_wrk(base, connections, args.seconds)
                reader.join()
                runs.append((sorted(split.values(), reverse=True), result))
                print(f"| {number} | {' / '.join(map(str, runs[-1][0]))} | {result['rps']:.0f} | {result['p99']:.1f} |")
            idle = sum(1 for counts, _ in runs if 0 in counts)
            rps = [r["rps"] for _, r in runs]
            print(f"\nA worker held no connection in {idle} of {len(runs)} runs; requests/s median "
                  f"{statistics.median(rps):.0f}, lowest {min(rps):.0f}; p99 median "
                  f"{statistics.median(r['p99'] for _, r in runs):.1f} ms, highest {max(r['p99'] for _, r in runs):.1f}.\n")


if __name__ == "__main__":
    main()
