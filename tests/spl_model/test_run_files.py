"""One loader of a run folder (``load_run_files``) under the trainer's and the app's ``load_run``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from spl_model import CheckpointError, save_model
from spl_model.checkpoint import load_run_files


@pytest.fixture
def run_dir(tmp_path: Path, make_model) -> Path:
    folder = save_model(make_model("spl"), tmp_path / "spl", metadata={"dataset": {"name": "tiny"}})
    (folder / "report.json").write_text(json.dumps({"accuracy": 0.75}))
    return folder


def test_model_config_and_report(run_dir: Path) -> None:
    model, config, report = load_run_files(run_dir)
    assert not model.training and config["dataset"] == {"name": "tiny"}
    assert report == {"accuracy": 0.75}


@pytest.mark.parametrize("text, expected", [(None, None), ("[1, 2]", None)])
def test_no_report_or_not_an_object_reads_as_none(run_dir: Path, text: str | None,
                                                  expected: None) -> None:
    if text is None:
        (run_dir / "report.json").unlink()
    else:
        (run_dir / "report.json").write_text(text)
    assert load_run_files(run_dir).report is expected


def test_a_broken_report_is_refused_with_the_fix(run_dir: Path) -> None:
    (run_dir / "report.json").write_text('{"accuracy": ')
    with pytest.raises(CheckpointError, match="report.json is not valid JSON.*regenerate"):
        load_run_files(run_dir)


def test_the_trainer_and_the_app_load_the_same_run(run_dir: Path) -> None:
    from app.runs import load_run as app_load_run
    from train.runs import load_run as train_load_run

    served, trained = app_load_run(run_dir), train_load_run(run_dir, load_lora=False)
    assert served.config == trained.config and served.report == trained.report
    weights = trained.model.state_dict()
    for name, value in served.model.state_dict().items():
        assert torch.equal(value, weights[name]), name
    assert not any(p.requires_grad for p in served.model.parameters())  # the app serves frozen
