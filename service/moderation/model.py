"""Load a verified model directory (format in model_training.artifact) and build its fast scorer."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from model_training.artifact import ArtifactError, load_verified, resolve_model_dir
from model_training.language import MIN_LANGUAGE_EXAMPLES, UNDETERMINED

from ..errors import ModelError
from .scorer import LinearScorer


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
    def identity(self) -> tuple[str, str]:
        """Its version and its artifact's digest: two loaded models with the same identity score alike."""
        return self.version, self.metadata["artifact"]["sha256"]

    @property
    def thresholds(self) -> dict:
        """The model's own approve-below / reject-at thresholds."""
        return self.metadata["thresholds"]

    @functools.cached_property  # asked for every comment scored
    def known_languages(self) -> frozenset | None:
        """Languages the model was trained on enough of, or None when its metadata does not say."""
        counts = self.metadata.get("data", {}).get("languages")
        if counts is None:
            return None
        return frozenset(lang for lang, n in counts.items() if n >= MIN_LANGUAGE_EXAMPLES and lang != UNDETERMINED)


def load_model(path: Path, expected_sha256: str | None = None) -> LoadedModel:
    """Resolve, verify and load a model directory; raise ModelError with the reason if anything is off."""
    try:
        model_dir = resolve_model_dir(path)
        metadata, pipeline = load_verified(model_dir, expected_sha256)
    except ArtifactError as exc:
        raise ModelError(str(exc)) from exc
    try:
        scorer = LinearScorer.from_pipeline(pipeline)
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise ModelError(f"{model_dir}: not a pipeline this service can score ({exc})") from exc
    return LoadedModel(directory=model_dir, metadata=metadata, pipeline=pipeline, scorer=scorer)
