"""Pets: VPL's recipe with our own sentences; about half of the pairs are controversial."""

from collections import Counter

from train.data.contexts import consistent_types
from train.data.pets import POOLS, PROMPT, USERS, PetsConfig, build_pets
from train.data.schema import validate_preference_row

SMALL = PetsConfig(train_rows_per_user=300, test_rows_per_user=50)


def test_each_pool_has_enough_distinct_sentences():
    for name, (_, sentences) in POOLS.items():
        assert len(set(sentences)) >= 15, name
        assert all(s[0].isupper() and s.endswith(".") for s in sentences)


def test_rows_counts_and_controversial_share():
    built = build_pets(SMALL)
    assert Counter(r["user"] for r in built.splits["train"]) == {u: 300 for u in USERS}
    assert Counter(r["user"] for r in built.splits["test"]) == {u: 50 for u in USERS}
    rows = built.splits["train"]
    assert 0.4 <= sum(r["controversial"] for r in rows) / len(rows) <= 0.6
    for row in rows:
        validate_preference_row(row)
        assert row["prompt"] == PROMPT and len(row["context"]) == 8


def test_labels_are_lexicographic_and_contexts_identify_the_user():
    built = build_pets(SMALL)
    answers = {u: {} for u in USERS}
    for s in built.splits["survey"]:
        for u, w in USERS.items():
            score = lambda attrs: sum(x * y for x, y in zip(w, attrs))
            answers[u][s["id"]] = "a" if score(s["attributes_a"]) > score(s["attributes_b"]) else "b"
    for row in built.splits["train"]:
        first = 0 if row["user"] == "helpful-first" else 1
        better = row["attributes_chosen"][first] > row["attributes_rejected"][first] or (
            row["attributes_chosen"][first] == row["attributes_rejected"][first]
            and row["attributes_chosen"][1 - first] > row["attributes_rejected"][1 - first])
        assert better
        assert consistent_types(row["context"], answers) == [row["user"]]


def test_test_pairs_are_not_train_pairs():
    built = build_pets(SMALL)
    pair = lambda r: frozenset((r["chosen"], r["rejected"]))
    assert not {pair(r) for r in built.splits["train"]} & {pair(r) for r in built.splits["test"]}


def test_deterministic_for_a_seed():
    assert build_pets(SMALL).splits == build_pets(SMALL).splits
