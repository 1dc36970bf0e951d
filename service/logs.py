"""Where the service's logs go."""

from __future__ import annotations

import logging


def configure_logging(level: str) -> None:
    """Send the service's logs to stderr as plain lines (request lines are JSON themselves)."""
    logger = logging.getLogger("service")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        logger.addHandler(handler)
        logger.propagate = False
    logger.setLevel(level)
