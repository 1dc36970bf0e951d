"""The model and label commands of `python -m service`: promote, rollback, shadow, export-labels, retrain.

They change or read what the service keeps in Redis, so they live with it;
`python -m model_training promote|rollback|shadow|export-labels` run these.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from .clock import parse_since
from .config import Settings
from .errors import ValidationError
from .storage import labels
from .storage.client import connect, ping

COMMANDS = ("promote", "rollback", "shadow", "export-labels", "retrain")


def add_commands(commands) -> None:
    """Add the sub-commands to the service's argument parser."""
    def redis_option(p):
        p.add_argument("--redis-url", help="Redis URL (default: MODERATION_REDIS_URL, else the embedded server of "
                                           "`make run`)")

    def models_root_option(p):
        p.add_argument("--models-root", type=Path, help="directory the instances load models from (default: "
                                                         "MODERATION_MODELS_ROOT, else ./models)")

    p = commands.add_parser("promote", help="verify a model and make it the active one for every running instance")
    p.add_argument("model_dir", type=Path, help="model directory written by `python -m model_training train`")
    models_root_option(p)
    redis_option(p)
    p = commands.add_parser("rollback", help="make the previously active model active again")
    redis_option(p)
    p = commands.add_parser("shadow", help="score every submission with a candidate model too, without using it")
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("model_dir", type=Path, nargs="?", help="model directory written by train")
    target.add_argument("--clear", action="store_true", help="stop shadow scoring")
    models_root_option(p)
    redis_option(p)
    p = commands.add_parser("export-labels", help="write the moderators' decisions as labelled JSONL")
    p.add_argument("--out", required=True, type=Path, help="output file ('-' for stdout)")
    p.add_argument("--since", help="only decisions made at or after this ISO 8601 date or time")
    redis_option(p)
    p = commands.add_parser(
        "retrain", help="train a candidate on the labels, judge it against the active model on the newest ones, "
                        "promote it only if it is better",
        description="Train a candidate on --data plus the moderators' labels (all but the newest 20 %%, held out "
                    "by decision time), with the active model's hyper-parameters; judge both models on the held-out "
                    "labels as the service decides; promote the candidate only if it automates more with no more "
                    "errors than allowed. Every run is recorded (GET /v1/admin/model) and its report written to "
                    "the candidate's directory (retrain.json).")
    p.add_argument("--data", action="extend", nargs="+", required=True, type=Path,
                   help="the base corpora, as for `python -m model_training train` (e.g. the output of fetch-data "
                        "and data/fr_news_comments.csv)")
    p.add_argument("--label-weight", type=float, help="sample weight of the labels (default: training's default)")
    p.add_argument("--min-new-labels", type=non_negative_int, default=0, metavar="N",
                   help="do nothing (exit status 0) unless N labels or more arrived since the last recorded run: "
                        "from cron or a timer, it then retrains every N moderator decisions (default: 0, always)")
    models_root_option(p)
    redis_option(p)


def non_negative_int(value: str) -> int:
    """An argparse type: a whole number, 0 or more."""
    if not value.isdigit():
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number of 0 or more")
    return int(value)


def run(args, settings: Settings) -> int:
    """Run one of COMMANDS; the version or the labels go to stdout, messages to stderr."""
    # Imported here, not with the module: `python -m service` builds its parser from this module for every
    # command, `serve` included, whose process would otherwise hold scikit-learn and the model's code (100 MB).
    from .moderation import promotion
    client = connect(args.redis_url or settings.redis_url, timeout=max(settings.redis_timeout, 5.0))
    ping(client)
    actor = f"{getpass.getuser()} (cli)"
    root = getattr(args, "models_root", None) or settings.models_root
    if args.command == "export-labels":
        return _export(client, args, settings)
    if args.command == "retrain":
        return _retrain(client, args, settings, actor, root)
    if args.command == "promote":
        record = promotion.promote(client, args.model_dir, actor, root)
        _say(f"model {record['version']} is now active; running instances switch within seconds")
    elif args.command == "rollback":
        record = promotion.rollback(client, actor)
        _say(f"rolled back: model {record['version']} is active again")
    elif args.clear:
        promotion.clear_shadow(client)
        _say("shadow scoring stopped")
        return 0
    else:
        record = promotion.set_shadow(client, args.model_dir, actor, root)
        _say(f"model {record['version']} now scores every submission in shadow")
    print(record["version"])
    return 0


def _export(client, args, settings: Settings) -> int:
    try:
        since = parse_since(args.since)
    except ValueError:
        raise ValidationError([{"field": "since", "message": f"{args.since!r} is not an ISO 8601 date or time"}],
                              detail=f"--since {args.since!r} is not an ISO 8601 date or time") from None
    out = sys.stdout if str(args.out) == "-" else args.out.open("w", encoding="utf-8")
    count = 0
    try:
        for line in labels.export_lines(client, labels.LabelArchive(settings.labels_dir), since):
            out.write(line)
            count += 1
    finally:
        if out is not sys.stdout:
            out.close()
    _say(f"exported {count} labels")
    return 0


def _retrain(client, args, settings: Settings, actor: str, root: Path) -> int:
    from .moderation.retraining import Retrainer  # as in run: only for this command

    report = Retrainer(client, Path(root), labels.LabelArchive(settings.labels_dir), args.data, actor,
                       args.label_weight, args.min_new_labels).run()
    if report.get("skipped"):
        _say(f"nothing to do: {report['reason']} (--min-new-labels)")
        return 0
    for role in ("candidate", "active"):
        m = report["metrics"][role]
        _say(f"{role} {report[role]}: automates {m['auto_share']:.1%} of {m['labels']} held-out labels; "
             f"ham auto-rejected {m['ham_auto_rejected']}, spam auto-approved {m['spam_approved']}")
    verdict = "promoted" if report["promoted"] else "kept the active model"
    _say(f"{verdict}: {report['reason']}")
    print(report["candidate"] if report["promoted"] else report["active"])
    return 0


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
