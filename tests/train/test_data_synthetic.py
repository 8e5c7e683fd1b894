"""The synthetic advice dataset: natural text, disjoint prompts, and contexts that need 2+ answers."""

import hashlib
import json
import re
from collections import Counter

import pytest

from train.data.contexts import consistent_types
from train.data.schema import validate_preference_row, validate_survey_row
from train.data.synthetic import SyntheticConfig, all_advice, build_synthetic, responses_for
from train.data.synthetic_render import ATTRIBUTES, COMBOS

SMALL = SyntheticConfig(train_rows=400, test_rows=100, unseen_users=10, rows_per_unseen_user=3, seed=1)


@pytest.fixture(scope="module")
def built():
    return build_synthetic(SMALL)


def test_content_covers_many_prompts_and_topics():
    advice = all_advice()
    assert len(advice) >= 200
    assert len({a.prompt for a in advice}) == len(advice)
    topics = Counter(a.topic for a in advice)
    assert len(topics) >= 10 and min(topics.values()) >= 15


def test_every_response_reads_naturally():
    for advice in all_advice():
        texts = responses_for(advice)
        assert len(set(texts)) == len(COMBOS) == 16
        for text in texts:
            assert text[0].isupper(), text
            assert not re.search(r"[{}]|None|  |\.\.|\s[,.]", text), text
            assert text.rstrip()[-1] in ".!?", text


def test_attributes_are_visible_in_the_text():
    advice = all_advice()[0]
    by = dict(zip(COMBOS, responses_for(advice)))
    concise = by[(1, 1, 1, 1)]
    detailed = by[(-1, 1, 1, 1)]
    assert len(concise) < len(detailed) and advice.example in detailed
    assert by[(1, 1, 1, 1)].count("\n1. ") == 1 and "1. " not in by[(1, 1, -1, 1)]
    assert any(w in by[(1, 1, 1, 1)] for w in ("!",)) and "!" not in by[(1, -1, 1, 1)]
    assert advice.caution[1:] in by[(1, 1, 1, 1)] and advice.caution[1:] not in by[(1, 1, 1, -1)]


def test_schema_and_counts(built):
    splits = built.splits
    assert {k: len(v) for k, v in splits.items()} == {
        "train": 400, "test": 100, "survey": 16, "test_unseen": 30}  # one shared pool
    for name in ("train", "test", "test_unseen"):
        for row in splits[name]:
            validate_preference_row(row)
    for row in splits["survey"]:
        validate_survey_row(row)
    assert built.card["attributes"] == list(ATTRIBUTES)
    assert Counter(r["user"] for r in splits["train"]) == {t: 100 for t in ATTRIBUTES}


def test_train_and_test_prompts_are_disjoint(built):
    train = {r["prompt"] for r in built.splits["train"]} | {r["prompt"] for r in built.splits["survey"]}
    held_out = {r["prompt"] for r in built.splits["test"] + built.splits["test_unseen"]}
    assert train.isdisjoint(held_out)


def test_most_pairs_are_controversial(built):
    for name in ("train", "test", "test_unseen"):
        rows = built.splits[name]
        assert sum(r["controversial"] for r in rows) / len(rows) >= 0.5


def noiseless_answers(survey):
    return {t: {r["id"]: "a" if r["attributes_a"][k] > r["attributes_b"][k] else "b" for r in survey}
            for k, t in enumerate(ATTRIBUTES)}


def test_one_survey_answer_never_identifies_a_type(built):
    answers = noiseless_answers(built.splits["survey"])
    for r in built.splits["survey"]:
        for side in "ab":
            assert len(consistent_types([{"id": r["id"], "chosen": side}], answers)) == 2


def test_every_context_identifies_exactly_its_type(built):
    answers = noiseless_answers(built.splits["survey"])
    for row in built.splits["train"] + built.splits["test"]:
        assert 2 <= len(row["context"]) <= 8
        assert consistent_types(row["context"], answers) == [row["user_type"]]


def test_unseen_users_are_continuous_and_share_one_context(built):
    rows = built.splits["test_unseen"]
    assert all(r["user_type"] is None and abs(sum(r["user_weights"]) - 1) < 1e-9 for r in rows)
    by_user = {}
    for r in rows:
        by_user.setdefault(r["user"], []).append(r["context"])
    assert len(by_user) == 10 and all(c == cs[0] for cs in by_user.values() for c in cs)


