"""Load benchmark: the real service against a bare Flask endpoint, both under the same gunicorn settings.

Usage:
  .venv/bin/python benchmarks/load.py                      # service vs baseline, alternated, median of rounds
  .venv/bin/python benchmarks/load.py --connections 1 2 8  # the same at each load: what visitors wait for
  .venv/bin/python benchmarks/load.py --instances 2        # also: 1 vs 2 service instances sharing one Redis
  .venv/bin/python benchmarks/load.py --sweep --plot docs/latency-vs-load.png   # latency vs concurrency

Starts its own redis-server (AOF, everysec) reached over a Unix socket, as `make run` runs its embedded one
(`--redis tcp`: over loopback TCP instead, as a Redis on another host would be), the service and the baseline on
free local ports, drives them with wrk (Debian package) for a fixed time per round, and prints Markdown. Only
loopback addresses are used.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from service.config import Settings  # noqa: E402
from service.storage.server import RedisServer, free_port  # noqa: E402

LUA = ROOT / "benchmarks" / "wrk_comments.lua"


def wait_ready(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def service_env(redis_url: str, data_dir: Path, port: int, workers: int | None = None, threads: int | None = None,
                log_level: str = "WARNING") -> dict[str, str]:
    """The environment the benchmarks run the service with (workers and threads: the service's defaults if None)."""
    sizes = {name: str(value) for name, value in (("MODERATION_WORKERS", workers), ("MODERATION_THREADS", threads))
             if value is not None}
    return {**os.environ, **sizes, "MODERATION_REDIS_URL": redis_url, "PORT": str(port),
            "MODERATION_DATA_DIR": str(data_dir), "MODERATION_LOG_LEVEL": log_level,
            # One site key sends everything: its own limit (100 comments/s by default) is a site's, not the capacity.
            "MODERATION_RATE_LIMIT_SITE": "off"}


def start_service(redis_url: str, data_dir: Path, workers: int | None = None, threads: int | None = None,
                  log_level: str = "WARNING", tree: Path = ROOT) -> tuple[subprocess.Popen, str]:
    """`python -m service serve` of the checkout `tree` on a free port, ready (workers and threads: the service's
    defaults if None)."""
    port = free_port()
    env = service_env(redis_url, data_dir, port, workers, threads, log_level)
    proc = subprocess.Popen([sys.executable, "-m", "service", "serve"], cwd=tree, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    wait_ready(f"{base}/readyz")
    return proc, base


def site_key(redis_url: str) -> str:
    """A site key, as the website sends: without one the service ignores the `ip` field and every comment
    would come from the benchmark's own address, into the flood control."""
    env = {**os.environ, "MODERATION_REDIS_URL": redis_url}
    return subprocess.run([sys.executable, "-m", "service", "tokens", "create", "--name", "bench", "--role", "site"],
                          cwd=ROOT, env=env, capture_output=True, text=True, check=True).stdout.strip().split()[-1]


def start_baseline(workers: int, threads: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--worker-class", "gthread",
                             "--workers", str(workers), "--threads", str(threads), "--no-control-socket",
                             "--chdir", str(ROOT / "benchmarks"), "bare_app:app"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, base
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def stop(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(30)


@contextmanager
def throwaway_service(tree: Path = ROOT) -> Iterator[tuple[RedisServer, subprocess.Popen, str]]:
    """A redis-server over a Unix socket, as `make run` has, and `python -m service serve` of the checkout `tree`
    in front of it (the service's default workers and threads), in a throw-away directory: (Redis, the service's
    process, its base URL). Both are stopped on the way out, whatever happened."""
    with tempfile.TemporaryDirectory() as tmp:
        redis = RedisServer(Path(tmp) / "redis", port=free_port(), unix_socket=Path(tmp) / "redis.sock").start()
        try:
            service, base = start_service(redis.url, Path(tmp), tree=tree)
            try:
                yield redis, service, base
            finally:
                stop(service)
        finally:
            redis.stop()


def children(pid: int) -> list[int]:
    """The process's children (pgrep -P), in pid order."""
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return sorted(int(child) for child in found)


def held_by_worker(port: int, workers: list[int]) -> dict[int, int]:
    """For each process, how many established connections to `port` it holds (/proc: the sockets' inodes)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":  # the local port; ESTABLISHED
            inodes.add(f"socket:[{fields[9]}]")
    held = {}
    for worker in workers:
        fds = Path(f"/proc/{worker}/fd")
        held[worker] = sum(1 for fd in fds.iterdir() if os.readlink(fd) in inodes)
    return held


UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def run_wrk(base: str, connections: int, seconds: int) -> dict:
    """One wrk run; returns requests/s, latency percentiles (ms), non-2xx responses and socket errors."""
    out = subprocess.run(["wrk", "-t", str(min(2, connections)), "-c", str(connections), "-d", f"{seconds}s", "--latency",
                          "-s", str(LUA), base], capture_output=True, text=True, check=True).stdout
    result = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
              "non_2xx": int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", out)) else 0,
              "errors": sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))}
    for pct in ("50", "90", "99"):
        value, unit = re.search(rf"\s{pct}%\s+([\d.]+)(us|ms|s)", out).groups()
        result[f"p{pct}"] = float(value) * UNITS[unit]
    return result


def median_of(runs: list[dict]) -> dict:
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]}


def row(name: str, r: dict) -> str:
    return (f"| {name} | {r['rps']:,.0f} | {r['p50']:.2f} | {r['p90']:.2f} | {r['p99']:.2f} | "
            f"{int(r['non_2xx'])} | {int(r['errors'])} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, nargs="+", default=[8],
                        help="one or more connection counts, each measured on both endpoints in alternating rounds")
    parser.add_argument("--workers", type=int, default=Settings.workers, help="default: the service's")
    parser.add_argument("--threads", type=int, default=Settings.threads, help="default: the service's")
    parser.add_argument("--instances", type=int, choices=(1, 2), default=1)
    parser.add_argument("--sweep", action="store_true", help="latency of the service at 1, 2, 4, 8, 16, 32 connections")
    parser.add_argument("--plot", type=Path, help="with --sweep: write the latency-vs-load plot here")
    parser.add_argument("--texts", choices=("templated", "distinct"), default="templated",
                        help="templated: nearly every comment is a near duplicate (the duplicate rules' path); "
                             "distinct: every comment is a new text, as most real comments are")
    parser.add_argument("--redis", choices=("unix", "tcp"), default="unix",
                        help="how the service reaches Redis: a Unix socket, as `make run` does (default), or TCP")
    parser.add_argument("--log-level", choices=("INFO", "WARNING"), default="WARNING",
                        help="the service's MODERATION_LOG_LEVEL: WARNING writes no access log (default, as in the "
                             "earlier rounds); INFO writes one JSON line a request, as `make run` does by default")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install wrk")
    os.environ["BENCH_TEXTS"] = args.texts  # read by the wrk script, also in the --wrk-only drivers
    with tempfile.TemporaryDirectory() as tmp:
        redis = RedisServer(Path(tmp) / "redis", port=free_port(),
                            unix_socket=Path(tmp) / "redis.sock" if args.redis == "unix" else None).start()
        procs = []
        try:
            service, service_base = start_service(redis.url, Path(tmp), args.workers, args.threads, args.log_level)
            os.environ["BENCH_SITE_KEY"] = site_key(redis.url)  # read by the wrk script
            baseline, baseline_base = start_baseline(args.workers, args.threads)
            procs += [service, baseline]
            print(f"## Load: `POST /v1/comments` vs a bare Flask endpoint\n\nMachine: {os.cpu_count()} cores. gunicorn "
                  f"gthread, {args.workers} workers x {args.threads} threads for both; wrk, "
                  f"{', '.join(map(str, args.connections))} connections, {args.seconds} s per round, {args.rounds} "
                  f"alternating rounds, Redis over {'a Unix socket' if args.redis == 'unix' else 'TCP'}, service log level "
                  f"{args.log_level}, medians shown. "
                  f"Command: `.venv/bin/python benchmarks/load.py {' '.join(sys.argv[1:])}`.\n")
            run_wrk(service_base, max(args.connections), 2)  # warm-up
            run_wrk(baseline_base, max(args.connections), 2)
            print("| connections | endpoint | req/s | p50 ms | p90 ms | p99 ms | non-2xx | socket errors |\n"
                  "|---|---|---|---|---|---|---|---|")
            ratios = []
            for connections in args.connections:
                runs = {"service": [], "baseline": []}
                for _ in range(args.rounds):
                    runs["baseline"].append(run_wrk(baseline_base, connections, args.seconds))
                    runs["service"].append(run_wrk(service_base, connections, args.seconds))
                service_m, baseline_m = median_of(runs["service"]), median_of(runs["baseline"])
                print(f"| {connections} {row('bare Flask (parse JSON, return JSON)', baseline_m)}")
                print(f"| {connections} {row('service (validate, rules, score, store, queue)', service_m)}")
                service_rounds = ", ".join(f"{r['rps']:,.0f}" for r in runs["service"])
                baseline_rounds = ", ".join(f"{r['rps']:,.0f}" for r in runs["baseline"])
                # The bare endpoint's rounds vary most (its keep-alive connections may all land on one worker):
                # the ratio to its best round says what the median alone can hide.
                best = max(r["rps"] for r in runs["baseline"])
                ratios.append(f"{connections} connections: **{service_m['rps'] / baseline_m['rps']:.2f}×**, "
                              f"{service_m['rps'] / best:.2f}× its best round "
                              f"(rounds: {service_rounds} vs {baseline_rounds})")
            print("\nRatio service / baseline, requests/s: " + "; ".join(ratios) + ".")
            stop(baseline)
            procs.remove(baseline)
            if args.instances == 2:
                second, second_base = start_service(redis.url, Path(tmp), args.workers, args.threads, args.log_level)
                procs.append(second)
                one, two = [], []
                connections = max(args.connections)
                for _ in range(args.rounds):
                    one.append(run_wrk(service_base, connections, args.seconds))
                    half = connections // 2
                    drivers = [subprocess.Popen([sys.executable, __file__, "--wrk-only", base, str(half), str(args.seconds)],
                                                stdout=subprocess.PIPE, text=True) for base in (service_base, second_base)]
                    ra, rb = (json.loads(p.communicate()[0]) for p in drivers)
                    two.append({"rps": ra["rps"] + rb["rps"], "p50": max(ra["p50"], rb["p50"]),
                                "p90": max(ra["p90"], rb["p90"]), "p99": max(ra["p99"], rb["p99"]),
                                "non_2xx": ra["non_2xx"] + rb["non_2xx"], "errors": ra["errors"] + rb["errors"]})
                print(f"\n### One vs two instances sharing one Redis ({connections} connections in all)\n")
                print("| setup | req/s | p50 ms | p90 ms | p99 ms | non-2xx | socket errors |\n|---|---|---|---|---|---|---|")
                print(row("1 instance", median_of(one)))
                print(row("2 instances (connections split evenly)", median_of(two)))
            if args.sweep:
                points = []
                for connections in (1, 2, 4, 8, 16, 32):
                    points.append((connections, run_wrk(service_base, connections, args.seconds)))
                print("\n### Latency vs load (service)\n\n| connections | req/s | p50 ms | p99 ms |\n|---|---|---|---|")
                for connections, r in points:
                    print(f"| {connections} | {r['rps']:,.0f} | {r['p50']:.2f} | {r['p99']:.2f} |")
                if args.plot:
                    import matplotlib  # noqa: PLC0415 - only this optional output needs it
                    matplotlib.use("Agg")
                    import matplotlib.pyplot as plt  # noqa: PLC0415
                    fig, ax = plt.subplots(figsize=(6, 4))
                    xs = [r["rps"] for _, r in points]
                    ax.plot(xs, [r["p50"] for _, r in points], marker="o", label="p50")
                    ax.plot(xs, [r["p99"] for _, r in points], marker="o", label="p99")
                    for (connections, r) in points:
                        ax.annotate(str(connections), (r["rps"], r["p99"]), textcoords="offset points", xytext=(4, 4))
                    ax.set(xlabel="throughput (requests/s)", ylabel="latency (ms)",
                           title="POST /v1/comments: latency vs load (labels: connections)")
                    ax.legend()
                    fig.tight_layout()
                    fig.savefig(args.plot, dpi=110)
                    print(f"\n![latency vs load]({args.plot.name})")
        finally:
            for proc in procs:
                stop(proc)
            redis.stop()


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--wrk-only":
        print(json.dumps(run_wrk(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))))
    else:
        main()
