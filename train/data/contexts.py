"""Drawing a user's context: the survey pairs they answered, shared by every builder.

Each user type owns a survey pool (16 train pairs by default). A row's context is 2..8 pairs
drawn without replacement from its type's pool, with the side that type chose. With
``answers`` for every type, the draw is repeated until the context *identifies* the type:
exactly one type's noiseless choices agree with every answered pair. Builders choose pools in
which one pair never suffices, so the model must combine answers to know who it serves.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal, Mapping, Sequence

from train.data.schema import DatasetError

__all__ = ["Choice", "ContextSpec", "consistent_types", "draw_context"]

Choice = Literal["a", "b"]


@dataclass(frozen=True)
class ContextSpec:
    """How contexts are drawn."""

    min_size: int = 2  # fewest answered pairs; 2 is the least that can separate 4 types
    max_size: int = 8  # most answered pairs (the paper's 2..8)
    max_tries: int = 2000  # redraws before concluding the pool cannot identify the type
    allow_empty: bool = False  # min_size 0 allowed (the population world's empty contexts)

    def __post_init__(self) -> None:
        low = 0 if self.allow_empty else 1
        if not low <= self.min_size <= self.max_size:
            raise DatasetError(
                f"context sizes must satisfy {low} <= min <= max, got {self.min_size}..{self.max_size}"
            )

    def sizes(self) -> list[int]:
        """The card's ``context_sizes`` field."""
        return [self.min_size, self.max_size]


def consistent_types(
    context: Sequence[Mapping[str, str]], answers: Mapping[str, Mapping[str, Choice]]
) -> list[str]:
    """The types whose noiseless answer agrees with every ``{"id", "chosen"}`` in ``context``.

    ``answers[type][survey_id]`` is that type's noiseless choice; a type that has no answer for
    a pair is treated as undecided there and stays consistent.
    """
    return [
        kind for kind, chosen in answers.items()
        if all(chosen.get(item["id"], item["chosen"]) == item["chosen"] for item in context)
    ]


def draw_context(
    pool: Sequence[str],
    own_answers: Mapping[str, Choice],
    rng: random.Random,
    spec: ContextSpec = ContextSpec(),
    *,
    answers: Mapping[str, Mapping[str, Choice]] | None = None,
    user_type: str | None = None,
) -> list[dict[str, str]]:
    """Draw one context: ``[{"id": survey id, "chosen": "a"|"b"}, ...]`` from ``pool``.

    ``own_answers`` is this user's choice on each pool pair. The size is uniform in
    ``spec.min_size..spec.max_size`` (clipped to the pool). When ``answers`` (every type's
    noiseless choices) and ``user_type`` are given, draws repeat until ``user_type`` is the only
    consistent type; after ``spec.max_tries`` failures a ``DatasetError`` says which pool is at
    fault. Deterministic for a given ``rng`` state.
    """
    if not pool:
        raise DatasetError(f"user type {user_type!r} has an empty survey pool")
    top = min(spec.max_size, len(pool))
    low = min(spec.min_size, top)
    for _ in range(spec.max_tries):
        size = rng.randint(low, top)
        ids = rng.sample(list(pool), size)
        context = [{"id": sid, "chosen": own_answers[sid]} for sid in ids]
        if answers is None or consistent_types(context, answers) == [user_type]:
            return context
    raise DatasetError(
        f"could not draw a context of {low}..{top} pairs that identifies user type "
        f"{user_type!r} after {spec.max_tries} tries: its survey pool of {len(pool)} pairs does "
        "not separate it from the other types; choose pairs the types disagree on"
    )
