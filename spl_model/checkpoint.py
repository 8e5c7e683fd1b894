"""Save and load a model as ``model.safetensors`` + ``config.json`` (never pickle).

``config.json`` holds ``{"format": "spl-model", "format_version": 1, "model": {...ModelConfig},
"weights": {"file", "sha256", "n_params", "made_blocks"}, ...caller metadata}``. Loading
rebuilds the model from the config, checks the weights' sha256, their names and shapes against
that config, and that they are finite, and refuses anything that looks like a pickle. This is
the only module of ``spl_model`` that touches files.

``made_blocks`` is the storage layout of the flows' masked layers: ``{layer: k}``, each layer's
weight stored as ``k`` row blocks ``<layer>.weights.0`` .. ``<layer>.weights.<k-1>``
(``spl_model.made.MaskedLinear``). A new model picks k by a speed rule that may change; a loaded
one is re-cut to the recorded k first, so every checkpoint keeps loading. Checkpoints written
before the key existed have their k read off the tensor names.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, NamedTuple

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors

from spl_model.atomic import atomic_write
from spl_model.config import ModelConfig
from spl_model.errors import CheckpointError
from spl_model.made import made_layout, set_made_layout
from spl_model.models import RewardModel, build_model

__all__ = ["WEIGHTS_FILE", "CONFIG_FILE", "REPORT_FILE", "RunFiles", "load_model", "load_run_files",
           "read_run_config", "save_model"]

WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
REPORT_FILE = "report.json"
FORMAT = "spl-model"
FORMAT_VERSION = 1
PICKLE_SUFFIXES = (".pt", ".pth", ".bin", ".pkl", ".pickle", ".ckpt")
RESERVED_KEYS = ("format", "format_version", "model", "weights")


def save_model(model: RewardModel, folder: str | Path, metadata: dict[str, Any] | None = None) -> Path:
    """Write ``model.safetensors`` and ``config.json`` into ``folder`` (created if needed).

    ``metadata`` (JSON-serialisable: backbone id, dataset card, training settings...) is
    merged into ``config.json``; it may not use the reserved keys ``format``,
    ``format_version``, ``model``, ``weights``. Returns the folder.
    """
    folder = Path(folder)
    metadata = dict(metadata or {})
    clash = sorted(set(metadata) & set(RESERVED_KEYS))
    if clash:
        raise ValueError(f"metadata keys {clash} are reserved by the checkpoint format.")
    folder.mkdir(parents=True, exist_ok=True)
    state = {name: t.detach().cpu().contiguous() for name, t in model.state_dict().items()}
    blob = save_safetensors(state, metadata={"format": "pt"})
    config = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "model": model.cfg.to_dict(),
        "weights": {
            "file": WEIGHTS_FILE,
            "sha256": hashlib.sha256(blob).hexdigest(),
            "n_params": sum(p.numel() for p in model.parameters()),
            "made_blocks": made_layout(model),
        },
        **metadata,
    }
    atomic_write(folder / WEIGHTS_FILE, blob)
    atomic_write(folder / CONFIG_FILE, (json.dumps(config, indent=2, sort_keys=True) + "\n").encode())
    return folder


def read_run_config(folder: str | Path) -> dict[str, Any]:
    """The parsed ``config.json`` of a run folder, after checking its format."""
    folder = Path(folder)
    if not folder.is_dir():
        raise CheckpointError(f"no run folder at {folder}: expected a folder with {CONFIG_FILE} and {WEIGHTS_FILE}.")
    path = folder / CONFIG_FILE
    if not path.is_file():
        raise CheckpointError(f"{path} is missing; a run folder needs {CONFIG_FILE} and {WEIGHTS_FILE} (written by save_model).")
    try:
        config = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise CheckpointError(f"{path} is not valid JSON ({err}); re-save the model.") from err
    if not isinstance(config, dict) or config.get("format") != FORMAT or "model" not in config:
        raise CheckpointError(f"{path} is not an spl-model config (missing format={FORMAT!r} or 'model').")
    if config.get("format_version", 0) > FORMAT_VERSION:
        raise CheckpointError(
            f"{path} has format_version {config['format_version']}, newer than this code "
            f"({FORMAT_VERSION}); upgrade spl_model."
        )
    return config


def _refuse_pickles(folder: Path) -> None:
    pickles = sorted(p.name for p in folder.iterdir() if p.suffix in PICKLE_SUFFIXES)
    if pickles:
        raise CheckpointError(
            f"{folder} holds {pickles} but no {WEIGHTS_FILE}: pickle checkpoints are refused "
            "(they can run code when loaded). Convert the weights to safetensors."
        )


def _read_weights(folder: Path, expected_sha256: str | None) -> dict[str, torch.Tensor]:
    path = folder / WEIGHTS_FILE
    if not path.is_file():
        _refuse_pickles(folder)
        raise CheckpointError(f"{path} is missing; the run folder is incomplete.")
    blob = path.read_bytes()
    # A safetensors file is an 8-byte little-endian header length, then a JSON header. Only
    # when that is absent do we look for pickle / zip signatures (a header length may well
    # start with byte 0x80, so that byte alone proves nothing).
    looks_safetensors = len(blob) >= 9 and blob[8:9] == b"{"
    if not looks_safetensors and (blob[:1] == b"\x80" or blob[:4] == b"PK\x03\x04"):
        raise CheckpointError(
            f"{path} is a pickle / torch.save archive, not safetensors; pickle checkpoints are "
            "refused (they can run code when loaded). Re-save with spl_model.save_model."
        )
    digest = hashlib.sha256(blob).hexdigest()
    if expected_sha256 is not None and digest != expected_sha256:
        raise CheckpointError(
            f"{path} has sha256 {digest[:16]}..., but config.json expects {expected_sha256[:16]}...: "
            "the weights were changed or truncated after saving. Re-copy the run folder."
        )
    try:
        return load_safetensors(blob)
    except (SafetensorError, ValueError) as err:
        raise CheckpointError(f"{path} is not a readable safetensors file ({err}).") from err


def _check_state(state: dict[str, torch.Tensor], model: RewardModel, path: Path) -> None:
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        raise CheckpointError(
            f"{path} does not match its config (kind={model.cfg.kind}): missing tensors "
            f"{missing[:5]}, unexpected tensors {unexpected[:5]}."
        )
    for name, tensor in state.items():
        if tensor.shape != expected[name].shape:
            c = model.cfg
            raise CheckpointError(
                f"{path}: tensor {name!r} has shape {list(tensor.shape)}, but config.json "
                f"(embed_dim={c.embed_dim}, latent_dim={c.latent_dim}, hidden_dim={c.hidden_dim}) "
                f"implies {list(expected[name].shape)}: the config and weights disagree."
            )
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise CheckpointError(f"{path}: tensor {name!r} contains NaN or infinite values.")


def _layout_of_state(model: RewardModel, state: dict[str, torch.Tensor]) -> dict[str, int]:
    """Each masked layer's block count as the tensor names show it (``<layer>.weights.<i>``);
    the model's own count where the file has none (``_check_state`` then names what is missing)."""
    layout = {}
    for name, blocks in made_layout(model).items():
        stored = 0
        while f"{name}.weights.{stored}" in state:
            stored += 1
        layout[name] = stored or blocks
    return layout


