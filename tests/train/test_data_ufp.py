"""UF-P from a small fixture in the exact Hub schemas of both UltraFeedback datasets (offline)."""

import json
from pathlib import Path

import pytest

from train.data.contexts import consistent_types
from train.data.importers import read_records
from train.data.schema import DatasetError, validate_preference_row
from train.data.ufp import UFPConfig, build_ufp

FIXTURES = Path(__file__).parents[1] / "fixtures" / "data"
BINARIZED = FIXTURES / "uf_binarized.jsonl"
FINE = [row for _, row in read_records(FIXTURES / "uf_fine_grained.jsonl")]


def build(users, records=None, **kw):
    cfg = UFPConfig(users=users, pool_size=4, test_fraction=0.25)
    return build_ufp(records or read_records(BINARIZED), FINE, cfg, **kw)


@pytest.mark.parametrize("users, sizes", [(2, [8, 8]), (4, [2, 8])])
def test_uf_p_keeps_only_controversial_pairs_one_row_per_type(users, sizes):
    built = build(users).dataset
    attrs = built.card["attributes"]
    assert len(attrs) == users and built.card["context_sizes"] == sizes
    answers = {a: {} for a in attrs}
    for s in built.splits["survey"]:
        for k, a in enumerate(attrs):
            assert s["attributes_a"][k] != s["attributes_b"][k]  # survey pairs have no ties
            answers[a][s["id"]] = "a" if s["attributes_a"][k] > s["attributes_b"][k] else "b"
    for name in ("train", "test"):
        rows = built.splits[name]
        assert len(rows) % users == 0
        for row in rows:
            validate_preference_row(row)
            k = attrs.index(row["user"])
            assert row["controversial"] and row["attributes_chosen"][k] >= row["attributes_rejected"][k]
            assert consistent_types(row["context"], answers) == [row["user"]]
    train = {r["prompt"] for r in built.splits["train"]}
    assert train.isdisjoint(r["prompt"] for r in built.splits["test"])


def test_unmatched_and_unrated_pairs_are_counted_in_the_notes():
    notes = build(2).dataset.card["notes"]
    assert "1 without fine-grained ratings" in notes and "3 with an N/A rating" in notes


def test_a_malformed_row_names_its_line_or_is_skipped(tmp_path):
    lines = BINARIZED.read_text().splitlines()
    bad = json.loads(lines[2])
    bad["rejected"] = bad["rejected"][:1]  # the assistant turn is missing
    path = tmp_path / "binarized.jsonl"
    path.write_text("\n".join([*lines[:2], json.dumps(bad), "{oops", *lines[3:]]) + "\n")
    with pytest.raises(DatasetError) as err:
        build(2, read_records(path))
    assert str(err.value) == f"{path}:3: column 'rejected' does not end with an assistant message"
    assert build(2, read_records(path), skip_bad=True).skipped == 2


def test_users_must_be_2_or_4():
    with pytest.raises(DatasetError, match=r"users must be 2 or 4 \(UF-P-2 or UF-P-4\), got 3"):
        UFPConfig(users=3)
