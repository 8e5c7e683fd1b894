"""Resumable training: a run folder's ``resume/`` holds the last evaluated step's state.

``state-<step>-<random>.safetensors`` has the model's tensors (``model.*``), the optimizer's
(``optim.<param>.<name>``) and the random generators' states (``rng.torch``, plus ``rng.cuda``
for a run on CUDA); ``progress.json`` has the step, the evaluation history, the time spent, the
optimizer's param groups, the settings, which must match for a resume, and the name of its state
file (no pickle anywhere). The folder is removed when the run finishes.

A save never removes the state it replaces before the new one is complete: it writes the new
state file beside the old one, then replaces ``progress.json`` (the commit: one atomic rename,
``spl_model.atomic``, which writes every file of the save), and only then deletes the state files no ``progress.json`` names. A crash at
any point leaves either the previous state or the new one, whole.
"""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from spl_model.atomic import atomic_write
from train.rng import generator_states, set_generator_states

__all__ = ["ResumeMismatch", "clear_progress", "load_progress", "save_progress"]

_LEGACY_STATE = "state.safetensors"  # the state file's name before it carried the step


class ResumeMismatch(Exception):
    """The run folder holds an interrupted run with other settings."""


def _folder(out: Path) -> Path:
    return out / "resume"


def _model_device(model: torch.nn.Module) -> torch.device:
    return next((p.device for p in model.parameters()), torch.device("cpu"))


def save_progress(out: Path, settings: dict[str, Any], model: torch.nn.Module,
                  optimizer: torch.optim.Optimizer, step: int,
                  history: list[dict[str, Any]], seconds: float,
                  device: torch.device | None = None) -> None:
    """Write the state atomically (see the module docstring); ``device`` (default: the model's)
    says which generators the run draws from."""
    folder = _folder(out)
    folder.mkdir(parents=True, exist_ok=True)
    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    opt = optimizer.state_dict()
    for index, state in opt["state"].items():
        for name, value in state.items():
            tensors[f"optim.{index}.{name}"] = torch.as_tensor(value).detach().cpu().contiguous()
    # so a resumed run samples what it would have, on the CPU and on its CUDA device
    for name, value in generator_states(device or _model_device(model)).items():
        tensors[f"rng.{name}"] = value.cpu()
    state_name = f"state-{step}-{uuid.uuid4().hex[:8]}.safetensors"  # never an existing file
    atomic_write(folder / state_name, lambda path: save_file(tensors, str(path)))
    progress = {"step": step, "history": history, "seconds": seconds, "settings": settings,
                "param_groups": opt["param_groups"], "state_file": state_name}
    atomic_write(folder / "progress.json", json.dumps(progress, indent=1, default=str))  # the commit
    leftovers = [*folder.glob(".progress-*.json"), *folder.glob(".*.tmp")]  # crashed saves
    for stale in [*folder.glob("state*.safetensors"), *leftovers]:
        if stale.name != state_name:  # what no progress.json names: older states, crash leftovers
            stale.unlink(missing_ok=True)
    for old in Path(out).glob(".resume-tmp-*"):  # a half-written save of the previous layout
        shutil.rmtree(old, ignore_errors=True)


def load_progress(out: Path, settings: dict[str, Any], model: torch.nn.Module,
                  optimizer: torch.optim.Optimizer,
                  device: torch.device | None = None) -> tuple[int, list[dict[str, Any]], float]:
    """Restore an interrupted run into ``model``, ``optimizer`` and the random generators of
    ``device`` (default: the model's; the LR schedule is a function of the step, rebuilt by the
    caller).

    Returns ``(step, history, seconds)``; ``(0, [], 0.0)`` when there is nothing to resume.
    """
    folder = _folder(out)
    if not (folder / "progress.json").is_file():
        return 0, [], 0.0
    progress = json.loads((folder / "progress.json").read_text())
    if json.dumps(progress["settings"], sort_keys=True, default=str) != json.dumps(settings, sort_keys=True, default=str):
        raise ResumeMismatch(
            f"{out} holds an interrupted run with other settings; pass --overwrite to start "
            "over, or use another --out folder."
        )
    tensors = load_file(str(folder / progress.get("state_file", _LEGACY_STATE)))
    model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
    state: dict[int, dict[str, torch.Tensor]] = {}
    for key, value in tensors.items():
        if key.startswith("optim."):
            _, index, name = key.split(".", 2)
            state.setdefault(int(index), {})[name] = value
    optimizer.load_state_dict({"state": state, "param_groups": progress["param_groups"]})
    set_generator_states({k[4:]: v for k, v in tensors.items() if k.startswith("rng.")},
                         device or _model_device(model))
    return progress["step"], progress["history"], progress["seconds"]


def clear_progress(out: Path) -> None:
    shutil.rmtree(_folder(out), ignore_errors=True)
