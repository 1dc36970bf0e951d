"""Which model every instance serves: the active and shadow records in Redis, promotion and rollback.

Shared with the service: `promote`/`rollback` (here, run by data scientists)
write the records; each service instance watches them and loads
`<models root>/<version>` from its own disk after checking the sha256 recorded
here. Redis holds no pickle: a compromised Redis cannot make an instance load
code that is not already in its configured models directory.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path

import redis

from . import connection
from .artifact import load_verified, read_metadata, resolve_model_dir, smoke_test
from .errors import ArtifactError

ACTIVE_KEY = "mod:model:active"
SHADOW_KEY = "mod:model:shadow"
HISTORY_KEY = "mod:model:history"
CHANNEL = "mod:model:changes"
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def default_redis_url() -> str:
    """The Redis `make run` uses: MODERATION_REDIS_URL, else the embedded server's socket."""
    data_dir = Path(os.environ.get("MODERATION_DATA_DIR") or PROJECT_ROOT / "var").resolve()
    return os.environ.get("MODERATION_REDIS_URL", "").strip() or f"unix://{data_dir / 'redis.sock'}"


def default_models_root() -> Path:
    """The directory every instance loads promoted models from."""
    return Path(os.environ.get("MODERATION_MODELS_ROOT") or PROJECT_ROOT / "models").resolve()


def connect(url: str | None = None) -> redis.Redis:
    """A client for the CLI commands."""
    return connection.connect(url or default_redis_url(), timeout=5)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def verify_candidate(model_dir: Path) -> dict:
    """Check metadata and sha256, unpickle, and score the smoke set; return the metadata."""
    metadata, pipeline = load_verified(model_dir)
    smoke_test(pipeline)
    return metadata


def place_in_root(model_dir: Path, models_root: Path) -> Path:
    """Return the model's directory inside the models root, copying it there if it is elsewhere."""
    model_dir = Path(model_dir).resolve()
    if model_dir.parent == models_root.resolve():
        return model_dir
    target = models_root / model_dir.name
    if target.exists():
        raise ArtifactError(f"{target} already exists and is not {model_dir}")
    shutil.copytree(model_dir, target)
    return target


def record_for(metadata: dict, actor: str) -> dict:
    """The registry record of a verified model."""
    return {"version": metadata["version"], "sha256": metadata["artifact"]["sha256"], "by": actor, "at": _now()}


def read(client, key: str = ACTIVE_KEY) -> dict | None:
    """Return the active (or shadow) record, or None."""
    return client.hgetall(key) or None


def shadow_version(client) -> str | None:
    """The version of the current shadow model, or None."""
    record = read(client, SHADOW_KEY)
    return record["version"] if record else None


def promote(client, model_dir: Path, actor: str, models_root: Path | None = None) -> dict:
    """Verify a model, make it the active one for every instance, and keep the previous one for rollback."""
    root = models_root or default_models_root()
    placed = place_in_root(model_dir, root)
    record = record_for(verify_candidate(placed), actor)
    current = read(client) or _startup_record(root)
    pipe = client.pipeline(transaction=True)
    if current:
        pipe.lpush(HISTORY_KEY, json.dumps(current))
        pipe.ltrim(HISTORY_KEY, 0, 49)
    _announce(pipe, ACTIVE_KEY, record)
    return record


def _announce(pipe, key: str, record: dict | None) -> None:
    """Replace the active or shadow record and tell every instance, in the pipeline's transaction."""
    pipe.delete(key)
    if record:
        pipe.hset(key, mapping=record)
    role = "active" if key == ACTIVE_KEY else "shadow"
    pipe.publish(CHANNEL, json.dumps({role: record["version"] if record else None}))
    pipe.execute()


def _startup_record(root: Path) -> dict | None:
    """The model instances serve before any promotion (the root's ACTIVE one), so a first promotion can be undone."""
    try:
        return record_for(read_metadata(resolve_model_dir(root)), "startup")
    except ArtifactError:
        return None


def rollback(client, actor: str) -> dict:
    """Make the previously active model active again; raise ArtifactError if there is none."""
    raw = client.lpop(HISTORY_KEY)
    if raw is None:
        raise ArtifactError("there is no earlier model to roll back to")
    previous = json.loads(raw)
    record = {**previous, "by": actor, "at": _now(), "rolled_back": "1"}
    _announce(client.pipeline(transaction=True), ACTIVE_KEY, record)
    return record


def set_shadow(client, model_dir: Path, actor: str, models_root: Path | None = None) -> dict:
    """Verify a model and have every instance score with it in shadow, without affecting decisions."""
    placed = place_in_root(model_dir, models_root or default_models_root())
    record = record_for(verify_candidate(placed), actor)
    _announce(client.pipeline(transaction=True), SHADOW_KEY, record)
    return record


def clear_shadow(client) -> None:
    """Stop shadow scoring on every instance."""
    _announce(client.pipeline(transaction=True), SHADOW_KEY, None)
