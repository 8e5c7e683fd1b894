"""The synthetic builder's population world and the six-attribute rendering it uses."""

import math
import random
import re
from collections import Counter, defaultdict

import pytest
from click.testing import CliRunner

from train.cli_data import data
from train.data.schema import DatasetError, load_dataset, write_dataset
from train.data.synthetic import SyntheticConfig, all_advice, build_synthetic
from train.data.synthetic_population import (
    CORRELATIONS,
    PERSONAS,
    POPULATION_TEMPERATURE,
    prior_cholesky,
    prior_mean,
    prior_cov,
    sample_weights,
    self_agreement,
)
from train.data.synthetic_render import ATTRIBUTES, ATTRIBUTES_6, COMBOS_6, render6

# -- rendering ----------------------------------------------------------------------------------

FORMAL_MARKS = ("as follows", "is recommended", "are recommended")
CONTRACTION = re.compile(r"\b\w+'(t|re|ll|ve|m|d)\b|\b(it|that|there|let)'s\b", re.IGNORECASE)


@pytest.fixture(scope="module")
def rendered():
    return [(a, {c: render6(a, c) for c in COMBOS_6}) for a in all_advice()]


def test_render6_gives_64_distinct_readable_texts_for_every_prompt(rendered):
    assert len(COMBOS_6) == 64 and len(set(COMBOS_6)) == 64
    assert ATTRIBUTES_6 == ("concise", "friendly", "steps", "cautious", "formal", "example")
    for advice, texts in rendered:
        assert len(set(texts.values())) == 64, advice.prompt
        for text in texts.values():
            assert text[0].isupper() or text.startswith("1. "), text
            assert not re.search(r"[{}]|None|  |\.\.|\s[,.]|\n\n\n", text), text
            assert text.rstrip()[-1] in ".!?", text


def _features(advice, text):
    """Simple text features, one per attribute, each read without knowing the others."""
    third_tip = advice.tips[2][0]
    return {
        "concise": third_tip[1:30] not in text and third_tip[1:30].lower() not in text,
        "friendly": "!" in text,
        "steps": bool(re.search(r"^1\. ", text, re.MULTILINE)),
        "cautious": advice.caution[-30:] in text,
        "formal": any(mark in text for mark in FORMAL_MARKS),
        "example": "For example," in text or "For instance," in text,
    }


def test_each_attribute_is_visible_in_the_text(rendered):
    for advice, texts in rendered:
        for combo, text in texts.items():
            want = {a: v > 0 for a, v in zip(ATTRIBUTES_6, combo)}
            assert _features(advice, text) == want, (combo, text)
            if combo[4] > 0:  # the formal register writes contractions out
                assert not CONTRACTION.search(text), text


def test_concise_is_shorter_with_everything_else_fixed(rendered):
    for _, texts in rendered:
        for combo, text in texts.items():
            if combo[0] > 0:
                longer = texts[(-1,) + combo[1:]]
                assert len(text.split()) < len(longer.split())


# -- the population world -----------------------------------------------------------------------

POP = SyntheticConfig(world="population", population_users=200, heldout_users=30,
                      persona_users=4, pool_size=300, seed=4)


@pytest.fixture(scope="module")
def pop():
    return build_synthetic(POP)


def test_counts_and_defaults_of_the_population_world(pop):
    assert {k: len(v) for k, v in pop.splits.items()} == {
        "train": 200 * 8, "test": (30 + 4 * 4) * 10, "survey": 300}
    resolved = SyntheticConfig(world="population").resolved()
    assert (resolved.pool_size, resolved.min_context, resolved.max_context,
            resolved.temperature, resolved.population_users, resolved.rows_per_user,
            resolved.heldout_users, resolved.rows_per_heldout_user,
            resolved.persona_users) == (2000, 0, 12, POPULATION_TEMPERATURE, 6000, 8, 500, 10, 25)
    types = SyntheticConfig().resolved()
    assert (types.pool_size, types.min_context, types.max_context, types.temperature) == (16, 2, 8, 4.0)