def test_labels_follow_the_oracle_for_discrete_types(built):
    agree = [r["attributes_chosen"][ATTRIBUTES.index(r["user"])]
             > r["attributes_rejected"][ATTRIBUTES.index(r["user"])] for r in built.splits["train"]]
    assert sum(agree) / len(agree) > 0.9  # temperature 4: about 99.9% consistent


def test_same_seed_same_dataset_other_seed_other_dataset(built):
    assert build_synthetic(SMALL).splits == built.splits
    other = build_synthetic(SyntheticConfig(train_rows=400, test_rows=100, unseen_users=0, seed=2))
    assert other.splits["train"] != built.splits["train"] and "test_unseen" not in other.splits


def test_bad_config_is_refused_with_the_fix():
    from train.data.schema import DatasetError

    with pytest.raises(DatasetError, match=r"types must be 2 or more distinct attributes"):
        SyntheticConfig(types=("concise", "funny"))


# -- the options behind the active-querying model (docs/results/active.md) ------------------

WIDE = SyntheticConfig(train_rows=600, test_rows=100, unseen_users=5, rows_per_unseen_user=2,
                       pool_size=60, survey_pairs="any", identifying_contexts=False,
                       min_context=1, mixture_share=0.5, seed=2)


@pytest.fixture(scope="module")
def wide():
    return build_synthetic(WIDE)


def test_survey_pairs_any_are_drawn_like_rows(wide):
    survey = wide.splits["survey"]
    assert len(survey) == 60
    for row in survey:
        validate_survey_row(row)
    differing = Counter(sum(a != b for a, b in zip(r["attributes_a"], r["attributes_b"]))
                        for r in survey)
    assert len(differing) >= 3  # not only the 4-attribute flips of the balanced survey
    splits = [len(consistent_types([{"id": r["id"], "chosen": "a"}],
                                   noiseless_answers_with_ties(r))) for r in survey]
    assert 4 in splits  # some pairs every type answers alike (a tie counts as both)


def noiseless_answers_with_ties(row):
    """Each type's strict choice on one survey pair; a type indifferent to it has no answer."""
    out = {}
    for k, t in enumerate(ATTRIBUTES):
        if row["attributes_a"][k] != row["attributes_b"][k]:
            out[t] = {row["id"]: "a" if row["attributes_a"][k] > row["attributes_b"][k] else "b"}
        else:
            out[t] = {}
    return out


def test_open_contexts_include_ones_that_leave_several_types_open(wide):
    survey = {r["id"]: r for r in wide.splits["survey"]}
    typed = [r for r in wide.splits["train"] + wide.splits["test"] if r["user_type"] is not None]
    sizes = Counter(len(r["context"]) for r in typed)
    assert min(sizes) == 1 and max(sizes) == 8

    def open_types(row):
        answers = {t: {} for t in ATTRIBUTES}
        for item in row["context"]:
            for t, choice in noiseless_answers_with_ties(survey[item["id"]]).items():
                answers[t].update(choice)
        return consistent_types(row["context"], answers)

    assert any(len(open_types(r)) > 1 for r in typed)
    assert all(r["user_type"] in open_types(r) for r in typed)  # never a wrong answer


def test_mixture_rows_are_fresh_continuous_users_and_test_stays_discrete(wide):
    train = wide.splits["train"]
    mixed = [r for r in train if r["user_type"] is None]
    assert 0.4 <= len(mixed) / len(train) <= 0.6
    assert len({r["user"] for r in mixed}) == len(mixed)  # one user per row
    for r in mixed:
        validate_preference_row(r)
        assert abs(sum(r["user_weights"]) - 1) < 1e-9 and 1 <= len(r["context"]) <= 8
        assert r["attributes_chosen"] != r["attributes_rejected"]
    assert all(r["user_type"] is not None for r in wide.splits["test"])
    assert "continuous users" in wide.card["notes"]


def test_the_defaults_build_exactly_what_they_built_before():
    """The new options are off by default and draw nothing from the RNG when off: the digest
    is that of the same build before they existed."""
    splits = build_synthetic(SMALL).splits
    digest = hashlib.sha256(json.dumps(splits, sort_keys=True).encode()).hexdigest()
    assert digest == "c1fcd260462be966fe4213d4763545667527ef332e99992f91c9618a7425f650"


@pytest.mark.parametrize("values, message", [
    ({"survey_pairs": "some"}, "survey_pairs must be 'balanced' or 'any'"),
    ({"mixture_share": 1.5}, "mixture_share must be in"),
])
def test_bad_options_say_what_is_wrong(values, message):
    with pytest.raises(Exception, match=message):
        SyntheticConfig(**values)
