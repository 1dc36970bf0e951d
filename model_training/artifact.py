"""The model directory format: written by `train`, read by the service and by `promote`.

A model directory holds `model.joblib` and `metadata.json`; the metadata
names the artifact and its sha256, which is checked before anything is
unpickled. This module is shared with the service (like `features`), because
the trainer defines the format and every reader must agree on it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import joblib
import numpy as np

from .errors import ArtifactError
from .features import FEATURES_VERSION

MODEL_FORMAT = 1
ARTIFACT_NAME = "model.joblib"
METADATA_NAME = "metadata.json"
ACTIVE_POINTER = "ACTIVE"
REQUIRED_KEYS = ("format", "features_version", "version", "created_at", "artifact", "thresholds")
# Scored by every model before it is promoted: French and English, ham and spam, edge cases.
SMOKE_TEXTS = [
    "Merci pour cet article très clair.",
    "Check out my channel and subscribe http://spam.example.com",
    "I disagree with the author about the budget.",
    "WIN a FREE iPhone now!!! call +44 7700 900123",
    "",
    "<b>&amp;</b> 🙂",
]


def sha256_file(path: Path) -> str:
    """Return the hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def resolve_model_dir(path: Path) -> Path:
    """Return the model directory: `path` itself, or the one named by `path/ACTIVE`."""
    path = Path(path)
    if (path / METADATA_NAME).is_file():
        return path
    pointer = path / ACTIVE_POINTER
    if pointer.is_file():
        return model_in_root(path, pointer.read_text().strip())
    raise ArtifactError(f"{path} holds neither {METADATA_NAME} nor an {ACTIVE_POINTER} file naming a model directory")


def model_in_root(root: Path, version: str) -> Path:
    """Return root/version, refusing anything that is not a model directory directly inside root."""
    candidate = (Path(root) / version).resolve()
    if candidate.parent != Path(root).resolve() or not (candidate / METADATA_NAME).is_file():
        raise ArtifactError(f"{version!r} is not a model directory inside {root}")
    return candidate


def read_metadata(model_dir: Path) -> dict:
    """Read and check a model's metadata.json."""
    path = Path(model_dir) / METADATA_NAME
    try:
        metadata = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ArtifactError(f"{path}: cannot read ({exc})") from exc
    missing = [k for k in REQUIRED_KEYS if k not in metadata]
    if missing:
        raise ArtifactError(f"{path}: missing {', '.join(missing)}")
    if metadata["format"] != MODEL_FORMAT:
        raise ArtifactError(f"{model_dir}: model format {metadata['format']!r} is not supported")
    if metadata["features_version"] != FEATURES_VERSION:
        raise ArtifactError(f"{model_dir}: trained with features version {metadata['features_version']!r}, but this "
                            f"code computes version {FEATURES_VERSION}; retrain the model with this code")
    artifact = metadata["artifact"]
    if not isinstance(artifact, dict) or not {"file", "sha256"} <= artifact.keys() or "/" in artifact["file"]:
        raise ArtifactError(f"{path}: 'artifact' must name a file in the directory and its sha256")
    thresholds = metadata["thresholds"]
    for pair in (thresholds, *thresholds.get("by_language", {}).values()):
        if not (isinstance(pair, dict) and 0 <= pair.get("approve_below", -1) <= pair.get("reject_at", -1) <= 1
                and 0 <= pair.get("approve_parts_below", 0) <= pair["reject_at"]):
            raise ArtifactError(f"{path}: thresholds must satisfy 0 <= approve_below <= reject_at <= 1 and "
                                "0 <= approve_parts_below <= reject_at")
    return metadata


def load_verified(model_dir: Path, expected_sha256: str | None = None) -> tuple[dict, object]:
    """Check metadata and sha256 (and the expected sha256, when given), then unpickle; return (metadata, pipeline)."""
    metadata = read_metadata(model_dir)
    path = Path(model_dir) / metadata["artifact"]["file"]
    try:
        actual = sha256_file(path)
    except OSError as exc:
        raise ArtifactError(f"{path}: cannot read ({exc.strerror})") from exc
    if actual != metadata["artifact"]["sha256"]:
        raise ArtifactError(f"{path}: sha256 does not match metadata.json; refusing to load a modified artifact")
    if expected_sha256 is not None and actual != expected_sha256:
        raise ArtifactError(f"{path}: sha256 differs from the one recorded at promotion; refusing to load it")
    try:
        pipeline = joblib.load(path)
    except Exception as exc:  # unpickling can fail in many ways; all mean "unusable"
        raise ArtifactError(f"{path}: cannot be loaded ({type(exc).__name__}: {exc})") from exc
    return metadata, pipeline


def smoke_test(pipeline) -> list[float]:
    """Score the smoke texts; raise ArtifactError unless every result is a probability."""
    try:
        scores = pipeline.predict_proba(np.asarray(SMOKE_TEXTS, dtype=object))[:, 1]
    except Exception as exc:  # any failure here means the model cannot serve
        raise ArtifactError(f"the model failed to score the smoke set ({type(exc).__name__}: {exc})") from exc
    if not all(0.0 <= s <= 1.0 for s in scores):
        raise ArtifactError("the model returned scores outside [0, 1] on the smoke set")
    return [float(s) for s in scores]
