"""Test-time refinement of a user's latent: a few gradient steps on their own answers.

The encoder amortises inference: one forward pass maps any context to a posterior, trained
across thousands of users. On the population world that pass lands about a point short of the
best latent the decoder could use for a user (``docs/results/personalize.md``: with the
refinement below, SPL's learned reward basis scores what the low-rank baseline scores with
exact MAP inference). Refinement closes that gap semi-amortised style: start from the
encoder's ``z`` and take ``steps`` Adam steps on the MAP objective of the user's answers

    maximise  sum_i log sigmoid(r(x, y_chosen_i, z) - r(x, y_rejected_i, z)) - |z|^2 / (2 s^2)

with the decoder frozen and a wide Gaussian prior ``N(0, s^2 I)`` (``prior_var = s^2``). Only
users with at least one real answer move; the others keep the encoder's ``z``.
Nothing is trained and no model parameter receives a gradient.

Example:
    >>> import torch
    >>> from spl_model import ModelConfig, build_model
    >>> torch.manual_seed(0) and None
    >>> model = build_model(ModelConfig(kind="vpl", embed_dim=8, latent_dim=4, hidden_dim=8)).eval()
    >>> c, r, mask = torch.randn(2, 3, 8), torch.randn(2, 3, 8), torch.tensor([[1, 1, 1], [0, 0, 0]]).bool()
    >>> z0 = model.posterior(c, r, mask).z
    >>> z = refine_latent(model, c, r, mask, z0, RefineSettings(steps=20))
    >>> bool((z[0] != z0[0]).any()), bool((z[1] == z0[1]).all())  # no answers: unchanged
    (True, True)
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["RefineSettings", "answers_log_likelihood", "refine_latent"]


@dataclass(frozen=True)
class RefineSettings:
    """How hard to refine: Adam ``steps`` at ``lr`` under the prior ``N(0, prior_var I)``.

    The defaults are the ones measured in ``docs/results/personalize.md`` (``+refine`` rows).
    """

    steps: int = 100
    lr: float = 0.05
    prior_var: float = 100.0

    def __post_init__(self) -> None:
        if self.steps < 0:
            raise ValueError(f"steps={self.steps} must be >= 0.")
        if self.lr <= 0 or self.prior_var <= 0:
            raise ValueError(f"lr={self.lr} and prior_var={self.prior_var} must be > 0.")


def answers_log_likelihood(model, ctx_chosen: Tensor, ctx_rejected: Tensor, mask: Tensor,
                           z: Tensor) -> Tensor:
    """``[B]``: each user's Bradley-Terry log-likelihood of their real answers under ``z``."""
    C = ctx_chosen.shape[1]
    rewards = model.reward(torch.cat([ctx_chosen, ctx_rejected], dim=1), z)  # [B, 2C]
    per_answer = F.logsigmoid(rewards[:, :C] - rewards[:, C:])  # [B, C]
    return (per_answer * mask.to(per_answer.dtype)).sum(dim=1)


def refine_latent(model, ctx_chosen: Tensor, ctx_rejected: Tensor, mask: Tensor, z: Tensor,
                  settings: RefineSettings = RefineSettings()) -> Tensor:
    """The module docstring's MAP refinement of ``z [B, Z]`` on each user's context answers.

    Args:
        model: a :class:`spl_model.RewardModel` with a latent (its parameters stay untouched).
        ctx_chosen, ctx_rejected: ``[B, C, D]`` the answered pairs; mask ``[B, C]`` the real ones.
        z: ``[B, Z]`` the starting latents (the encoder's).
    Returns:
        ``[B, Z]`` refined latents, detached; rows without a real answer equal ``z``.
    """
    answered = mask.any(dim=1)  # [B]
    if settings.steps == 0 or not bool(answered.any()):
        return z.detach().clone()
    was_training = model.training
    model.eval()
    start = z.detach().float()
    current = start.clone().requires_grad_(True)
    opt = torch.optim.Adam([current], lr=settings.lr)
    with torch.enable_grad():
        for _ in range(settings.steps):
            opt.zero_grad(set_to_none=True)
            objective = (answers_log_likelihood(model, ctx_chosen, ctx_rejected, mask, current)
                         - (current ** 2).sum(dim=1) / (2 * settings.prior_var))  # [B]
            # the users are independent: the gradient of the sum is each user's own
            (z_grad,) = torch.autograd.grad(-objective.sum(), current)
            current.grad = z_grad
            opt.step()
    model.train(was_training)
    refined = torch.where(answered[:, None], current.detach(), start)
    return refined.to(z.dtype)
