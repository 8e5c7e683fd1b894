"""Resuming an interrupted ``fit`` (issue 13): from a checkpoint in the middle of an epoch the
run ends on the same weights and history as an uninterrupted one; other settings are refused.

64 training rows in batches of 16 make 4 steps an epoch; ``eval_every=3`` checkpoints at steps
3 and 6, so the resumed run starts at epoch 0, offset 3 and at epoch 1, offset 2 (the tests in
``test_fit.py`` checkpoint on an epoch boundary, where the offset is 0)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import torch

import train.fit as fit_module
from fit_helpers import fill_cache, make_dataset
from spl_model import load_model
from train.fit import FitConfig, fit, model_config, prepare_data
from train.resume import ResumeMismatch

SETTINGS = FitConfig(max_steps=8, batch_size=16, eval_every=3, seed=5, lr=1e-3)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("resume")
    data_dir = make_dataset(root / "data")
    fill_cache(data_dir, root / "cache")
    return prepare_data(data_dir, root / "cache")


def _interrupt_after(monkeypatch: pytest.MonkeyPatch, n_saves: int) -> None:
    """Make ``fit`` stop (as at Ctrl-C) right after its ``n_saves``-th checkpoint."""
    real_save = fit_module.save_progress
    saves = []

    def save_then_maybe_crash(*args, **kwargs):
        real_save(*args, **kwargs)
        saves.append(1)
        if len(saves) == n_saves:
            raise KeyboardInterrupt

    monkeypatch.setattr(fit_module, "save_progress", save_then_maybe_crash)


def _history(run: Path) -> list[dict]:
    return json.loads((run / "history.json").read_text())


@pytest.mark.parametrize("n_saves, resume_step", [(1, 3), (2, 6)])
def test_a_run_resumed_mid_epoch_ends_where_a_straight_run_ends(
        data, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, n_saves: int,
        resume_step: int) -> None:
    cfg = model_config("spl", 384, data, {"latent_dim": 4, "hidden_dim": 8})
    fit(data, tmp_path / "straight", cfg, SETTINGS, progress=False, plots=False)

    with monkeypatch.context() as patch:
        _interrupt_after(patch, n_saves)
        with pytest.raises(KeyboardInterrupt):
            fit(data, tmp_path / "resumed", cfg, SETTINGS, progress=False, plots=False)
    progress = json.loads((tmp_path / "resumed" / "resume" / "progress.json").read_text())
    assert progress["step"] == resume_step and resume_step % 4 != 0  # inside an epoch
    assert [h["step"] for h in progress["history"]] == [3, 6][:n_saves]
    fit(data, tmp_path / "resumed", cfg, SETTINGS, progress=False, plots=False)

    a, b = load_model(tmp_path / "straight"), load_model(tmp_path / "resumed")
    for (name, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items()):
        assert torch.equal(x, y), name
    straight, resumed = _history(tmp_path / "straight"), _history(tmp_path / "resumed")
    assert [h["step"] for h in resumed] == [3, 6, 8]  # the history from before the stop is kept
    assert resumed == straight


def test_resuming_with_other_settings_is_refused(data, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = model_config("spl", 384, data, {"latent_dim": 4, "hidden_dim": 8})
    with monkeypatch.context() as patch:
        _interrupt_after(patch, 1)
        with pytest.raises(KeyboardInterrupt):
            fit(data, tmp_path / "run", cfg, SETTINGS, progress=False, plots=False)
    for other_fit, other_model in [(dataclasses.replace(SETTINGS, lr=2e-3), cfg),
                                   (SETTINGS, dataclasses.replace(cfg, beta=0.5))]:
        with pytest.raises(ResumeMismatch, match="other settings; pass --overwrite"):
            fit(data, tmp_path / "run", other_model, other_fit, progress=False, plots=False)
    assert json.loads((tmp_path / "run" / "resume" / "progress.json").read_text())["step"] == 3


def test_nothing_to_resume_starts_at_step_zero_and_clearing_nothing_is_fine(tmp_path: Path) -> None:
    from train.resume import clear_progress, load_progress

    model = torch.nn.Linear(2, 1)
    optimizer = torch.optim.AdamW(model.parameters())
    assert load_progress(tmp_path, {"any": 1}, model, optimizer) == (0, [], 0.0)
    clear_progress(tmp_path)  # no resume/ folder: nothing to do, no error
    assert not (tmp_path / "resume").exists()


def test_a_leftover_temporary_folder_does_not_block_saving(tmp_path: Path) -> None:
    """A save killed half-way leaves ``.resume-tmp-<pid>``; the next save replaces it."""
    import os

    from train.resume import load_progress, save_progress

    model = torch.nn.Linear(2, 1)
    optimizer = torch.optim.AdamW(model.parameters())
    model(torch.ones(1, 2)).sum().backward()
    optimizer.step()
    leftover = tmp_path / f".resume-tmp-{os.getpid()}"
    leftover.mkdir()
    (leftover / "state.safetensors").write_bytes(b"half a file")
    save_progress(tmp_path, {"s": 1}, model, optimizer, 7, [{"step": 7}], 1.5)
    assert not leftover.exists()
    fresh = torch.nn.Linear(2, 1)
    again = torch.optim.AdamW(fresh.parameters())
    assert load_progress(tmp_path, {"s": 1}, fresh, again) == (7, [{"step": 7}], 1.5)
    assert torch.equal(fresh.weight, model.weight)
    assert torch.equal(again.state_dict()["state"][0]["exp_avg"], optimizer.state_dict()["state"][0]["exp_avg"])
