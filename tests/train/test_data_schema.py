"""The dataset folder contract: validation with file:line messages, atomic writes, loading."""

import json

import pytest

from train.data.schema import DatasetError, load_dataset, read_jsonl, write_dataset

CARD = {
    "name": "tiny", "source": "hand-written", "user_types": ["x", "y"], "attributes": None,
    "seed": 0, "context_sizes": [1, 1], "builder_args": {}, "notes": "",
}
SURVEY = [{"id": "s1", "prompt": "Tea or coffee?", "a": "Tea.", "b": "Coffee."}]


def row(**changes):
    base = {"user": "x", "prompt": "Tea or coffee?", "chosen": "Tea, please.",
            "rejected": "Coffee, please.", "controversial": True,
            "context": [{"id": "s1", "chosen": "a"}]}
    return {**base, **changes}


def write_lines(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_write_then_load_round_trips_and_fills_counts(tmp_path):
    folder = write_dataset(tmp_path / "ds", CARD, {"train": [row()], "test": [row(user="y")],
                                                    "survey": SURVEY})
    ds = load_dataset(folder)
    assert ds.card["counts"] == {"train": 1, "test": 1, "survey": 1}
    assert ds.train == [row()] and ds.survey["s1"]["a"] == "Tea."
    assert ds.test_unseen == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ds"]  # no temp folder left behind


def test_write_refuses_to_overwrite_unless_asked(tmp_path):
    splits = {"train": [row()], "test": [row()], "survey": SURVEY}
    write_dataset(tmp_path / "ds", CARD, splits)
    with pytest.raises(DatasetError, match="already exists; pass --overwrite"):
        write_dataset(tmp_path / "ds", CARD, splits)
    write_dataset(tmp_path / "ds", {**CARD, "name": "again"}, splits, overwrite=True)
    assert load_dataset(tmp_path / "ds").card["name"] == "again"


def test_write_rejects_a_bad_row_and_leaves_nothing(tmp_path):
    with pytest.raises(DatasetError, match=r"^train row 1: chosen and rejected are the same text$"):
        write_dataset(tmp_path / "ds", CARD, {"train": [row(rejected="Tea, please.")],
                                              "test": [], "survey": SURVEY})
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("line, reason", [
    ('{"user": "x"', "invalid JSON (Expecting ',' delimiter)"),
    (json.dumps({k: v for k, v in row().items() if k != "prompt"}), "missing column 'prompt'"),
    (json.dumps(row(controversial="yes")), "column 'controversial' must be bool, got str"),
    (json.dumps(row(chosen="  ")), "column 'chosen' is empty"),
    (json.dumps(row(context=[{"id": "s1", "chosen": "c"}])),
     """context item must be {"id": str, "chosen": "a"|"b"}, got {'id': 's1', 'chosen': 'c'}"""),
])
def test_a_bad_line_stops_with_file_line_and_reason(tmp_path, line, reason):
    from train.data.schema import validate_preference_row

    path = write_lines(tmp_path / "train.jsonl", [json.dumps(row()), line])
    with pytest.raises(DatasetError) as err:
        read_jsonl(path, validate=validate_preference_row)
    assert str(err.value) == f"{path}:2: {reason}"


def test_skip_bad_counts_the_skipped_lines(tmp_path):
    path = write_lines(tmp_path / "train.jsonl", [json.dumps(row()), "not json", "", json.dumps(row())])
    result = read_jsonl(path, {"user": str}, skip_bad=True)
    assert (len(result.rows), result.skipped) == (2, 1)
    assert result.first_error == f"{path}:2: invalid JSON (Expecting value)"


def test_load_checks_context_ids_against_the_survey(tmp_path):
    write_dataset(tmp_path / "ds", CARD, {"train": [row()], "test": [row()], "survey": SURVEY})
    write_lines(tmp_path / "ds" / "test.jsonl", [json.dumps(row(context=[{"id": "s9", "chosen": "a"}]))])
    with pytest.raises(DatasetError, match=r"test.jsonl: row 1: context id 's9' is not in survey.jsonl"):
        load_dataset(tmp_path / "ds")


def test_load_names_a_folder_that_is_not_a_dataset(tmp_path):
    with pytest.raises(DatasetError, match="not a dataset folder"):
        load_dataset(tmp_path)
