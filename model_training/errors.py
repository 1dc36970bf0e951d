"""The one exception hierarchy of the training tools."""


class TrainingError(Exception):
    """Base class of every error the training tools report to the user."""


class DataFormatError(TrainingError):
    """A corpus file could not be recognised or parsed."""


class ThresholdError(TrainingError):
    """No pair of thresholds meets the requested precision and recall targets."""


class ArtifactError(TrainingError):
    """A model directory is missing, malformed or fails its integrity check."""
