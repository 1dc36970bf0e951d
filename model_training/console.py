"""What the commands tell the person running them, on stderr: one timestamped line a message."""

from __future__ import annotations

import datetime as dt
import sys


def log(message: str) -> None:
    """Print progress for long steps on stderr."""
    print(f"[{dt.datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)
