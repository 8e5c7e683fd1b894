"""What the demo app's study export and the trainer's study importer agree on.

The app writes these conventions into its labels; ``python -m train data import`` reads them
back. Both import them from here, so the two ends cannot drift.
"""

__all__ = ["REPEAT_SUFFIX"]

REPEAT_SUFFIX = "#repeat"
"""The pair id of an attention check's second showing: ``"<pair_id>#repeat"``."""
