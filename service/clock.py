"""The current time, in the two forms the service stores: ms since the epoch and ISO 8601 UTC (a leaf)."""

from __future__ import annotations

import datetime as dt
import time

# One day in ms: every retention period and window is counted in these days. benchmarks/redis_memory.py
# shortens it (a settable clock for the durations) to simulate weeks of a site in minutes.
DAY_MS = 86_400_000


def now_ms() -> int:
    """The current time in ms since the epoch."""
    return int(time.time() * 1000)


def iso(ms: int | None = None) -> str:
    """ms since the epoch (default: now) as ISO 8601 UTC with milliseconds."""
    ms = now_ms() if ms is None else ms
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).isoformat(timespec="milliseconds")


def parse_since(raw: str | None) -> int | None:
    """Read an ISO 8601 date or date-time (UTC when no zone is given); return ms since the epoch."""
    if not raw:
        return None
    moment = dt.datetime.fromisoformat(raw)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return max(0, int(moment.timestamp() * 1000))
