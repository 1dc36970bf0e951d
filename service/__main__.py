"""Command line: `python -m service serve` (what `make run` calls) and administrative commands."""

from __future__ import annotations

import argparse
import sys

from . import configure_logging
from .config import Settings
from .errors import ModerationError
from .serve import serve


def build_parser() -> argparse.ArgumentParser:
    """Describe the sub-commands."""
    parser = argparse.ArgumentParser(prog="python -m service", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="serve the API with gunicorn (embedded Redis unless MODERATION_REDIS_URL is set)")
    return parser


def main(argv=None) -> int:
    """Run one sub-command; configuration and storage errors are reported on stderr with status 2."""
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
        configure_logging(settings.log_level)
        if args.command == "serve":
            return serve(settings)
    except ModerationError as exc:
        print(f"error: {exc.detail}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
