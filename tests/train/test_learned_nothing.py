"""fit says plainly when a model learned nothing: accuracy within noise of 0.5 (Wilson 95%)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from fit_helpers import fill_cache, make_dataset
from train.cli import cli
from train.report import learned_nothing, wilson_interval


def test_wilson_interval_matches_the_textbook_value() -> None:
    low, high = wilson_interval(0.5, 100)
    assert (round(low, 4), round(high, 4)) == (0.4038, 0.5962)
    assert wilson_interval(0.0, 0) == (0.0, 1.0)


@pytest.mark.parametrize("train, test, flagged", [
    ((0.52, 400), (0.51, 4000), {"train", "test"}),  # the case: nothing anywhere
    ((0.97, 2048), (0.53, 300), {"test"}),  # memorised: [0.474, 0.585] holds 0.5
    ((0.97, 2048), (0.53, 4000), set()),  # a small but real edge: [0.515, 0.545]
    ((0.80, 2048), (0.45, 4000), {"test"}),  # worse than a coin counts too
    ((0.90, 2048), (None, 0), set()),
])
def test_which_splits_are_flagged(train, test, flagged) -> None:
    warning = learned_nothing(train, test)
    assert set((warning or {}).get("splits", {})) == flagged
    if warning:
        assert warning["why"] and len(warning["try"]) >= 2
        assert ("did not even fit" in warning["why"]) == ("train" in flagged)


def test_a_latent_free_model_on_disagreeing_users_is_called_a_reference_point() -> None:
    warning = learned_nothing((0.52, 960), (0.51, 160), has_latent=False, controversial_share=1.0)
    assert "no user latent" in warning["why"] and "reference point" in warning["why"]
    plain = learned_nothing((0.52, 960), (0.51, 160), has_latent=False, controversial_share=0.1)
    assert "did not even fit" in plain["why"]


def test_fit_warns_on_stdout_and_in_the_report(tmp_path: Path) -> None:
    """Hash-vector embeddings carry no signal about unseen prompts: held-out accuracy is chance."""
    data = make_dataset(tmp_path / "data", train_rows=64, test_rows=200)
    fill_cache(data, tmp_path / "cache")
    out = tmp_path / "run"
    result = CliRunner().invoke(cli, [
        "fit", "--data", str(data), "--cache", str(tmp_path / "cache"), "--out", str(out),
        "--model", "btl", "--hidden-dim", "16", "--max-steps", "2", "--batch-size", "16",
        "--quiet"])
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    warning = report["learned_nothing"]
    assert warning is not None and "test" in warning["splits"]
    assert report["accuracy_train"] is not None and report["n_train_eval_pairs"] == 64
    assert "WARNING: this model learned nothing measurable: " in result.output
    assert "What to try:" in result.output and "key learned_nothing" in result.output