def test_every_train_user_is_a_distinct_person_with_signed_weights(pop):
    by_user = defaultdict(list)
    for row in pop.splits["train"]:
        by_user[row["user"]].append(row)
    assert len(by_user) == 200 and all(re.fullmatch(r"pop-\d{6}", u) for u in by_user)
    assert all(len(rows) == 8 for rows in by_user.values())
    weights = set()
    for rows in by_user.values():
        assert all(r["user_type"] is None and r["user_weights"] == rows[0]["user_weights"]
                   for r in rows)
        weights.add(tuple(rows[0]["user_weights"]))
    assert len(weights) == 200
    for k in range(6):
        column = [w[k] for w in weights]
        assert min(column) < -0.5 and max(column) > 0.5  # signed, on every attribute


def test_prior_sampler_matches_sigma():
    cov = prior_cov()
    assert all(cov[i][j] == cov[j][i] for i in range(6) for j in range(6))
    assert all(cov[i][i] == 1.0 for i in range(6)) and len(CORRELATIONS) >= 3
    chol = prior_cholesky(cov)  # raises unless positive definite
    rng = random.Random(0)
    draws = [sample_weights(rng, chol) for _ in range(20000)]
    mu = prior_mean()
    assert any(mu) and all(abs(m) < 0.5 for m in mu)  # a shared taste, smaller than the spread
    for i in range(6):
        assert abs(sum(w[i] for w in draws) / len(draws) - mu[i]) < 0.03
        for j in range(6):
            emp = sum((w[i] - mu[i]) * (w[j] - mu[j]) for w in draws) / len(draws)
            assert abs(emp - cov[i][j]) < 0.05, (i, j, emp)


def test_self_agreement_is_in_the_stated_band(pop):
    assert 0.85 <= self_agreement(POPULATION_TEMPERATURE, n=20000, seed=1) <= 0.90
    world = pop.card["world"]
    assert 0.85 <= world["self_agreement"] <= 0.90
    # the labels are Bradley-Terry draws: they agree with the margin's sign about that often
    rows = pop.splits["train"]
    agree = [sum(w * (a - b) for w, a, b in zip(r["user_weights"], r["attributes_chosen"],
                                                 r["attributes_rejected"])) > 0 for r in rows]
    assert abs(sum(agree) / len(agree) - world["self_agreement"]) < 0.03


def test_train_contexts_are_subsets_of_the_users_answers_including_empty(pop):
    sizes = Counter(len(r["context"]) for r in pop.splits["train"])
    assert sizes[0] > 0 and min(sizes) == 0 and max(sizes) == 12 and len(sizes) == 13
    answers = defaultdict(dict)
    for row in pop.splits["train"]:
        for item in row["context"]:
            assert answers[row["user"]].setdefault(item["id"], item["chosen"]) == item["chosen"]
    assert all(len(a) <= 12 for a in answers.values())


def test_test_users_share_their_full_context_and_personas_are_there(pop):
    by_user = defaultdict(list)
    for row in pop.splits["test"]:
        by_user[row["user"]].append(row)
    types = Counter(rows[0]["user_type"] for rows in by_user.values())
    assert types == {"heldout": 30, **{p: 4 for p in PERSONAS}}
    assert set(PERSONAS) == {f"persona-{a}" for a in ATTRIBUTES}
    for user, rows in by_user.items():
        assert len(rows) == 10
        assert len(rows[0]["context"]) == 12 and len({i["id"] for i in rows[0]["context"]}) == 12
        assert all(r["context"] == rows[0]["context"] for r in rows)
        kind = rows[0]["user_type"]
        if kind == "heldout":
            assert re.fullmatch(r"heldout-\d{4}", user)
        else:
            assert re.fullmatch(rf"{kind}-\d\d", user)
            assert rows[0]["user_weights"] == pop.card["world"]["personas"][kind]
    assert "test_unseen" not in pop.splits


def test_prompts_are_disjoint(pop):
    train = {r["prompt"] for r in pop.splits["train"] + pop.splits["survey"]}
    test = {r["prompt"] for r in pop.splits["test"]}
    assert train.isdisjoint(test) and len(test) > 10


