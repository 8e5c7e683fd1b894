"""Context encoders: pair tokens from a user's labelled pairs, and the masked set encoder.

A user's context is C (chosen, rejected) embedding pairs. Each pair becomes one token in R^Z:

- SPL (:class:`ResponseTokenizer`): one MLP ``g: D -> H -> H -> Z/2`` applied to the chosen
  and to the rejected embedding *separately*; token ``p = [g(e_c); g(e_r)]``. Swapping the
  pair exchanges the two halves and nothing else, which is what makes the swap-reversible
  context ``c_d`` and the swap-invariant ``c_s`` exact (SPL paper, Sec. 3).
- VPL (:class:`PairTokenizer`): one MLP on the concatenation, ``[e_c; e_r]: 2D -> H -> H -> Z``.

:class:`SetEncoder` pools the tokens with one self-attention head and a masked mean, so it is
invariant to the order of the pairs, and any padding contributes nothing.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import Tensor, nn

__all__ = ["GaussianParams", "PairTokenizer", "ResponseTokenizer", "SetEncoder", "mlp"]


def mlp(sizes: list[int], *, final_activation: bool = False) -> nn.Sequential:
    """Linear layers with LeakyReLU(0.2) between them, e.g. ``mlp([D, H, H, Z])``."""
    layers: list[nn.Module] = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(fan_in, fan_out))
        if i < len(sizes) - 2 or final_activation:
            layers.append(nn.LeakyReLU(0.2))
    return nn.Sequential(*layers)


def _apply_to_real(net: nn.Module, x: Tensor, mask: Tensor) -> Tensor:
    """Run ``net`` on the real rows of a padded ``x [B, C, ..., F]`` only; padding gets 0.

    Contexts vary from 2 to 8 pairs, so skipping padding saves a good share of the encoder's
    work, and it guarantees that whatever sits in the padding cannot leak into the result.
    """
    real = net(x[mask])  # [n_real, ..., out_dim]
    out = real.new_zeros(*mask.shape, *real.shape[1:])  # [B, C, ..., out_dim]
    out[mask] = real
    return out


class ResponseTokenizer(nn.Module):
    """SPL pair tokens from one shared per-response MLP ``g`` (see module docstring).

    Args:
        embed_dim: D.  hidden_dim: H.  latent_dim: Z (even; each half is Z/2).
    """

    def __init__(self, embed_dim: int, hidden_dim: int, latent_dim: int) -> None:
        super().__init__()
        self.half = latent_dim // 2
        self.g = mlp([embed_dim, hidden_dim, hidden_dim, self.half])

    def forward(self, chosen: Tensor, rejected: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        """Per-response features of the chosen and rejected embeddings.

        Args: chosen, rejected ``[B, C, D]``; mask ``[B, C]`` bool.
        Returns: ``(g_c, g_r)``, each ``[B, C, Z/2]``, zero at padding. The pair token is
        ``cat([g_c, g_r], -1)`` and the swapped token ``cat([g_r, g_c], -1)``.
        """
        both = torch.stack([chosen, rejected], dim=2)  # [B, C, 2, D]
        feats = _apply_to_real(self.g, both, mask)  # [B, C, 2, Z/2]
        return feats[..., 0, :], feats[..., 1, :]


class PairTokenizer(nn.Module):
    """VPL pair tokens: one MLP on ``[e_c; e_r]``, 2D -> H -> H -> Z."""

    def __init__(self, embed_dim: int, hidden_dim: int, latent_dim: int) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.net = mlp([2 * embed_dim, hidden_dim, hidden_dim, latent_dim])

    def forward(self, chosen: Tensor, rejected: Tensor, mask: Tensor) -> Tensor:
        """chosen, rejected ``[B, C, D]``, mask ``[B, C]`` -> tokens ``[B, C, Z]`` (0 at padding)."""
        pairs = torch.cat([chosen, rejected], dim=-1)  # [B, C, 2D]
        return _apply_to_real(self.net, pairs, mask)


class GaussianParams(NamedTuple):
    """Base posterior parameters: ``mean`` and ``logvar``, both ``[B, Z]``, plus the pooled
    set representation ``pooled`` ``[B, Z]`` that conditions the IAF-VPL flow."""

    mean: Tensor
    logvar: Tensor
    pooled: Tensor


class SetEncoder(nn.Module):
    """Single-head self-attention over a user's pair tokens, masked mean pool, Gaussian head.

    ``A = softmax(Q K^T / sqrt(Z))`` over the real pairs only (padded keys get -inf);
    ``u = mean over real pairs of (A V)`` (``pooling="sum"``: the sum, so evidence adds up with
    each answer); ``mean = clamp(W_mu u, -b, b)``,
    ``logvar = clamp(W_l u, l_min, 1)`` (the paper's ``b = 1``, ``l_min = -1`` by default). No positional encoding, so permuting the pairs permutes
    the rows of ``A V`` and leaves ``u`` unchanged.
    """

    def __init__(self, latent_dim: int, mean_bound: float = 1.0, logvar_min: float = -1.0,
                 pooling: str = "mean") -> None:
        super().__init__()
        self.mean_bound, self.logvar_min, self.pooling = mean_bound, logvar_min, pooling
        self.query = nn.Linear(latent_dim, latent_dim, bias=False)
        self.key = nn.Linear(latent_dim, latent_dim, bias=False)
        self.value = nn.Linear(latent_dim, latent_dim, bias=False)
        self.to_mean = nn.Linear(latent_dim, latent_dim)
        self.to_logvar = nn.Linear(latent_dim, latent_dim)
        self.scale = 1.0 / math.sqrt(latent_dim)

    def forward(self, tokens: Tensor, mask: Tensor, evidence: Tensor | None = None) -> GaussianParams:
        """tokens ``[B, C, Z]``, mask ``[B, C]`` bool (each row needs >= 1 True); ``evidence``
        ``[B, Z]`` (optional) is added to the mean before the clamp.

        Two exact shortcuts keep this cheap: queries and keys are computed for the real pairs
        only, and since ``mean_q (A V)_q = (mean_q A_q) V`` and V is linear, the value
        projection is applied once to the attention-pooled token instead of to every token.
        """
        q = _apply_to_real(self.query, tokens, mask)  # [B, C, Z]
        k = _apply_to_real(self.key, tokens, mask)  # [B, C, Z]
        scores = torch.einsum("bqz,bkz->bqk", q, k) * self.scale  # [B, C, C]
        scores = scores.masked_fill(~mask[:, None, :], float("-inf"))
        attention = torch.softmax(scores.float(), dim=-1).to(tokens.dtype)  # [B, C, C]
        query_weights = mask.to(tokens.dtype)  # [B, C]: sum over the real pairs' rows ...
        if self.pooling == "mean":  # ... or their mean (the paper)
            query_weights = query_weights / mask.sum(dim=1, keepdim=True)
        key_weights = torch.einsum("bq,bqk->bk", query_weights, attention)  # [B, C]
        pooled = self.value(torch.einsum("bk,bkz->bz", key_weights, tokens))  # [B, Z]
        mean = self.to_mean(pooled)
        if evidence is not None:
            mean = mean + evidence
        mean = mean.clamp(-self.mean_bound, self.mean_bound)
        logvar = self.to_logvar(pooled).clamp(self.logvar_min, 1.0)
        return GaussianParams(mean, logvar, pooled)
