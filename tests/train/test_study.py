"""The collapse study on a tiny grid: cells, resumption, intervals, the table and the plots."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from fit_helpers import fill_cache, make_dataset
from train.cli import cli
from train.fit import prepare_data
from train.study import (
    VARIANTS, Cell, StudyConfig, StudyMismatch, cells_of, interval, run_study, subsample_train,
    t_quantile,
)
from train.study_report import cell_metrics, summarize

TINY = ["--capacities", "tiny=8", "--latent-dim", "4", "--epochs", "1", "--batch-size", "16", "--quiet"]


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("study")
    make_dataset(root / "data")
    fill_cache(root / "data", root / "cache")
    return root


def study_args(root: Path, out: Path, *extra: str) -> list[str]:
    return ["study", "--data", str(root / "data"), "--cache", str(root / "cache"), "--out", str(out),
            *TINY, *extra]


def report_mtimes(out: Path) -> dict[str, int]:
    return {p.parent.name: p.stat().st_mtime_ns for p in (out / "cells").glob("*/report.json")}


# --- the grid ----------------------------------------------------------------------------------
def test_default_grid_has_every_variant_beta_capacity_and_seed() -> None:
    cfg = StudyConfig()
    cells = cells_of(cfg)
    latent = [v for v in cfg.variants if VARIANTS[v].has_kl]
    expected = len(cfg.capacities) * len(cfg.seeds) * (len(latent) * len(cfg.betas) + 1)
    assert len(cells) == expected == 150
    assert len({c.id for c in cells}) == len(cells)
    assert {c.beta for c in cells if c.variant == "btl"} == {None}
    assert {"spl-noguide", "spl-nosplit", "spl-nofilm"} <= set(cfg.variants)


def test_ablations_are_flags_on_one_spl_model() -> None:
    cfg = StudyConfig()
    flags = {v: Cell(v, 0.1, "large", 512, 0).model_overrides(cfg) for v in cfg.variants}
    assert flags["spl-noguide"]["guide"] is False
    assert flags["spl-nosplit"]["split_context"] is False
    assert flags["spl-nofilm"]["film"] is False
    assert "guide" not in flags["spl"] and flags["spl"]["beta"] == 0.1
    assert "beta" not in Cell("btl", None, "large", 512, 0).model_overrides(cfg)


@pytest.mark.parametrize("kwargs, message", [
    ({"variants": ("spl", "gpt")}, "unknown variants ['gpt']"),
    ({"betas": (0.1, 0.1)}, "betas has repeated values"),
    ({"betas": (-1.0,)}, "betas must be >= 0"),
    ({"capacities": (("a", 0),)}, "capacity widths must be positive"),
    ({"seeds": ()}, "need at least one value"),
])
def test_bad_grids_are_refused_with_the_reason(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        StudyConfig(**kwargs)


# --- intervals ---------------------------------------------------------------------------------
def test_interval_is_the_student_t_interval_over_seeds() -> None:
    got = interval([0.6, 0.7, 0.8])
    half = 4.303 * 0.1 / 3 ** 0.5  # t_{0.975, 2} * sd / sqrt(n)
    assert got["mean"] == pytest.approx(0.7)
    assert (got["low"], got["high"]) == pytest.approx((0.7 - half, 0.7 + half))
    assert got["n"] == 3
    assert interval([0.5, 0.5])["low"] == interval([0.5, 0.5])["high"] == 0.5
    assert interval([None, 0.4])["n"] == 1 and interval([])["mean"] is None
    assert t_quantile(1) == 12.706 and t_quantile(100) == 1.96


def test_spl_minus_vpl_is_paired_by_seed() -> None:
    """SPL beats VPL by exactly 5 points on every seed: the paired interval is [5, 5]."""
    cfg = StudyConfig(variants=("vpl", "spl"), betas=(0.1,), capacities=(("big", 8),), seeds=(0, 1, 2))
    base = {"accuracy_controversial": 0.5, "accuracy_unseen": 0.6, "active_units_share": 0.5,
            "active_units_z_share": 0.0, "kl": 0.0, "swap_flip_rate": 0.0,
            "accuracy_by_user": {"a": 0.5, "b": 0.7}, "accuracy_by_context_size": {"1": 0.5}}
    reports = {}
    for seed, acc in enumerate([0.60, 0.70, 0.65]):
        reports[Cell("vpl", 0.1, "big", 8, seed).id] = {**base, "accuracy": acc}
        reports[Cell("spl", 0.1, "big", 8, seed).id] = {**base, "accuracy": acc + 0.05,
                                                        "active_units_z_share": 1.0}
    summary = summarize(cfg, reports)
    (comparison,) = summary["comparisons"]
    assert comparison["variant"] == "spl"
    assert comparison["accuracy"]["mean"] == pytest.approx(0.05)
    assert comparison["accuracy"]["low"] == pytest.approx(0.05)
    assert comparison["active_units_z_share"]["mean"] == pytest.approx(1.0)
    collapsed = {r["variant"]: r["collapsed"] for r in summary["rows"]}
    assert collapsed == {"vpl": True, "spl": False}
    assert {r["variant"]: r["collapsed_seeds"] for r in summary["rows"]} == {"vpl": 3, "spl": 0}
    assert cell_metrics(reports[Cell("vpl", 0.1, "big", 8, 0).id])["user_spread"] == pytest.approx(0.2)

    # with IAF-VPL in the grid, SPL is also compared with it: what SPL adds beyond a flow
    for seed in range(3):
        reports[Cell("ivpl", 0.1, "big", 8, seed).id] = {**base, "accuracy": 0.9}
    with_ivpl = dataclasses.replace(cfg, variants=("vpl", "ivpl", "spl"))
    pairs = {(c["variant"], c["baseline"]): c for c in summarize(with_ivpl, reports)["comparisons"]}
    assert set(pairs) == {("ivpl", "vpl"), ("spl", "vpl"), ("spl", "ivpl")}
    assert pairs[("spl", "ivpl")]["accuracy"]["mean"] == pytest.approx(0.70 - 0.9)


def test_subsample_train_keeps_the_first_rows(root: Path) -> None:
    data = prepare_data(root / "data", root / "cache")
    small = subsample_train(data, 10)
    assert len(small.splits["train"]) == 10
    assert small.splits["train"].chosen.tolist() == data.splits["train"].chosen[:10].tolist()
    assert small.splits["test"] is data.splits["test"]
    assert subsample_train(data, 0) is data


# --- end to end --------------------------------------------------------------------------------
def test_study_writes_table_json_and_plots_then_resumes_without_refitting(root: Path, monkeypatch) -> None:
    out = root / "study-e2e"
    runner = CliRunner()
    args = study_args(root, out, "--variants", "btl,vpl,spl", "--betas", "0.01,1", "--seeds", "0,1")
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "Wrote" in result.output and "Collapsed" in result.output

    summary = json.loads((out / "study.json").read_text())
    assert len(summary["rows"]) == 5  # btl + vpl x 2 betas + spl x 2 betas
    spl = next(r for r in summary["rows"] if r["variant"] == "spl" and r["beta"] == 0.01)
    assert spl["accuracy"]["n"] == 2 and spl["accuracy"]["low"] <= spl["accuracy"]["mean"]
    assert spl["accuracy_by_context_size"]  # the curve of the context-size plot
    assert {c["variant"] for c in summary["comparisons"]} == {"spl"}
    table = (out / "study.md").read_text()
    assert "| spl | tiny | 0.01 |" in table and "SPL minus VPL" in table and "collapsed seeds" in table
    for name in ("active_units_vs_beta", "accuracy_vs_beta", "accuracy_vs_context", "latent_maps"):
        assert (out / "plots" / f"{name}.png").stat().st_size > 1000
    cell = out / "cells" / Cell("spl", 0.01, "tiny", 8, 0).id
    assert (cell / "report.json").exists() and not (cell / "model.safetensors").exists()

    # a finished study re-runs without fitting anything
    before = report_mtimes(out)
    import train.fit

    def refuse(*args, **kwargs):
        raise AssertionError("a finished cell was fitted again")

    monkeypatch.setattr(train.fit, "fit", refuse)
    again = runner.invoke(cli, args)
    assert again.exit_code == 0, again.output
    assert report_mtimes(out) == before
    runs = json.loads((out / "invocations.json").read_text())
    assert [r["cells_fitted"] for r in runs] == [10, 0]  # the wall time counts the first run only
    assert "over 1 run(s) that fitted cells" in (out / "study.md").read_text()


def test_an_interrupted_study_fits_only_the_missing_cells(root: Path) -> None:
    out = root / "study-resume"
    runner = CliRunner()
    args = study_args(root, out, "--variants", "vpl", "--betas", "0.1", "--seeds", "0,1")
    assert runner.invoke(cli, args).exit_code == 0
    before = report_mtimes(out)
    lost = Cell("vpl", 0.1, "tiny", 8, 1).id
    (out / "cells" / lost / "cell.json").unlink()  # as if killed before the cell was marked done
    more_seeds = study_args(root, out, "--variants", "vpl", "--betas", "0.1", "--seeds", "0,1,2")
    assert runner.invoke(cli, more_seeds).exit_code == 0
    after = report_mtimes(out)
    assert after[Cell("vpl", 0.1, "tiny", 8, 0).id] == before[Cell("vpl", 0.1, "tiny", 8, 0).id]
    assert after[lost] != before[lost]
    assert Cell("vpl", 0.1, "tiny", 8, 2).id in after
    assert json.loads((out / "study.json").read_text())["rows"][0]["accuracy"]["n"] == 3


def test_a_cell_finished_with_other_settings_is_refused(root: Path) -> None:
    out = root / "study-mismatch"
    runner = CliRunner()
    assert runner.invoke(cli, study_args(root, out, "--variants", "btl", "--seeds", "0")).exit_code == 0
    result = runner.invoke(cli, study_args(root, out, "--variants", "btl", "--seeds", "0", "--lr", "0.5"))
    assert result.exit_code == 1
    assert "finished with other settings (fit differ)" in result.output
    assert "Use a new --out" in result.output


def test_parallel_jobs_give_the_same_numbers_as_one_process(root: Path) -> None:
    import functools

    cfg = StudyConfig(variants=("vpl",), betas=(0.1,), capacities=(("tiny", 8),), seeds=(0, 1),
                      latent_dim=4, epochs=1, batch_size=16)
    load = functools.partial(prepare_data, root / "data", root / "cache")
    serial = run_study(load, cfg, root / "serial", jobs=1, progress=False)
    parallel = run_study(load, cfg, root / "parallel", jobs=2, progress=False)
    assert serial.keys() == parallel.keys()
    for key in serial:
        # the workers run other thread counts, so float sums may differ in the last bits, and a
        # margin within those bits of 0 may flip: allow one evaluation pair either way
        one_pair = 1 / serial[key]["n_eval_pairs"]
        assert parallel[key]["accuracy"] == pytest.approx(serial[key]["accuracy"],
                                                          abs=one_pair + 1e-12)
        assert parallel[key]["kl"] == pytest.approx(serial[key]["kl"], abs=1e-4)


@pytest.mark.parametrize("flag, value, message", [
    ("--capacities", "small", "is not NAME=WIDTH"),
    ("--betas", "1e-3,x", "is not a comma-separated list of numbers"),
    ("--seeds", "0,1.5", "is not a comma-separated list of integers"),
    ("--variants", "spl,vae", "unknown variants ['vae']"),
])
def test_bad_flags_get_a_plain_error(root: Path, flag: str, value: str, message: str) -> None:
    result = CliRunner().invoke(cli, study_args(root, root / "never", flag, value))
    assert result.exit_code != 0
    assert message in result.output
    assert not (root / "never" / "study.json").exists()


def test_study_mismatch_is_a_value_error() -> None:
    assert issubclass(StudyMismatch, ValueError)
    assert os.path.basename(Cell("spl", 1e-3, "large", 512, 2).id) == "spl__beta-0.001__large__seed-2"
