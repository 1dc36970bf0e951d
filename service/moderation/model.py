"""Find, verify and load a model directory written by `model_training train`."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import joblib

from model_training.features import FEATURES_VERSION, UNDETERMINED

from ..errors import ModelError
from .scorer import LinearScorer

METADATA_NAME = "metadata.json"
# A language counts as known to a model once it has seen this many training texts in it.
MIN_LANGUAGE_EXAMPLES = 50
ACTIVE_POINTER = "ACTIVE"
SUPPORTED_FORMATS = (1,)
REQUIRED_KEYS = ("format", "features_version", "version", "created_at", "artifact", "thresholds")


@dataclass(frozen=True)
class LoadedModel:
    """A verified model: its metadata, the fitted pipeline and the fast scorer built from it."""

    directory: Path
    metadata: dict
    pipeline: object
    scorer: LinearScorer

    @property
    def version(self) -> str:
        """The model's version string, recorded with every decision."""
        return self.metadata["version"]

    @property
    def thresholds(self) -> dict:
        """The model's own approve-below / reject-at thresholds."""
        return self.metadata["thresholds"]

    @property
    def known_languages(self) -> frozenset | None:
        """Languages the model was trained on enough of, or None when its metadata does not say."""
        counts = self.metadata.get("data", {}).get("languages")
        if counts is None:
            return None
        return frozenset(lang for lang, n in counts.items() if n >= MIN_LANGUAGE_EXAMPLES and lang != UNDETERMINED)


def resolve_model_dir(path: Path) -> Path:
    """Return the model directory: `path` itself, or the one named by `path/ACTIVE`."""
    path = Path(path)
    if (path / METADATA_NAME).is_file():
        return path
    pointer = path / ACTIVE_POINTER
    if pointer.is_file():
        name = pointer.read_text().strip()
        candidate = (path / name).resolve()
        if candidate.parent != path.resolve() or not (candidate / METADATA_NAME).is_file():
            raise ModelError(f"{pointer} names {name!r}, which is not a model directory inside {path}")
        return candidate
    raise ModelError(f"{path} holds neither {METADATA_NAME} nor an {ACTIVE_POINTER} file naming a model directory")


def read_metadata(model_dir: Path) -> dict:
    """Read and check a model's metadata.json."""
    try:
        metadata = json.loads((model_dir / METADATA_NAME).read_text())
    except (OSError, ValueError) as exc:
        raise ModelError(f"{model_dir / METADATA_NAME}: cannot read ({exc})") from exc
    missing = [k for k in REQUIRED_KEYS if k not in metadata]
    if missing:
        raise ModelError(f"{model_dir / METADATA_NAME}: missing {', '.join(missing)}")
    if metadata["format"] not in SUPPORTED_FORMATS:
        raise ModelError(f"{model_dir}: model format {metadata['format']!r} is not supported")
    if metadata["features_version"] != FEATURES_VERSION:
        raise ModelError(f"{model_dir}: trained with features version {metadata['features_version']!r}, but this "
                         f"code computes version {FEATURES_VERSION}; retrain the model with this code")
    artifact = metadata["artifact"]
    if not isinstance(artifact, dict) or not {"file", "sha256"} <= artifact.keys() or "/" in artifact["file"]:
        raise ModelError(f"{model_dir / METADATA_NAME}: 'artifact' must name a file in the directory and its sha256")
    thresholds = metadata["thresholds"]
    if not (0 <= thresholds.get("approve_below", -1) <= thresholds.get("reject_at", -1) <= 1):
        raise ModelError(f"{model_dir / METADATA_NAME}: thresholds must satisfy 0 <= approve_below <= reject_at <= 1")
    return metadata


def verify_artifact(model_dir: Path, metadata: dict) -> Path:
    """Check the artifact's sha256 against the metadata before anything unpickles it."""
    path = model_dir / metadata["artifact"]["file"]
    digest = hashlib.sha256()
    try:
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    except OSError as exc:
        raise ModelError(f"{path}: cannot read ({exc.strerror})") from exc
    if digest.hexdigest() != metadata["artifact"]["sha256"]:
        raise ModelError(f"{path}: sha256 does not match metadata.json; refusing to load a modified artifact")
    return path


def load_model(path: Path) -> LoadedModel:
    """Resolve, verify and load a model directory; raise ModelError with the reason if anything is off."""
    model_dir = resolve_model_dir(path)
    metadata = read_metadata(model_dir)
    artifact = verify_artifact(model_dir, metadata)
    try:
        pipeline = joblib.load(artifact)
    except Exception as exc:  # unpickling can fail in many ways; all mean "unusable"
        raise ModelError(f"{artifact}: cannot be loaded ({type(exc).__name__}: {exc})") from exc
    try:
        scorer = LinearScorer.from_pipeline(pipeline)
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise ModelError(f"{artifact}: not a pipeline this service can score ({exc})") from exc
    return LoadedModel(directory=model_dir, metadata=metadata, pipeline=pipeline, scorer=scorer)
