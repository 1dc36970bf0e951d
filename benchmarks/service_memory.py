"""The service's own memory, process by process, after a busy spell (docs/operations.md, "Service memory").

Usage: .venv/bin/python benchmarks/service_memory.py [--data DIR] [--seconds 30] [--batches 7]

Starts a throw-away redis-server and `python -m service serve` as `make run` runs it (its settings from the
environment: MODERATION_WORKERS, MODERATION_SCORE_HELPERS, ...), sends distinct submissions with wrk at 8
connections for `--seconds`, then `--batches` calls of `POST /v1/score` with 1,000 distinct UCI comments each,
and prints each of the service's processes (the supervisor, gunicorn's master, its workers and their helpers)
with its resident and proportional set sizes from /proc/PID/smaps_rollup. PSS shares each page among the
processes that map it, so the PSS column adds up to what the service holds; RSS counts shared pages in each.
Redis is not counted (see redis_memory.py). Needs Debian's wrk.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import load  # noqa: E402
from score_load import batches, each_once, measure  # noqa: E402


def sizes_kb(pid: int) -> dict[str, int]:
    """Rss and Pss of a process, in kB."""
    with open(f"/proc/{pid}/smaps_rollup") as f:
        fields = dict(line.split(":", 1) for line in f if ":" in line)
    return {name: int(fields[name].split()[0]) for name in ("Rss", "Pss")}


def processes(supervisor: int) -> list[tuple[str, int]]:
    """The service's processes, each with its role: the supervisor, gunicorn's master, workers, helpers."""
    found = [("supervisor (`python -m service serve`)", supervisor)]
    for master in load.children(supervisor):
        found.append(("gunicorn master", master))
        for worker in load.children(master):
            found.append(("worker", worker))
            found += [("score helper of that worker", helper) for helper in load.children(worker)]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "uci")
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--batches", type=int, default=7)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install wrk")
    bodies = batches(args.data)[:args.batches]
    os.environ["BENCH_TEXTS"] = "distinct"  # read by the wrk script
    with load.throwaway_service() as (redis, service, base):
        key = load.site_key(redis.url)
        os.environ["BENCH_SITE_KEY"] = key  # read by the wrk script
        submissions = load.run_wrk(base, 8, args.seconds)
        scored = measure(base, key, each_once(bodies), 1, 600)
        print("## The service's memory, process by process\n\n"
              f"After {args.seconds} s of distinct submissions at 8 connections ({submissions['rps']:,.0f} "
              f"requests/s) and {scored['calls']} `POST /v1/score` calls of 1,000 distinct comments. Settings "
              f"from the environment (MODERATION_SCORE_HELPERS={os.environ.get('MODERATION_SCORE_HELPERS', '1')}"
              f"). Command: `.venv/bin/python benchmarks/service_memory.py {' '.join(sys.argv[1:])}`.\n\n"
              "| process | pid | RSS MB | PSS MB |\n|---|---|---|---|")
        total = 0
        for role, pid in processes(service.pid):
            size = sizes_kb(pid)
            total += size["Pss"]
            print(f"| {role} | {pid} | {size['Rss'] / 1024:.0f} | {size['Pss'] / 1024:.0f} |")
        print(f"| **the service** | | | **{total / 1024:.0f}** |")


if __name__ == "__main__":
    main()
