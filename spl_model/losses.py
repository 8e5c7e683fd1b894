"""Loss terms, as pure functions of tensors (SPL paper Sec. 3; SPL.md section 5).

Total SPL objective: ``L = L_BT + beta * a(t) * KL + lambda * L_guide`` (= -ELBO + lambda
L_guide). VPL uses the closed-form KL and no guide; BTL and the oracle use ``L_BT`` alone.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    "anneal_weight",
    "bradley_terry_loss",
    "free_nats_kl",
    "gaussian_kl",
    "gaussian_log_prob",
    "guide_loss",
    "monte_carlo_kl",
]

LOG_2PI = math.log(2 * math.pi)


def bradley_terry_loss(
    reward_chosen: Tensor, reward_rejected: Tensor, mask: Tensor | None = None, margin: float = 0.0
) -> Tensor:
    """``mean(-log sigmoid(r_c - r_r - margin))`` over the real pairs; inputs ``[B, N]``."""
    losses = -F.logsigmoid(reward_chosen - reward_rejected - margin)  # [B, N]
    if mask is None:
        return losses.mean()
    return (losses * mask).sum() / mask.sum().clamp(min=1)


def gaussian_kl(mean: Tensor, logvar: Tensor) -> Tensor:
    """Closed-form ``KL(N(mean, exp(logvar)) || N(0, I))`` per sample: ``[B, Z] -> [B]``."""
    return -0.5 * (1 + logvar - mean.pow(2) - logvar.exp()).sum(-1)


def gaussian_log_prob(x: Tensor, mean: Tensor, logvar: Tensor) -> Tensor:
    """``log N(x; mean, diag(exp(logvar)))`` summed over the last dim: ``[*, Z] -> [*]``."""
    return -0.5 * (LOG_2PI + logvar + (x - mean).pow(2) * torch.exp(-logvar)).sum(-1)


def monte_carlo_kl(log_q: Tensor, z: Tensor, free_nats: float = 0.0) -> Tensor:
    """One-sample KL estimate with free nats, per sample: ``KL^ = log q(z) - log N(z; 0, I)``.

    A sample whose ``KL^`` is below ``free_nats`` keeps its value but passes no gradient, so
    the KL term cannot push an already cheap posterior all the way onto the prior.

    Args: log_q ``[B]``; z ``[B, Z]`` (the sample ``log_q`` belongs to). Returns ``[B]``.
    """
    kl = log_q - gaussian_log_prob(z, torch.zeros_like(z), torch.zeros_like(z))  # [B]
    return free_nats_kl(kl, free_nats)


def free_nats_kl(kl: Tensor, free_nats: float) -> Tensor:
    """Per-sample KL ``[B]`` with free nats: a sample below ``free_nats`` keeps its value but
    passes no gradient (for the flow's estimate and the closed form alike)."""
    return torch.where(kl < free_nats, kl.detach(), kl)


def anneal_weight(step: int, period: int) -> float:
    """Cyclical cosine KL annealing: ``a(t) = 0.1 + 0.9 (1 - cos(pi t / T)) / 2``.

    ``a(0) = 0.1``, ``a(T/2) = 0.55``, ``a(T) = 1``, then back down to 0.1 at ``2T``: the cosine
    makes it cyclical. ``step`` counts *training* steps only; evaluation must not advance it.
    """
    return 0.1 + 0.9 * (1 - math.cos(math.pi * step / period)) / 2


def _cosine(a: Tensor, b: Tensor, eps: float = 1e-6) -> Tensor:
    """Cosine similarity in fp32 with ``eps`` added to each norm: ``[B, Z] -> [B]``."""
    a, b = a.float(), b.float()
    return (a * b).sum(-1) / ((a.norm(dim=-1) + eps) * (b.norm(dim=-1) + eps))


def guide_loss(
    mean: Tensor, logvar: Tensor, mean_swap: Tensor, logvar_swap: Tensor, eta: float = 0.1
) -> Tensor:
    """The swap-guided regularizer on the base posterior (SPL paper, Eq. for L_guide).

    ``mean_b[(1 + cos(mu, sg(mu_swap))) / 2 + eta (1 - cos(l, sg(l_swap))) / 2]``: minimised
    when the swapped context's mean points the opposite way (a reversed preference reverses the
    latent direction) while its log-variance stays parallel (uncertainty does not depend on the
    direction). The swapped statistics are stop-gradient targets.
    """
    direction = (1 + _cosine(mean, mean_swap.detach())) / 2  # [B]
    spread = (1 - _cosine(logvar, logvar_swap.detach())) / 2  # [B]
    return (direction + eta * spread).mean()
