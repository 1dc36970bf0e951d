"""Model loading: metadata checks, the ACTIVE pointer and the sha256 integrity check."""

from __future__ import annotations

import json
import shutil

import pytest

from model_training.artifact import resolve_model_dir
from service.config import DEFAULT_MODELS_DIR
from service.errors import ModelError
from service.moderation.model import load_model


@pytest.fixture
def model_copy(tmp_path):
    """A writable copy of the shipped model directory."""
    source = resolve_model_dir(DEFAULT_MODELS_DIR)
    return shutil.copytree(source, tmp_path / source.name)


def test_shipped_model_loads_with_version_and_thresholds():
    model = load_model(DEFAULT_MODELS_DIR)
    assert model.version == model.directory.name
    assert 0 <= model.thresholds["approve_below"] <= model.thresholds["reject_at"] <= 1
    assert model.metadata["artifact"]["file"] == "model.joblib"


def test_active_pointer_selects_the_directory(tmp_path, model_copy):
    (tmp_path / "ACTIVE").write_text(model_copy.name + "\n")
    assert resolve_model_dir(tmp_path) == model_copy


def test_active_pointer_cannot_escape_the_models_directory(tmp_path, model_copy):
    inner = tmp_path / "inner"
    inner.mkdir()
    (inner / "ACTIVE").write_text(f"../{model_copy.name}")
    with pytest.raises(ModelError, match="is not a model directory inside"):
        load_model(inner)


def test_tampered_artifact_is_refused_before_unpickling(model_copy):
    artifact = model_copy / "model.joblib"
    data = bytearray(artifact.read_bytes())
    data[len(data) // 2] ^= 0xFF
    artifact.write_bytes(bytes(data))
    with pytest.raises(ModelError) as info:
        load_model(model_copy)
    assert info.value.detail == f"{artifact}: sha256 does not match metadata.json; refusing to load a modified artifact"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format": 99}, "model format 99 is not supported"),
        ({"features_version": 1}, "trained with features version 1, but this code computes version"),
        ({"thresholds": {"approve_below": 0.9, "reject_at": 0.1}}, "thresholds must satisfy"),
        ({"thresholds": {"approve_below": 0.1, "reject_at": 0.5, "approve_parts_below": 0.6}},
         "0 <= approve_parts_below <= reject_at"),
        ({"artifact": {"file": "../x", "sha256": "0"}}, "'artifact' must name a file in the directory"),
        ({"version": None, "__delete__": "version"}, "missing version"),
    ],
)
def test_malformed_metadata_is_refused(model_copy, change, message):
    path = model_copy / "metadata.json"
    metadata = json.loads(path.read_text())
    metadata.update({k: v for k, v in change.items() if k != "__delete__"})
    metadata.pop(change.get("__delete__", "-"), None)
    path.write_text(json.dumps(metadata))
    with pytest.raises(ModelError, match=message):
        load_model(model_copy)


def test_missing_directory_is_a_clear_error(tmp_path):
    with pytest.raises(ModelError, match="holds neither metadata.json nor an ACTIVE file"):
        load_model(tmp_path)
