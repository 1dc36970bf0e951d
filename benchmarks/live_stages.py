"""Where a submission's CPU goes inside a live gunicorn worker under wrk, stage by stage, and whose CPU it is.

Usage: .venv/bin/python benchmarks/live_stages.py [--seconds 20] [--connections 1]

benchmarks/stages.py times each stage in a tight loop, where the model's vocabularies stay in the CPU caches; in
a worker serving real requests the same code shares the caches and the cores with the WSGI server, Redis and the
client, and costs more. This runs the service as `make run` does (gunicorn with the service's settings, Redis
over a Unix socket) with benchmarks/live_conf.py's timers around each stage, drives it with wrk (distinct
texts, as benchmarks/load.py), and prints Markdown:

- each stage's median CPU time (the thread's own clock) and wall time per request;
- the CPU per request of each process (the workers, Redis, wrk), from /proc, for the service and for the bare
  Flask endpoint under the same gunicorn settings: what bounds requests/s on this machine;
- Redis's own time per request (INFO commandstats over the measured run): the admission script's, how much of it
  its commands take, and the commands that take most.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import load  # noqa: E402
import redis as redis_py  # noqa: E402
from live_conf import REQUEST, STAGES  # noqa: E402

from service.config import Settings  # noqa: E402
from service.serve import gunicorn_command, metrics_environment  # noqa: E402
from service.storage.server import RedisServer, free_port  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User and system CPU of one process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def descendants(pid: int) -> list[int]:
    return [process for child in load.children(pid) for process in (child, *descendants(child))]


def machine_ticks() -> tuple[int, int]:
    """The machine's CPU ticks so far: all of them, and those stolen by the hypervisor for other guests."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(fields), fields[7]


def measured_run(base: str, pids: dict[str, list[int]], connections: int, seconds: int) -> tuple[dict, dict]:
    """One wrk run; its result and the CPU µs per request of each group of processes (wrk included), and the
    share of the machine's time the hypervisor gave to other guests meanwhile (`steal`): CPU clocks count
    stolen time as the thread's, so the same code looks slower on a busy host."""
    before = {name: sum(cpu_seconds(p) for p in group) for name, group in pids.items()}
    children, ticks = os.times(), machine_ticks()
    result = load.run_wrk(base, connections, seconds)
    after_children, after_ticks = os.times(), machine_ticks()
    result["steal"] = (after_ticks[1] - ticks[1]) / max(1, after_ticks[0] - ticks[0])
    requests = result["rps"] * seconds
    per_request = {name: (sum(cpu_seconds(p) for p in group) - before[name]) / requests * 1e6
                   for name, group in pids.items()}
    per_request["wrk"] = ((after_children.children_user + after_children.children_system)
                          - (children.children_user + children.children_system)) / requests * 1e6
    return result, per_request


