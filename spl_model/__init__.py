"""SPL: Swap-guided Preference Learning, and its baselines, as one pure-PyTorch library.

The models score a response ``y`` to a prompt ``x`` *for one user*: a few pairs the user
labelled (their context) are encoded into a latent ``z``, and a reward decoder ``r(x, y, z)``
reads it. Four kinds share the same parts and differ only by configuration
(:class:`ModelConfig`):

======  =====================  ==========================  ===================  ============
kind    context encoder        posterior                   decoder              KL term
======  =====================  ==========================  ===================  ============
spl     per-response MLP       Gaussian + P-IAF (c_d/c_s)  FiLM                 MC, free nats
vpl     pair MLP               Gaussian                    MLP on [x; z]        closed form
ivpl    pair MLP               Gaussian + IAF (pooled u)   MLP on [x; z]        MC, free nats
btl     --                     none (z has width 0)        MLP on x             --
oracle  --                     the true user features      MLP on [x; w]        --
======  =====================  ==========================  ===================  ============

Dimensions are named once here and used in every shape comment:

- ``B``: users in a batch (one row = one user with its own context)
- ``C``: context pairs per user (padded; a bool mask marks the real ones)
- ``N``: target responses (or pairs) scored per user
- ``D``: embedding width of the text backbone
- ``H``: hidden width
- ``Z``: latent width

This package does no file or network I/O, except :func:`save_model` / :func:`load_model`,
which read and write ``model.safetensors`` + ``config.json`` (never pickle), and
``spl_model.backbones``, which loads a text backbone from a local folder or the local Hugging
Face cache (never the network; transformers is imported only then). ``spl_model.render`` is the
one text format both the trainer and the demo app embed.

Example:
    >>> import torch
    >>> from spl_model import ModelConfig, build_model
    >>> model = build_model(ModelConfig(kind="spl", embed_dim=8, latent_dim=4, hidden_dim=16)).eval()
    >>> ctx_c, ctx_r = torch.randn(2, 3, 8), torch.randn(2, 3, 8)
    >>> mask = torch.tensor([[True, True, True], [True, True, False]])
    >>> post = model.posterior(ctx_c, ctx_r, mask)
    >>> post.z.shape
    torch.Size([2, 4])
    >>> model.reward(torch.randn(2, 5, 8), post.z).shape
    torch.Size([2, 5])
"""

import importlib
from typing import Any

_HOMES = {
    "load_model": "checkpoint", "save_model": "checkpoint",
    "ModelConfig": "config", "ModelKind": "config",
    "CheckpointError": "errors", "ShapeError": "errors", "SPLError": "errors",
    "anneal_weight": "losses", "bradley_terry_loss": "losses", "gaussian_kl": "losses",
    "guide_loss": "losses", "monte_carlo_kl": "losses",
    "COLLAPSE_SHARE": "metrics", "accuracy": "metrics", "active_units": "metrics",
    "expected_calibration_error": "metrics", "latent_collapsed": "metrics",
    "per_group_accuracy": "metrics", "swap_flip_rate": "metrics",
    "Posterior": "models", "PreferenceBatch": "models", "RewardModel": "models",
    "build_model": "models",
}
"""Where each public name lives; they load on first use, so ``import spl_model.config`` (the
trainer's ``--help``) does not import torch."""

__all__ = [
    "COLLAPSE_SHARE",
    "CheckpointError",
    "ModelConfig",
    "ModelKind",
    "Posterior",
    "PreferenceBatch",
    "RewardModel",
    "SPLError",
    "ShapeError",
    "accuracy",
    "active_units",
    "anneal_weight",
    "bradley_terry_loss",
    "build_model",
    "expected_calibration_error",
    "gaussian_kl",
    "guide_loss",
    "latent_collapsed",
    "load_model",
    "monte_carlo_kl",
    "per_group_accuracy",
    "save_model",
    "swap_flip_rate",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'spl_model' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"spl_model.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
