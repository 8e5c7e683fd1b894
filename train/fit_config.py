"""``FitConfig``: the training settings of ``fit`` (its flags and ``config.json`` derive from it).

Kept apart from ``train.fit`` and free of torch, so ``python -m train fit --help`` builds its
flags without importing torch.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from spl_model.config import ModelConfig

__all__ = ["MODEL_FIELDS", "MODEL_FIXED", "FitConfig"]

MODEL_FIXED = ("kind", "embed_dim", "flow_seed")
"""ModelConfig fields ``fit`` sets itself (the ``--model`` kind, the backbone's width, the seed)."""

MODEL_FIELDS = tuple(f.name for f in fields(ModelConfig) if f.name not in MODEL_FIXED)
"""Every other ModelConfig field: one ``fit`` flag each, passed through to the model."""


@dataclass(frozen=True)
class FitConfig:
    """Training settings; the ``fit`` command's flags and ``config.json`` derive from these."""

    epochs: float = field(default=2.0, metadata={"help": "passes over the training rows (paper: 2)"})
    max_steps: int = field(default=0, metadata={"help": "stop after this many steps (0 = use epochs)"})
    batch_size: int = field(default=64, metadata={"help": "users per step (paper: 64 UF, 32 Pets)"})
    lr: float = field(default=1e-4, metadata={"help": "AdamW learning rate (paper: 1e-4 UF, 3e-4 Pets)"})
    weight_decay: float = field(default=1e-3, metadata={"help": "AdamW weight decay"})
    warmup_ratio: float = field(default=0.03, metadata={"help": "share of steps with linear warm-up"})
    eval_every: int = field(default=100, metadata={"help": "evaluate on the test split every N steps"})
    eval_rows: int = field(default=512, metadata={"help": "test rows used by the periodic evaluation"})
    seed: int = field(default=31, metadata={"help": "seed of weights, data order and sampling"})
    targets_per_context: int = field(
        default=1, metadata={"help": "target pairs scored per context: the row's own plus "
                                     "n - 1 other rows of the same user (1 = the paper's one)"})
    answer_targets: bool = field(
        default=False, metadata={"help": "with targets_per_context > 1, also draw targets from "
                                         "the user's answers that are not in this context"})
    context_targets: bool = field(
        default=False, metadata={"help": "also score the context's own answers under the z read "
                                         "from them (the full ELBO: the likelihood of everything "
                                         "the encoder saw, not only of held-out targets)"})
    lora_r: int = field(default=0, metadata={"help": "LoRA rank on the backbone (0 = frozen embeddings)"})
    lora_alpha: int = field(default=256, metadata={"help": "LoRA alpha (paper: 256)"})
    lora_dropout: float = field(default=0.1, metadata={"help": "LoRA dropout (paper: 0.1)"})

    def __post_init__(self) -> None:
        if self.epochs <= 0 and self.max_steps <= 0:
            raise ValueError("set epochs > 0 or max_steps > 0.")
        if self.batch_size < 1:
            raise ValueError(f"batch_size={self.batch_size} must be >= 1.")
        if not 0 <= self.warmup_ratio < 1:
            raise ValueError(f"warmup_ratio={self.warmup_ratio} must be in [0, 1).")
        if self.targets_per_context < 1:
            raise ValueError(f"targets_per_context={self.targets_per_context} must be >= 1.")
        if self.answer_targets and self.targets_per_context < 2:
            raise ValueError("answer_targets draws extra targets: set targets_per_context >= 2.")
        if self.context_targets and self.lora_r > 0:
            raise ValueError("context_targets is not supported with LoRA (lora_r > 0): the tuned "
                             "backbone re-embeds the target pairs, not the context's.")
        if self.targets_per_context > 1 and self.lora_r > 0:
            raise ValueError("targets_per_context > 1 is not supported with LoRA (lora_r > 0): "
                             "the tuned backbone re-embeds one target pair per row.")
