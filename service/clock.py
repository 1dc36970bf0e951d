"""The current time, in the two forms the service stores: ms since the epoch and ISO 8601 UTC (a leaf)."""

from __future__ import annotations

import datetime as dt
import time


def now_ms() -> int:
    """The current time in ms since the epoch."""
    return int(time.time() * 1000)


def iso(ms: int | None = None) -> str:
    """ms since the epoch (default: now) as ISO 8601 UTC with milliseconds."""
    ms = now_ms() if ms is None else ms
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).isoformat(timespec="milliseconds")
