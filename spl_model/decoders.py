"""Reward decoders ``r(x, y, z)``: they read an embedded (prompt, response) ``x`` and a latent.

- :class:`ConcatDecoder`: VPL's MLP on ``[x; z]``, (D+Z) -> H -> H -> 1. With Z = 0 it is the
  unified Bradley-Terry (BTL) reward model; with the true user features as ``z`` it is the
  oracle.
- :class:`FiLMDecoder`: SPL's adaptive latent modulation [Perez et al. 2018]:
  ``h = LReLU(W2 LReLU(W1 [x; z]))``, ``[g~; b~] = W4 LReLU(W3 z)``,
  ``gamma = 1 + 0.5 tanh(g~)`` in (0.5, 1.5), ``beta = 0.5 tanh(b~)`` in (-0.5, 0.5),
  ``r = w_o . LReLU(gamma * h + beta) + b_o``. The modulation is bounded so the decoder can
  fall back to the plain path when ``z`` carries little.

Both evaluate the first layer as ``W_x x + W_z z``: the ``z`` half is computed once per user
instead of once per response (same numbers as concatenating).

With ``linear=True`` (``ModelConfig.linear_reward``) both read the response through one linear
layer instead of an MLP: FiLM becomes ``r = w_o . (gamma * (W x + W_z z) + beta) + b_o`` and
the concatenation ``r = w_o . (W x + W_z z) + b_o``. Every user's reward is then linear in the
embedding (as in the low-rank baseline), so it cannot memorise the training prompts.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["ConcatDecoder", "FiLMDecoder", "SplitInputLinear"]


class SplitInputLinear(nn.Linear):
    """``Linear`` on ``[x; z]`` where ``x`` is per response ``[B, N, D]`` and ``z`` per user
    ``[B, Z]``. Equal to ``nn.Linear(D + Z, out)`` applied to the broadcast concatenation."""

    def __init__(self, x_dim: int, z_dim: int, out_dim: int) -> None:
        super().__init__(x_dim + z_dim, out_dim)
        self.x_dim = x_dim

    def forward(self, x: Tensor, z: Tensor) -> Tensor:  # type: ignore[override]
        out = F.linear(x, self.weight[:, : self.x_dim], self.bias)  # [B, N, out]
        if z.shape[-1]:
            out = out + F.linear(z, self.weight[:, self.x_dim :]).unsqueeze(1)  # + [B, 1, out]
        return out


class ConcatDecoder(nn.Module):
    """MLP reward on ``[x; z]``: (D+Z) -> H -> H -> 1, LeakyReLU(0.2).

    Example:
        >>> ConcatDecoder(embed_dim=8, z_dim=0, hidden_dim=16)(torch.randn(2, 5, 8), torch.zeros(2, 0)).shape
        torch.Size([2, 5])
    """

    def __init__(self, embed_dim: int, z_dim: int, hidden_dim: int, linear: bool = False) -> None:
        super().__init__()
        self.first = SplitInputLinear(embed_dim, z_dim, hidden_dim)
        self.second = None if linear else nn.Linear(hidden_dim, hidden_dim)
        self.out = nn.Linear(hidden_dim, 1)

    def forward(self, x: Tensor, z: Tensor) -> Tensor:
        """x ``[B, N, D]``, z ``[B, Z]`` -> rewards ``[B, N]``."""
        h = self.first(x, z)  # [B, N, H]
        if self.second is not None:
            h = F.leaky_relu(self.second(F.leaky_relu(h, 0.2)), 0.2)  # [B, N, H]
        return self.out(h).squeeze(-1)  # [B, N]


class FiLMDecoder(nn.Module):
    """SPL's FiLM reward decoder (module docstring gives the equations).

    Example:
        >>> FiLMDecoder(embed_dim=8, z_dim=4, hidden_dim=16)(torch.randn(2, 5, 8), torch.randn(2, 4)).shape
        torch.Size([2, 5])
    """

    def __init__(self, embed_dim: int, z_dim: int, hidden_dim: int, linear: bool = False) -> None:
        super().__init__()
        half = max(hidden_dim // 2, 1)
        self.linear = linear
        self.first = SplitInputLinear(embed_dim, z_dim, hidden_dim if linear else half)  # W1
        self.second = None if linear else nn.Linear(half, hidden_dim)  # W2
        self.film_hidden = nn.Linear(z_dim, 2 * hidden_dim)  # W3
        self.film_out = nn.Linear(2 * hidden_dim, 2 * hidden_dim)  # W4
        self.out = nn.Linear(hidden_dim, 1)  # w_o, b_o

    def modulation(self, z: Tensor) -> tuple[Tensor, Tensor]:
        """z ``[B, Z]`` -> ``(gamma, beta)``, each ``[B, H]``, in (0.5, 1.5) and (-0.5, 0.5)."""
        raw = self.film_out(F.leaky_relu(self.film_hidden(z), 0.2))  # [B, 2H]
        raw_gamma, raw_beta = raw.chunk(2, dim=-1)  # [B, H] each
        return 1 + 0.5 * torch.tanh(raw_gamma), 0.5 * torch.tanh(raw_beta)

    def forward(self, x: Tensor, z: Tensor) -> Tensor:
        """x ``[B, N, D]``, z ``[B, Z]`` -> rewards ``[B, N]``."""
        h = self.first(x, z)  # [B, N, H/2] (linear: [B, N, H])
        if self.second is not None:
            h = F.leaky_relu(self.second(F.leaky_relu(h, 0.2)), 0.2)  # [B, N, H]
        gamma, beta = self.modulation(z)  # [B, H] each
        h = gamma.unsqueeze(1) * h + beta.unsqueeze(1)  # [B, N, H]
        if not self.linear:
            h = F.leaky_relu(h, 0.2)
        return self.out(h).squeeze(-1)  # [B, N]
