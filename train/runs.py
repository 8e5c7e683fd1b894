"""Load a run folder for inference in one call: the model, its backbone spec, LoRA if any."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spl_model import RewardModel
from spl_model.checkpoint import load_run_files
from spl_model.backbones import BackboneSpec, backbone_name, resolve_spec

__all__ = ["Run", "load_run"]


@dataclass(frozen=True)
class Run:
    """A trained run: ``model`` (eval mode), ``config`` (config.json), ``report`` (or None),
    ``backbone_spec`` (how its embeddings are made) and, for LoRA runs, ``tuned_backbone``."""

    folder: Path
    model: RewardModel
    config: dict[str, Any]
    report: dict[str, Any] | None
    backbone_spec: BackboneSpec
    tuned_backbone: Any = None


def load_run(folder: str | Path, device: str | None = None, load_lora: bool = True) -> Run:
    """Load ``folder`` (``spl_model.checkpoint.load_run_files``: see :func:`spl_model.load_model`
    for the checks it makes), with its backbone spec and, if asked, its tuned LoRA backbone."""
    folder = Path(folder)
    model, config, report = load_run_files(folder)
    identity = config.get("backbone") or {"backbone": "minilm"}
    name = backbone_name(identity)  # name: loadable id or path
    # a run from before the truncate setting saw right-truncated texts: evaluate it on those
    spec = resolve_spec(name, quantize=identity.get("quantize", "none"),
                        max_length=identity.get("max_length"),
                        truncate=identity.get("truncate", "right"))
    tuned = None
    lora = folder / "lora.safetensors"
    if load_lora and lora.is_file():
        from safetensors.torch import load_file

        from spl_model.backbones import load_backbone

        fit = config.get("fit", {})
        tuned = load_backbone(spec, device=device)
        tuned.add_lora(fit.get("lora_r", 8), fit.get("lora_alpha", 16), fit.get("lora_dropout", 0.0))
        tuned.load_lora_state_dict(load_file(str(lora)))
    return Run(folder, model, config, report, spec, tuned)