def test_rows_carry_six_attributes_and_the_persona_controversy(pop):
    for row in pop.splits["train"] + pop.splits["test"]:
        assert len(row["user_weights"]) == 6
        assert len(row["attributes_chosen"]) == len(row["attributes_rejected"]) == 6
        assert row["attributes_chosen"] != row["attributes_rejected"]
        d = [a - b for a, b in zip(row["attributes_chosen"][:4], row["attributes_rejected"][:4])]
        assert row["controversial"] == (any(v > 0 for v in d) and any(v < 0 for v in d))
    advice = {a.prompt: a for a in all_advice()}
    for row in pop.splits["survey"]:
        assert len(row["attributes_a"]) == len(row["attributes_b"]) == 6
        assert row["a"] == render6(advice[row["prompt"]], [int(v) for v in row["attributes_a"]])
        assert row["b"] == render6(advice[row["prompt"]], [int(v) for v in row["attributes_b"]])


def test_card_holds_what_a_bayes_computation_needs(pop):
    card = pop.card
    assert card["attributes"] == list(ATTRIBUTES_6)
    assert card["user_types"] == [*PERSONAS, "heldout"]
    assert card["context_sizes"] == [0, 12]
    world = card["world"]
    assert world["kind"] == "population" and world["attributes"] == list(ATTRIBUTES_6)
    assert world["prior_mean"] == prior_mean() and world["prior_cov"] == prior_cov()
    assert world["temperature"] == POPULATION_TEMPERATURE == card["builder_args"]["temperature"]
    assert set(world["personas"]) == set(PERSONAS)
    for name, weights in world["personas"].items():
        k = ATTRIBUTES_6.index(name.removeprefix("persona-"))
        assert weights[k] > 0 and sum(abs(w) for w in weights) == weights[k]
        # a persona agrees with itself about as often as a population user, where it cares
        p = 1 / (1 + math.exp(-world["temperature"] * weights[k] * 2))
        assert abs(p - world["self_agreement"]) < 0.03


def test_same_seed_same_world_other_seed_other_world(pop):
    assert build_synthetic(POP).splits == pop.splits
    other = build_synthetic(SyntheticConfig(world="population", population_users=200,
                                            heldout_users=30, persona_users=4, pool_size=300,
                                            seed=5))
    assert other.splits["train"] != pop.splits["train"]


def test_write_and_load_round_trip(pop, tmp_path):
    write_dataset(tmp_path / "pop", pop.card, pop.splits)
    ds = load_dataset(tmp_path / "pop")
    assert ds.train == pop.splits["train"] and ds.test == pop.splits["test"]
    assert len(ds.survey) == 300 and ds.test_unseen == []
    assert ds.card["world"] == pop.card["world"]
    assert any(r["context"] == [] for r in ds.train)


def test_cli_builds_a_population_world(tmp_path):
    result = CliRunner().invoke(data, [
        "synthetic", "--world", "population", "--population-users", "20", "--heldout-users", "3",
        "--persona-users", "1", "--rows-per-heldout-user", "2", "--pool-size", "40",
        "--seed", "2", "--out", str(tmp_path / "pop")])
    assert result.exit_code == 0, result.output
    assert f"Wrote {tmp_path / 'pop'} (train 160, test 14, survey 40)" in result.output
    ds = load_dataset(tmp_path / "pop")
    assert ds.card["builder_args"]["world"] == "population"
    assert ds.card["builder_args"]["max_context"] == 12


def test_types_world_card_has_no_population_options():
    card = build_synthetic(SyntheticConfig(train_rows=40, test_rows=8, unseen_users=0)).card
    assert "world" not in card and "world" not in card["builder_args"]
    assert card["builder_args"]["pool_size"] == 16 and card["builder_args"]["temperature"] == 4.0


@pytest.mark.parametrize("values, message", [
    ({"world": "galaxy"}, "world must be 'types' or 'population'"),
    ({"world": "population", "noise": 0.1}, "noise is a types-world option"),
    ({"world": "population", "pool_size": 8}, "pool_size .8. must be at least max_context"),
    ({"world": "population", "population_users": 0}, "population_users >= 1"),
    ({"min_context": 0}, "1 <= min <= max"),  # empty contexts: population world only
    ({"temperature": 0.0}, "temperature must be > 0"),
])
def test_bad_population_options_say_what_is_wrong(values, message):
    with pytest.raises(DatasetError, match=message):
        SyntheticConfig(**values)
