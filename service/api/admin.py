"""Admin endpoints: people's tokens, model promotion and rollback, shadow scoring, labels."""

from __future__ import annotations

import ipaddress
import re

from flask import Blueprint, Response, g, request, stream_with_context

from ..errors import ConflictError, ModelError, NotFoundError, ValidationError
from ..moderation.rules import LIST_NAMES
from . import runtime
from .auth import require
from .bodies import read_json_object
from .params import since_param
from .schemas import FieldSpec, check_http_url, validate_submission

WEBHOOK_FIELDS = (FieldSpec("url", check_http_url, 2048, "Where comment.decided events are POSTed", required=True,
                            format="uri"),)

bp = Blueprint("admin", __name__)


@bp.get("/v1/admin/tokens")
@require("admin")
def list_tokens():
    """List who has a token, with role and creation time (never the token)."""
    return {"tokens": runtime().accounts.list_tokens()}


@bp.delete("/v1/admin/tokens/<name>")
@require("admin")
def revoke_token(name: str):
    """Revoke a person's token at once, on every instance."""
    runtime().accounts.revoke(name)
    return "", 204


VERSION_RE = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}$")


def _version_from_body() -> str:
    body = read_json_object()
    version = body.get("version") if isinstance(body, dict) else None
    if not isinstance(version, str) or not VERSION_RE.match(version):
        raise ValidationError([{"field": "version", "message": "must name a model directory in the models root"}])
    return version


def _registry_call(action):
    try:
        return action()
    except ModelError as exc:
        raise ConflictError(exc.detail) from exc


def _with_version_from_body(action):
    """Run a registry action on the models-root directory the body names; 409 if the model is refused."""
    version = _version_from_body()
    return _registry_call(lambda: action(version, g.user["name"]))


@bp.get("/v1/admin/model")
@require("admin")
def model_history():
    """The active and shadow records, earlier active models, and the retraining runs, promoted or not."""
    return runtime().administration.model_history()


@bp.post("/v1/admin/model")
@require("admin")
def promote_model():
    """Verify a model of the models root and make it active on every instance."""
    return _with_version_from_body(runtime().administration.promote)


@bp.post("/v1/admin/model/rollback")
@require("admin")
def rollback_model():
    """Make the previously active model active again."""
    return _registry_call(lambda: runtime().administration.rollback(g.user["name"]))


@bp.put("/v1/admin/shadow")
@require("admin")
def set_shadow():
    """Have every instance also score with a candidate model, without affecting decisions."""
    return _with_version_from_body(runtime().administration.set_shadow)


@bp.delete("/v1/admin/shadow")
@require("admin")
def clear_shadow():
    """Stop shadow scoring."""
    runtime().administration.clear_shadow()
    return "", 204


@bp.get("/v1/admin/shadow")
@require("admin")
def shadow():
    """The shadow report of a version (default: the current shadow model)."""
    report = runtime().administration.shadow_report(request.args.get("version"))
    if report is None:
        raise NotFoundError("No shadow model is set; pass ?version= to see an earlier one.")
    return report


@bp.get("/v1/labels")
@require("admin")
def labels():
    """Stream the moderators' decisions as JSONL, one label per line, oldest first."""
    lines = runtime().administration.export_labels(since_param(request.args.get("since")))
    return Response(stream_with_context(lines), mimetype="application/x-ndjson")


@bp.post("/v1/admin/webhooks")
@require("admin")
def add_webhook():
    """Register an endpoint; the answer holds its signing secret, shown this once."""
    url = validate_submission(read_json_object(), WEBHOOK_FIELDS)["url"]
    endpoint, secret = runtime().administration.add_webhook(url)
    return {**endpoint, "secret": secret}, 201


@bp.get("/v1/admin/webhooks")
@require("admin")
def list_webhooks():
    """Endpoints (without secrets), deliveries waiting, and the latest delivery attempts."""
    return runtime().administration.webhooks()


@bp.delete("/v1/admin/webhooks/<endpoint_id>")
@require("admin")
def remove_webhook(endpoint_id: str):
    """Stop sending events to an endpoint."""
    runtime().administration.remove_webhook(endpoint_id)
    return "", 204


@bp.post("/v1/admin/webhooks/<endpoint_id>/secrets")
@require("admin")
def rotate_webhook_secret(endpoint_id: str):
    """Add a secret (deliveries are signed with every secret until the old one is removed); shown this once."""
    endpoint, secret = runtime().administration.add_webhook_secret(endpoint_id)
    return {**endpoint, "secret": secret}, 201


@bp.delete("/v1/admin/webhooks/<endpoint_id>/secrets/<secret_id>")
@require("admin")
def remove_webhook_secret(endpoint_id: str, secret_id: str):
    """Finish a rotation by removing the old secret."""
    try:
        return runtime().administration.remove_webhook_secret(endpoint_id, secret_id)
    except ValueError as exc:
        raise ConflictError(f"Cannot remove the last secret: {exc}.") from exc


MAX_LIST_ENTRIES = 10_000


def _clean_entries(name: str, entries) -> list[str]:
    if not isinstance(entries, list) or len(entries) > MAX_LIST_ENTRIES:
        raise ValidationError([{"field": "entries", "message": f"must be an array of at most {MAX_LIST_ENTRIES} strings"}])
    cleaned, errors = [], []
    for i, entry in enumerate(entries):
        if not isinstance(entry, str) or not entry.strip() or len(entry) > 200 or any(ord(c) < 32 for c in entry):
            errors.append({"field": f"entries[{i}]",
                           "message": "must be a non-blank single-line string of at most 200 characters"})
            continue
        entry = entry.strip()
        if name.endswith("_ips"):
            try:
                entry = str(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                errors.append({"field": f"entries[{i}]", "message": "must be an IP address or network such as 203.0.113.0/24"})
                continue
        elif name != "block_words":
            entry = entry.lower()
        cleaned.append(entry)
    if errors:
        raise ValidationError(errors)
    return sorted(set(cleaned))


@bp.get("/v1/admin/lists")
@require("admin")
def get_lists():
    """The block, allow and disposable-domain lists."""
    return {name: sorted(entries) for name, entries in runtime().guard.lists.get().items()}


@bp.put("/v1/admin/lists/<name>")
@require("admin")
def put_list(name: str):
    """Replace one list; every instance applies it within seconds."""
    if name not in LIST_NAMES:
        raise NotFoundError(f"There is no list {name!r}; the lists are {', '.join(LIST_NAMES)}.")
    body = read_json_object()
    entries = _clean_entries(name, body.get("entries") if isinstance(body, dict) else None)
    runtime().guard.lists.replace(name, entries)
    return {"name": name, "entries": entries}