def load_model(folder: str | Path, device: str | torch.device = "cpu") -> RewardModel:
    """Rebuild a model saved by :func:`save_model`, in eval mode, on ``device``.

    Raises :class:`CheckpointError` with a plain explanation for a missing folder or file, a
    pickle, a sha256 mismatch, weights whose names or shapes disagree with the config, or
    NaN / infinite weights.
    """
    folder = Path(folder)
    if folder.is_dir() and not (folder / WEIGHTS_FILE).exists():
        _refuse_pickles(folder)
    config = read_run_config(folder)
    try:
        cfg = ModelConfig.from_dict(config["model"])
    except (TypeError, ValueError) as err:
        raise CheckpointError(f"{folder / CONFIG_FILE}: invalid model config ({err}).") from err
    sha = config.get("weights", {}).get("sha256")
    state = _read_weights(folder, sha)
    model = build_model(cfg)
    layout = config.get("weights", {}).get("made_blocks")
    if layout is None:  # saved before the layout was recorded: the tensor names carry it
        layout = _layout_of_state(model, state)
    try:
        set_made_layout(model, layout)
    except (TypeError, ValueError) as err:
        raise CheckpointError(f"{folder / CONFIG_FILE}: its made_blocks layout does not fit the "
                              f"model ({err}); the config was edited or comes from other code.") from err
    _check_state(state, model, folder / WEIGHTS_FILE)
    model.load_state_dict(state, strict=True)
    return model.to(device).eval()


class RunFiles(NamedTuple):
    """What every reader of a run folder starts from (see :func:`load_run_files`)."""

    model: RewardModel
    config: dict[str, Any]
    report: dict[str, Any] | None


def load_run_files(folder: str | Path, device: str | torch.device = "cpu") -> RunFiles:
    """The one loader of a run folder: the model (:func:`load_model`, eval mode), ``config.json``
    and ``report.json`` (``None`` when absent or not a JSON object).

    The trainer (``train.runs.load_run``: adds the backbone spec and LoRA) and the demo app
    (``app.runs.load_run``: adds the latent map, plots and calibrator) both build on it. Raises
    :class:`CheckpointError` for a broken model or config, or a report that is not valid JSON.
    """
    folder = Path(folder)
    model = load_model(folder, device)
    config = read_run_config(folder)
    path = folder / REPORT_FILE
    report = None
    if path.is_file():
        try:
            report = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise CheckpointError(f"{path} is not valid JSON ({err}); regenerate it with the "
                                  "trainer (python -m train eval).") from err
    return RunFiles(model, config, report if isinstance(report, dict) else None)
