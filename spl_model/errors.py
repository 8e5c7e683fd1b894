"""Domain exceptions: each message says what was seen, what was expected, and what to do."""

__all__ = ["CheckpointError", "ShapeError", "SPLError"]


class SPLError(Exception):
    """Base class of every error raised on purpose by ``spl_model``."""


class ShapeError(SPLError, ValueError):
    """A tensor given to a public entry point has the wrong shape or dtype."""


class CheckpointError(SPLError):
    """A run folder cannot be loaded: missing file, pickle, hash mismatch, bad dims, NaN."""
