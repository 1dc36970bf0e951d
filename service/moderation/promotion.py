"""Promote, roll back and shadow models: the use cases behind the CLI and the admin API.

A candidate is verified (metadata, sha256, unpickling, the smoke set) and
placed in the models root before its record reaches Redis, so every instance
can load it from its own disk.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from model_training.artifact import ArtifactError, load_verified, read_metadata, resolve_model_dir, smoke_test

from ..errors import ModelError
from ..storage import keys, model_registry


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
    if model_dir.parent == Path(models_root).resolve():
        return model_dir
    target = Path(models_root) / model_dir.name
    if target.exists():
        raise ArtifactError(f"{target} already exists and is not {model_dir}")
    shutil.copytree(model_dir, target)
    return target


def record_for(metadata: dict, actor: str) -> dict:
    """The registry record of a verified model."""
    return {"version": metadata["version"], "sha256": metadata["artifact"]["sha256"], "by": actor, "at": _now()}


def _verified_record(model_dir: Path, actor: str, models_root: Path) -> dict:
    try:
        return record_for(verify_candidate(place_in_root(model_dir, models_root)), actor)
    except ArtifactError as exc:
        raise ModelError(str(exc)) from exc


def _startup_record(models_root: Path) -> dict | None:
    """The model instances serve before any promotion (the root's ACTIVE one), so a first promotion can be undone."""
    try:
        return record_for(read_metadata(resolve_model_dir(models_root)), "startup")
    except ArtifactError:
        return None


def active_record(client, models_root: Path) -> dict | None:
    """The record of the model every instance serves: the promoted one, else the root's ACTIVE one."""
    return model_registry.read(client) or _startup_record(models_root)


def promote(client, model_dir: Path, actor: str, models_root: Path) -> dict:
    """Verify a model, make it the active one for every instance, and keep the previous one for rollback."""
    record = _verified_record(model_dir, actor, models_root)
    previous = model_registry.read(client) or _startup_record(models_root)
    model_registry.announce(client, keys.active_model(), record, previous=previous)
    return record


def rollback(client, actor: str) -> dict:
    """Make the previously active model active again; raise ModelError if there is none."""
    previous = model_registry.pop_previous(client)
    if previous is None:
        raise ModelError("there is no earlier model to roll back to")
    record = {**previous, "by": actor, "at": _now(), "rolled_back": "1"}
    model_registry.announce(client, keys.active_model(), record)
    return record


def set_shadow(client, model_dir: Path, actor: str, models_root: Path) -> dict:
    """Verify a model and have every instance score with it in shadow, without affecting decisions."""
    record = _verified_record(model_dir, actor, models_root)
    model_registry.announce(client, keys.shadow_model(), record)
    return record


def clear_shadow(client) -> None:
    """Stop shadow scoring on every instance."""
    model_registry.announce(client, keys.shadow_model(), None)
