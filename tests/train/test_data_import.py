"""Importers: relabeled HH-RLHF dialogues and generic rows, with exact errors for bad input."""

import json
from pathlib import Path

import pytest

from train.data.importers import ImportConfig, build_import, parse_rows, read_records, split_dialogue
from train.data.schema import DatasetError, validate_preference_row

HH = Path(__file__).parents[1] / "fixtures" / "data" / "hh_relabeled.jsonl"


def test_split_dialogue_keeps_earlier_turns_in_the_prompt():
    prompt, response = split_dialogue(
        "\n\nHuman: Hi\n\nAssistant: Hello!\n\nHuman: Bake bread?\n\nAssistant: Mix flour and water.")
    assert prompt == "Human: Hi\n\nAssistant: Hello!\n\nHuman: Bake bread?\n\nAssistant:"
    assert response == "Mix flour and water."


def test_hh_import_builds_a_valid_dataset():
    rows, skipped = parse_rows(read_records(HH), "hh-relabeled")
    assert skipped == 0 and {r["user"] for r in rows} == {"helpful", "harmless"}
    built = build_import(rows, ImportConfig(format="hh-relabeled", test_fraction=0.2))
    survey = {s["id"]: s for s in built.splits["survey"]}
    for row in built.splits["train"] + built.splits["test"]:
        validate_preference_row(row)
        for item in row["context"]:  # the user answered every context pair themselves
            assert survey[item["id"]]["user_type"] == row["user"]
    lock = [r for r in rows if "pick a lock" in r["prompt"]]
    egg = [r for r in rows if "boil an egg" in r["prompt"]]
    built_rows = built.splits["train"] + built.splits["test"]
    assert all(r["controversial"] for r in built_rows if r["prompt"] == lock[0]["prompt"])
    assert not any(r["controversial"] for r in built_rows if r["prompt"] == egg[0]["prompt"])


H, A = "\n\nHuman: Hi", "\n\nAssistant: "


@pytest.mark.parametrize("row, reason", [
    ({"chosen": H + " there", "rejected": H + A + "Hello.", "data_subset": "helpful"},
     "dialogue has no Assistant turn"),
    ({"chosen": H + A + "Hello.", "rejected": H + A + "Hello.", "data_subset": "helpful"},
     "chosen and rejected are the same text"),
    ({"chosen": H + A + "Hello.", "rejected": "\n\nHuman: Hey" + A + "Yo.", "data_subset": "helpful"},
     "chosen and rejected do not share the dialogue before the final Assistant turn"),
    ({"chosen": H + A + "Hello.", "rejected": H + A + "Hey."}, "column 'data_subset' is missing or empty"),
])
def test_bad_hh_rows_stop_with_file_line_and_reason(tmp_path, row, reason):
    path = tmp_path / "hh.jsonl"
    path.write_text(HH.read_text().splitlines()[0] + "\n" + json.dumps(row) + "\n")
    with pytest.raises(DatasetError) as err:
        parse_rows(read_records(path), "hh-relabeled")
    assert str(err.value) == f"{path}:2: {reason}"
    rows, skipped = parse_rows(read_records(path), "hh-relabeled", skip_bad=True)
    assert (len(rows), skipped) == (1, 1)


@pytest.mark.parametrize("row, reason", [
    ({"user": "u", "prompt": "Q?", "chosen": "A."}, "missing column 'rejected'"),
    ({"user": "u", "prompt": "Q?", "chosen": "A.", "rejected": 3}, "column 'rejected' must be str, got int"),
    ({"user": "u", "prompt": " ", "chosen": "A.", "rejected": "B."}, "column 'prompt' is empty"),
    ({"user": "u", "prompt": "Q?", "chosen": "A.", "rejected": "A."}, "chosen and rejected are the same text"),
])
def test_bad_generic_rows_stop_with_file_line_and_reason(tmp_path, row, reason):
    path = tmp_path / "rows.jsonl"
    path.write_text(json.dumps(row) + "\n")
    with pytest.raises(DatasetError) as err:
        parse_rows(read_records(path), "jsonl")
    assert str(err.value) == f"{path}:1: {reason}"


def test_generic_import_gives_each_user_contexts_from_their_own_answers():
    rows = [{"user": u, "prompt": f"Q{i}?", "chosen": f"Yes {u}.", "rejected": f"No {u}."}
            for u in ("ann", "bob") for i in range(10)]
    built = build_import(rows, ImportConfig(test_fraction=0.2, seed=0))
    assert built.card["user_types"] == ["ann", "bob"] and built.card["attributes"] is None
    survey = {s["id"]: s for s in built.splits["survey"]}
    for row in built.splits["test"]:
        assert all(survey[item["id"]]["user_type"] == row["user"] for item in row["context"])


def test_a_user_without_train_rows_is_an_error():
    rows = [{"user": "u", "prompt": f"Q{i}?", "chosen": "A.", "rejected": "B."} for i in range(3)]
    rows.append({"user": "v", "prompt": "Z?", "chosen": "A.", "rejected": "B."})
    # 3 of the 4 prompts go to test, so either u or v is left without a train row.
    with pytest.raises(DatasetError, match=r"^1 users have test rows but no train rows"):
        build_import(rows, ImportConfig(test_fraction=0.75, seed=0))


def test_a_missing_source_is_an_error_not_a_download():
    with pytest.raises(DatasetError, match="no such file or folder"):
        read_records("no/such/file.jsonl")


def test_hh_rows_with_an_empty_final_turn_are_counted_and_skipped_without_a_flag(tmp_path):
    path = tmp_path / "hh.jsonl"
    empty = [{"chosen": H + A, "rejected": H + A + "Hello.", "data_subset": "helpful"},
             {"chosen": H + A + "Hello.", "rejected": H + A + "  ", "data_subset": "harmless"}]
    path.write_text(HH.read_text() + "".join(json.dumps(r) + "\n" for r in empty))
    counts: dict = {}
    rows, skipped = parse_rows(read_records(path), "hh-relabeled", counts=counts)
    assert (len(rows), skipped, counts) == (len(read_records(HH)), 0, {"empty_final_turn": 2})
