"""Resumable training: a run folder's ``resume/`` holds the last evaluated step's state.

``state.safetensors`` has the model's tensors (``model.*``) and the optimizer's
(``optim.<param>.<name>``) and the torch RNG state (``rng.torch``); ``progress.json`` has the step, the evaluation history, the time
spent, the optimizer's param groups and the settings, which must match for a resume (no
pickle anywhere). The folder is removed when the run finishes.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

__all__ = ["ResumeMismatch", "clear_progress", "load_progress", "save_progress"]


class ResumeMismatch(Exception):
    """The run folder holds an interrupted run with other settings."""


def _folder(out: Path) -> Path:
    return out / "resume"


def save_progress(out: Path, settings: dict[str, Any], model: torch.nn.Module,
                  optimizer: torch.optim.Optimizer, step: int,
                  history: list[dict[str, Any]], seconds: float) -> None:
    """Write the state atomically: a temp folder, then a rename over the previous one."""
    folder = _folder(out)
    tmp = folder.with_name(f".resume-tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    opt = optimizer.state_dict()
    for index, state in opt["state"].items():
        for name, value in state.items():
            tensors[f"optim.{index}.{name}"] = torch.as_tensor(value).detach().cpu().contiguous()
    tensors["rng.torch"] = torch.get_rng_state()  # so a resumed run samples what it would have
    save_file(tensors, str(tmp / "state.safetensors"))
    progress = {"step": step, "history": history, "seconds": seconds, "settings": settings,
                "param_groups": opt["param_groups"]}
    (tmp / "progress.json").write_text(json.dumps(progress, indent=1, default=str))
    if folder.exists():
        shutil.rmtree(folder)
    os.replace(tmp, folder)


def load_progress(out: Path, settings: dict[str, Any], model: torch.nn.Module,
                  optimizer: torch.optim.Optimizer) -> tuple[int, list[dict[str, Any]], float]:
    """Restore an interrupted run into ``model`` and ``optimizer`` (the LR schedule is a
    function of the step, rebuilt by the caller).

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
    tensors = load_file(str(folder / "state.safetensors"))
    model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
    state: dict[int, dict[str, torch.Tensor]] = {}
    for key, value in tensors.items():
        if key.startswith("optim."):
            _, index, name = key.split(".", 2)
            state.setdefault(int(index), {})[name] = value
    optimizer.load_state_dict({"state": state, "param_groups": progress["param_groups"]})
    torch.set_rng_state(tensors["rng.torch"])
    return progress["step"], progress["history"], progress["seconds"]


def clear_progress(out: Path) -> None:
    shutil.rmtree(_folder(out), ignore_errors=True)
