"""Contexts: drawn from a type's pool, redrawn until they identify exactly that type."""

import random

import pytest

from train.data.contexts import ContextSpec, consistent_types, draw_context
from train.data.schema import DatasetError

# Four types; each survey pair splits them 2 vs 2 (p1: {w,x} vs {y,z}; p2: {w,y} vs {x,z}).
ANSWERS = {
    "w": {"p1": "a", "p2": "a"},
    "x": {"p1": "a", "p2": "b"},
    "y": {"p1": "b", "p2": "a"},
    "z": {"p1": "b", "p2": "b"},
}


def test_one_balanced_answer_leaves_two_types():
    assert consistent_types([{"id": "p1", "chosen": "a"}], ANSWERS) == ["w", "x"]


def test_two_answers_from_different_splits_identify_one_type():
    context = [{"id": "p1", "chosen": "a"}, {"id": "p2", "chosen": "b"}]
    assert consistent_types(context, ANSWERS) == ["x"]


def test_draw_context_returns_an_identifying_context_with_the_types_own_answers():
    rng = random.Random(0)
    for kind in ANSWERS:
        context = draw_context(["p1", "p2"], ANSWERS[kind], rng, answers=ANSWERS, user_type=kind)
        assert consistent_types(context, ANSWERS) == [kind]
        assert all(item["chosen"] == ANSWERS[kind][item["id"]] for item in context)


def test_draw_context_is_deterministic_for_a_seed():
    draw = lambda: draw_context(["p1", "p2"], ANSWERS["w"], random.Random(3), answers=ANSWERS, user_type="w")
    assert draw() == draw()


def test_a_pool_that_cannot_identify_its_type_is_an_error():
    answers = {"w": {"p1": "a"}, "x": {"p1": "a"}}
    with pytest.raises(DatasetError, match=r"could not draw a context of 1\.\.1 pairs that identifies user type 'w'"):
        draw_context(["p1"], answers["w"], random.Random(0), ContextSpec(1, 1, max_tries=5),
                     answers=answers, user_type="w")


def test_context_sizes_are_validated():
    with pytest.raises(DatasetError, match="1 <= min <= max, got 3..2"):
        ContextSpec(3, 2)
