"""fit / eval end to end on a tiny dataset, with fake cached embeddings (no backbone load)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from fit_helpers import fill_cache, make_dataset
from spl_model import load_model
from train.cli import cli
from train.fit import FitConfig, fit, model_config, prepare_data
from train.runs import load_run

REPORT_KEYS = {
    "model", "backbone", "dataset", "n_eval_pairs", "accuracy", "accuracy_controversial",
    "accuracy_unseen", "accuracy_by_user", "accuracy_by_context_size", "active_units",
    "active_units_share", "latent_dim", "au_threshold", "kl", "swap_flip_rate",
    "train_seconds", "seed",
}
SMALL = {"latent_dim": 8, "hidden_dim": 16}


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("fit")
    data_dir = make_dataset(root / "data")
    fill_cache(data_dir, root / "cache")
    return root, prepare_data(data_dir, root / "cache")


@pytest.mark.parametrize("kind", ["spl", "vpl", "ivpl", "btl", "oracle"])
def test_fit_writes_a_complete_run_folder(prepared, kind: str, tmp_path: Path) -> None:
    _, data = prepared
    cfg = model_config(kind, 384, data, SMALL)
    report = fit(data, tmp_path / kind, cfg, FitConfig(max_steps=6, batch_size=16, eval_every=3), progress=False).report
    run = tmp_path / kind
    assert REPORT_KEYS <= set(report)
    assert json.loads((run / "report.json").read_text()) == report
    config = json.loads((run / "config.json").read_text())
    assert config["model"]["kind"] == kind and config["backbone"]["backbone"] == "minilm"
    assert config["dataset"]["name"] == "synthetic" and config["fit"]["max_steps"] == 6
    assert not (run / "resume").exists()  # removed once the run is finished
    if kind == "btl":
        assert report["active_units"] is None and report["swap_flip_rate"] is None
    if kind in ("spl", "vpl", "ivpl"):
        assert 0 <= report["active_units_share"] <= 1 and report["latent_dim"] == 8
        assert set(report["accuracy_by_context_size"]) == {str(k) for k in range(1, 9)}
        assert (run / "latent_map.json").exists() and (run / "plots" / "latent_map.png").exists()
        assert (run / "plots" / "kl_active_units.png").exists()
    assert len(json.loads((run / "history.json").read_text())) == 2  # steps 3 and 6


def test_a_run_folder_loads_in_one_call_and_scores_the_same(prepared, tmp_path: Path) -> None:
    _, data = prepared
    cfg = model_config("spl", 384, data, SMALL)
    fit(data, tmp_path / "run", cfg, FitConfig(max_steps=4, batch_size=16), progress=False)
    run = load_run(tmp_path / "run")
    assert run.backbone_spec.name == "minilm" and run.report is not None
    batch = data.splits["test"].batch(torch.arange(8), data.embeddings)
    assert torch.equal(run.model.margins(batch), load_model(tmp_path / "run").margins(batch))


def test_an_interrupted_run_resumes_to_the_same_weights(prepared, tmp_path: Path, monkeypatch) -> None:
    _, data = prepared
    cfg = model_config("spl", 384, data, SMALL)
    settings = FitConfig(max_steps=8, batch_size=16, eval_every=4, seed=3)
    fit(data, tmp_path / "straight", cfg, settings, progress=False)

    import train.fit as fit_module

    real_save = fit_module.save_progress

    def save_then_crash(*args, **kwargs):
        real_save(*args, **kwargs)
        raise KeyboardInterrupt  # as if Ctrl-C arrived right after the step-4 checkpoint

    monkeypatch.setattr(fit_module, "save_progress", save_then_crash)
    with pytest.raises(KeyboardInterrupt):
        fit(data, tmp_path / "resumed", cfg, settings, progress=False)
    assert json.loads((tmp_path / "resumed" / "resume" / "progress.json").read_text())["step"] == 4
    monkeypatch.setattr(fit_module, "save_progress", real_save)
    fit(data, tmp_path / "resumed", cfg, settings, progress=False)

    a, b = load_model(tmp_path / "straight"), load_model(tmp_path / "resumed")
    for (name, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items()):
        assert torch.equal(x, y), name


def test_cli_fit_then_eval(prepared) -> None:
    root, _ = prepared
    runner = CliRunner()
    out = root / "cli-run"
    args = ["fit", "--data", str(root / "data"), "--cache", str(root / "cache"), "--out", str(out),
            "--model", "vpl", "--latent-dim", "8", "--hidden-dim", "16", "--max-steps", "3",
            "--batch-size", "16", "--quiet"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    summary, _, warning = result.output.partition("\nWARNING: ")
    assert json.loads(summary)["model"] == "vpl"
    report = json.loads((out / "report.json").read_text())
    assert (warning != "") == (report["learned_nothing"] is not None)
    again = runner.invoke(cli, args)
    assert again.exit_code == 1
    assert "already holds a finished run; pass --overwrite" in again.output
    result = runner.invoke(cli, ["eval", "--run", str(out), "--data", str(root / "data"), "--cache", str(root / "cache")])
    assert result.exit_code == 0, result.output
    assert (out / "eval-synthetic.json").exists()


def test_cli_errors_are_plain_sentences(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["fit", "--data", str(tmp_path), "--out", str(tmp_path / "r")])
    assert result.exit_code == 1
    assert result.output.startswith("Error: ") and "dataset.json" in result.output
    result = runner.invoke(cli, ["eval", "--run", str(tmp_path), "--data", str(tmp_path)])
    assert result.exit_code == 1 and "config.json is missing" in result.output


@pytest.mark.parametrize("command", ["data", "embed", "fit", "eval", "study"])
def test_every_command_has_help_with_an_example(command: str) -> None:
    result = CliRunner().invoke(cli, [command, "--help"])
    assert result.exit_code == 0 and "Example" in result.output



# one non-default value per model flag of `fit` (a new ModelConfig field must be added here)
EVERY_MODEL_FLAG = {
    "latent_dim": 6, "hidden_dim": 12, "n_flows": 1, "beta": 0.5, "guide_weight": 0.25,
    "eta": 0.5, "free_nats": 0.5, "anneal_steps": 7, "au_threshold": 0.01, "guide": False,
    "split_context": False, "film": False, "pooling": "sum", "latent_head": True,
    "evidence_mean": True, "input_dropout": 0.1, "linear_reward": True, "mean_bound": 2.0,
    "logvar_min": -3.0,
}


def test_every_model_flag_of_fit_reaches_the_run(prepared, tmp_path: Path) -> None:
    """Each ModelConfig flag `fit --help` offers lands in the run's config.json (a flag that
    is parsed and then dropped would silently train the default model)."""
    from spl_model import ModelConfig
    from train.fit_config import MODEL_FIELDS, MODEL_FIXED

    assert set(EVERY_MODEL_FLAG) == set(MODEL_FIELDS)
    assert set(MODEL_FIELDS) | set(MODEL_FIXED) == set(ModelConfig.__dataclass_fields__)
    root, _ = prepared
    args = ["fit", "--data", str(root / "data"), "--cache", str(root / "cache"),
            "--out", str(tmp_path / "run"), "--model", "spl", "--max-steps", "2",
            "--batch-size", "8", "--quiet"]
    for name, value in EVERY_MODEL_FLAG.items():
        args += [f"--{name.replace('_', '-')}", str(value).lower() if isinstance(value, bool) else str(value)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    model = json.loads((tmp_path / "run" / "config.json").read_text())["model"]
    assert {name: model[name] for name in EVERY_MODEL_FLAG} == EVERY_MODEL_FLAG
    for name, value in EVERY_MODEL_FLAG.items():
        assert ModelConfig.__dataclass_fields__[name].default != value, name


def test_a_dataset_without_test_rows_is_refused_before_training(prepared, tmp_path: Path) -> None:
    """No test split: fit stops with a plain sentence before any step (not a KeyError in the
    report after training), and eval says the same."""
    import shutil

    root, _ = prepared
    data_dir = tmp_path / "data"
    shutil.copytree(root / "data", data_dir)
    (data_dir / "test.jsonl").write_text("")
    out = tmp_path / "run"
    args = ["--data", str(data_dir), "--cache", str(root / "cache")]
    result = CliRunner().invoke(cli, ["fit", *args, "--out", str(out), "--model", "btl",
                                      "--max-steps", "3", "--batch-size", "16", "--quiet"])
    assert result.exit_code == 1, result.output
    assert result.output.startswith("Error: ") and "the test split is empty" in result.output
    assert not out.exists()  # refused before the run folder or any step
    run = root / "cli-refused-source"
    fit(prepare_data(root / "data", root / "cache"), run, model_config("btl", 384, None, {}),
        FitConfig(max_steps=2, batch_size=16), progress=False, plots=False)
    result = CliRunner().invoke(cli, ["eval", "--run", str(run), *args])
    assert result.exit_code == 1 and "the test split is empty" in result.output
