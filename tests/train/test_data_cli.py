"""`python -m train data ...` through click's CliRunner: help, small builds, errors."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from train.cli_data import data
from train.data.schema import load_dataset

FIXTURES = Path(__file__).parents[1] / "fixtures" / "data"


def run(*args):
    return CliRunner().invoke(data, [str(a) for a in args])


@pytest.mark.parametrize("command", [[], ["synthetic"], ["pets"], ["uf-p"], ["import"]])
def test_every_command_has_help_ending_in_an_example(command):
    result = run(*command, "--help")
    assert result.exit_code == 0
    last_paragraph = result.output.split("Options:")[0].strip().split("\n\n")[-1]
    assert " ".join(last_paragraph.split()).startswith("Example: python -m train data")


def test_synthetic_small_build(tmp_path):
    result = run("synthetic", "--out", tmp_path / "syn", "--train-rows", 40, "--test-rows", 8,
                 "--unseen-users", 2, "--types", "concise,friendly,steps,cautious", "--seed", 3)
    assert result.exit_code == 0, result.output
    assert f"Wrote {tmp_path / 'syn'} (train 40, test 8, survey 16, test_unseen 10)" in result.output
    ds = load_dataset(tmp_path / "syn")
    assert ds.card["seed"] == 3 and ds.card["builder_args"]["train_rows"] == 40
    assert ds.card["counts"] == {"train": 40, "test": 8, "survey": 16, "test_unseen": 10}


def test_existing_folder_needs_overwrite(tmp_path):
    args = ["pets", "--out", tmp_path / "pets", "--train-rows-per-user", 20, "--test-rows-per-user", 5]
    assert run(*args).exit_code == 0
    again = run(*args)
    assert again.exit_code == 1
    assert again.output == f"Error: {tmp_path / 'pets'} already exists; pass --overwrite (overwrite=True) to replace it\n"
    assert run(*args, "--overwrite").exit_code == 0


def test_uf_p_from_local_copies(tmp_path):
    result = run("uf-p", "--users", 2, "--pool-size", 4, "--test-fraction", 0.25,
                 "--binarized", FIXTURES / "uf_binarized.jsonl",
                 "--fine-grained", FIXTURES / "uf_fine_grained.jsonl", "--out", tmp_path / "ufp")
    assert result.exit_code == 0, result.output
    assert load_dataset(tmp_path / "ufp").card["name"] == "uf-p-2"


def test_import_hh_and_skip_bad(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"chosen": "\n\nHuman: Hi", "rejected": "\n\nHuman: Hi\n\nAssistant: Yo.",
                               "data_subset": "helpful"}) + "\n")
    result = run("import", "--format", "hh-relabeled", FIXTURES / "hh_relabeled.jsonl", bad,
                 "--test-fraction", 0.2, "--out", tmp_path / "hh")
    assert result.exit_code == 1
    assert result.output == f"Error: {bad}:1: dialogue has no Assistant turn\n"
    result = run("import", "--format", "hh-relabeled", FIXTURES / "hh_relabeled.jsonl", bad,
                 "--test-fraction", 0.2, "--skip-bad", "--out", tmp_path / "hh")
    assert result.exit_code == 0, result.output
    assert "Skipped 1 malformed rows" in result.output
    assert set(load_dataset(tmp_path / "hh").card["user_types"]) == {"helpful", "harmless"}


def test_bad_option_value_is_a_clean_error(tmp_path):
    result = run("synthetic", "--out", tmp_path / "x", "--noise", 2)
    assert result.exit_code == 1
    assert result.output == "Error: noise must be in [0, 1], got 2.0\n"
