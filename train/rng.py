"""The training noise's random generators: seed a block without disturbing them, save, restore.

A run draws its noise (the posterior's eps, dropout) from the CPU generator and, when it trains
on CUDA, from that device's own generator. Evaluation seeds both for a repeatable estimate and
must leave both as it found them; a resumed run must get both back. Only CPU and CUDA are
handled, the two devices the trainer runs on (``Accelerator(cpu=not torch.cuda.is_available())``);
another device type is refused rather than half-handled.

Example:
    >>> with fixed_noise(0, torch.device("cpu")):
    ...     a = torch.rand(1)
    >>> with fixed_noise(0, torch.device("cpu")):
    ...     b = torch.rand(1)
    >>> bool(a == b)
    True
"""

from __future__ import annotations

import contextlib
from typing import Iterator

import torch

__all__ = ["fixed_noise", "generator_states", "set_generator_states"]


def _check(device: torch.device) -> torch.device:
    device = torch.device(device)
    if device.type not in ("cpu", "cuda"):
        raise ValueError(f"device {device} is neither cpu nor cuda; the trainer handles the random "
                         "generators of those two only.")
    return device


def generator_states(device: torch.device) -> dict[str, torch.Tensor]:
    """The states of every generator a run on ``device`` draws from: ``{"torch": CPU state}``,
    plus ``"cuda"`` (that device's generator) for a CUDA device. uint8 tensors (safetensors-ready).
    """
    device = _check(device)
    states = {"torch": torch.get_rng_state()}
    if device.type == "cuda":
        states["cuda"] = torch.cuda.get_rng_state(device)
    return states


def set_generator_states(states: dict[str, torch.Tensor], device: torch.device) -> None:
    """Restore what ``generator_states`` returned. A state saved on CPU restores only the CPU
    generator (a CUDA run resumed from it cannot continue the same CUDA noise; nothing can)."""
    device = _check(device)
    torch.set_rng_state(states["torch"])
    if device.type == "cuda" and "cuda" in states:
        torch.cuda.set_rng_state(states["cuda"], device)


@contextlib.contextmanager
def fixed_noise(seed: int, device: torch.device) -> Iterator[None]:
    """Run the block with the generators of ``device`` (see ``generator_states``) seeded to
    ``seed``, then put exactly those generators back, so the caller's noise continues unchanged.

    Seeds nothing it does not restore (``torch.manual_seed`` would also seed every CUDA device).
    """
    device = _check(device)
    saved = generator_states(device)
    try:
        torch.random.default_generator.manual_seed(seed)
        if device.type == "cuda":
            with torch.cuda.device(device):
                torch.cuda.manual_seed(seed)
        yield
    finally:
        set_generator_states(saved, device)
