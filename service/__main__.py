"""Command line: `python -m service serve` (what `make run` calls), tokens, models, labels and reports."""

from __future__ import annotations

import argparse
import json
import sys

from . import lifecycle
from .config import Settings
from .errors import ModerationError
from .logs import configure_logging
from .moderation.shadow import shadow_report
from .serve import serve
from .storage import model_registry, tokens
from .storage.client import connect, ping


def build_parser() -> argparse.ArgumentParser:
    """Describe the sub-commands."""
    parser = argparse.ArgumentParser(prog="python -m service", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="serve the API with gunicorn (embedded Redis unless MODERATION_REDIS_URL is set)")
    token_parser = commands.add_parser("tokens", help="manage the API tokens of moderators and admins")
    token_commands = token_parser.add_subparsers(dest="tokens_command", required=True)
    create = token_commands.add_parser("create", help="create a token and print it once on stdout")
    create.add_argument("--name", required=True, help="the person's name, e.g. awa")
    create.add_argument("--role", required=True, choices=tokens.ROLES)
    create.add_argument("--replace", action="store_true", help="replace the person's existing token")
    token_commands.add_parser("list", help="list names, roles and creation times")
    shadow = commands.add_parser("shadow-report", help="compare the shadow model with the active one and the labels")
    shadow.add_argument("--version", help="shadow model version (default: the current shadow model)")
    revoke = token_commands.add_parser("revoke", help="delete a person's token")
    revoke.add_argument("name")
    lifecycle.add_commands(commands)
    return parser


def checked_client(settings: Settings):
    """A Redis client for a command, after a ping (StorageUnavailableError if Redis does not answer)."""
    client = connect(settings.redis_url, timeout=max(settings.redis_timeout, 2.0))
    ping(client)
    return client


def run_tokens(args, settings: Settings) -> int:
    """Create, list or revoke tokens; the token alone goes to stdout, messages to stderr."""
    client = checked_client(settings)
    if args.tokens_command == "create":
        try:
            token = tokens.create(client, args.name, args.role, replace=args.replace)
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(token)
        article = "an" if args.role[0] in "aeiou" else "a"
        print(f"created {article} {args.role} token for {args.name}; it is shown only once", file=sys.stderr)
    elif args.tokens_command == "list":
        for row in tokens.list_all(client):
            print(f"{row['name']}\t{row['role']}\t{row['created_at']}")
    elif args.tokens_command == "revoke":
        tokens.revoke(client, args.name)
        print(f"revoked the token of {args.name}", file=sys.stderr)
    return 0


def run_shadow_report(args, settings: Settings) -> int:
    """Print the shadow report as JSON."""
    client = checked_client(settings)
    version = args.version or model_registry.shadow_version(client)
    if not version:
        print("error: no shadow model is set; pass --version", file=sys.stderr)
        return 2
    print(json.dumps(shadow_report(client, version), indent=2))
    return 0


def main(argv=None) -> int:
    """Run one sub-command; configuration and storage errors are reported on stderr with status 2."""
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
        configure_logging(settings.log_level)
        if args.command == "serve":
            return serve(settings)
        if args.command == "tokens":
            return run_tokens(args, settings)
        if args.command == "shadow-report":
            return run_shadow_report(args, settings)
        if args.command in lifecycle.COMMANDS:
            return lifecycle.run(args, settings)
    except ModerationError as exc:
        print(f"error: {exc.detail}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