def start_service(redis_url: str, data_dir: Path, out_dir: Path) -> tuple[subprocess.Popen, str, Settings]:
    port = free_port()
    env = {**load.service_env(redis_url, data_dir, port), "LIVE_STAGES_DIR": str(out_dir)}
    settings = Settings.from_env(env)
    command = gunicorn_command(settings)
    command[command.index("python:service.gunicorn_conf")] = "python:benchmarks.live_conf"
    proc = subprocess.Popen(command, cwd=ROOT, env={**env, **metrics_environment(settings), "PYTHONPATH": str(ROOT)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    load.wait_ready(f"{base}/readyz")
    return proc, base, settings


def stage_table(rows: list[dict]) -> str:
    lines = ["| stage | CPU µs (median) | wall µs (median) | CPU µs (mean) | share of the request's CPU |",
             "|---|---|---|---|---|"]
    request_cpu = statistics.fmean(row[REQUEST][0] for row in rows)
    children: dict[str, list[str]] = {}
    for label, parent, *_ in STAGES:
        children.setdefault(parent, []).append(label)

    def mean_cpu(label: str) -> float:
        return statistics.fmean(row.get(label, (0.0, 0.0))[0] for row in rows) * 1e6

    def emit(label: str, depth: int) -> None:
        cpu = [row.get(label, (0.0, 0.0))[0] * 1e6 for row in rows]
        wall = [row.get(label, (0.0, 0.0))[1] * 1e6 for row in rows]
        name = ("&nbsp;&nbsp;" * depth) + label
        lines.append(f"| {name} | {statistics.median(cpu):,.0f} | {statistics.median(wall):,.0f} | "
                     f"{statistics.fmean(cpu):,.0f} | {statistics.fmean(cpu) / (request_cpu * 1e6):.0%} |")
        for child in children.get(label, []):
            emit(child, depth + 1)
        if label in children:
            rest = mean_cpu(label) - sum(mean_cpu(child) for child in children[label])
            lines.append(f"| {'&nbsp;&nbsp;' * (depth + 1)}*the rest of {label if depth else 'the request'}* | | | "
                         f"{rest:,.0f} | {rest / (request_cpu * 1e6):.0%} |")

    emit(REQUEST, 0)
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=1)
    args = parser.parse_args()
    os.environ["BENCH_TEXTS"] = "distinct"
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "stages").mkdir()
        redis = RedisServer(tmp / "redis", port=free_port(), unix_socket=tmp / "redis.sock").start()
        running = []
        try:
            os.environ["BENCH_SITE_KEY"] = load.site_key(redis.url)
            service, base, settings = start_service(redis.url, tmp, tmp / "stages")
            running.append(service)
            bare, bare_base = load.start_baseline(settings.workers, settings.threads)  # the same gunicorn settings
            running.append(bare)
            load.run_wrk(base, args.connections, 3)  # warm-up: the caches fill, the first requests are skipped
            load.run_wrk(bare_base, args.connections, 3)
            client = redis_py.Redis.from_url(redis.url, decode_responses=True)
            client.config_resetstat()
            service_result, service_cpu = measured_run(
                base, {"workers": descendants(service.pid), "Redis": [redis.process.pid]}, args.connections, args.seconds)
            commands = client.info("commandstats")
            bare_result, bare_cpu = measured_run(bare_base, {"workers": descendants(bare.pid)}, args.connections,
                                                 args.seconds)
        finally:
            for proc in running:  # the workers write their timings as they exit
                load.stop(proc)
            redis.stop()
        rows = [row for path in (tmp / "stages").glob("*.json") for row in json.loads(path.read_text())]
    print(f"## One submission inside a live worker\n\nCommand: `.venv/bin/python benchmarks/live_stages.py "
          f"{' '.join(sys.argv[1:])}`. wrk, {args.connections} connection(s), {args.seconds} s, distinct texts; "
          f"{len(rows):,} timed requests.\n")
    print(stage_table(rows))
    for clock, name in ((0, "CPU"), (1, "wall")):
        spread = statistics.quantiles([row[REQUEST][clock] * 1e6 for row in rows], n=100)
        print(f"\nThe request's {name} time: p50 {spread[49]:,.0f} µs, p90 {spread[89]:,.0f} µs, "
              f"p99 {spread[98]:,.0f} µs.", end="")
    print()
    print("\n| endpoint | requests/s | p50 ms | p99 ms | CPU µs per request: workers | Redis | wrk | steal |\n"
          "|---|---|---|---|---|---|---|---|")
    for name, result, cpu in (("service", service_result, service_cpu), ("bare Flask", bare_result, bare_cpu)):
        print(f"| {name} | {result['rps']:,.0f} | {result['p50']:.2f} | {result['p99']:.2f} | "
              f"{cpu['workers']:,.0f} | {cpu.get('Redis', 0):,.0f} | {cpu['wrk']:,.0f} | {result['steal']:.0%} |")
    print(redis_table(commands, service_result["rps"] * args.seconds))


def redis_table(commands: dict, requests: float) -> str:
    """Redis's time per request by command (INFO commandstats), the admission script's split in two: the commands
    it calls (counted under their own names as well; the background threads' few commands count with them) and the
    rest (Lua, decoding its payload, each call's cost)."""
    script = commands.get("cmdstat_evalsha", {"usec": 0, "calls": 0})
    inner = {name.removeprefix("cmdstat_"): stats for name, stats in commands.items() if name != "cmdstat_evalsha"}
    called = sum(stats["usec"] for stats in inner.values())
    lines = [f"\nInside Redis, per request: the admission script {script['usec'] / requests:,.0f} µs "
             f"({script['calls'] / requests:.2f} calls), of which its commands {called / requests:,.0f} µs and the "
             f"rest (Lua, its payload's decoding, each call's own cost) {(script['usec'] - called) / requests:,.0f} µs."
             "\n\n| command | calls per request | µs per request |\n|---|---|---|"]
    for name, stats in sorted(inner.items(), key=lambda item: -item[1]["usec"])[:8]:
        lines.append(f"| {name} | {stats['calls'] / requests:.1f} | {stats['usec'] / requests:.1f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
