"""Inverse autoregressive flows over the user latent: SPL's P-IAF and the IAF-VPL ablation.

One layer (SPL paper, Eq. for the Preferential IAF; Kingma et al. 2016 for the IAF)::

    m_k = clamp(MADE_shift(z_{k-1}; c_shift), -1, 1)      # shift, biases zero and frozen
    s_k = clamp(MADE_scale(z_{k-1}; c_scale), -5, 5)      # log-scale
    z_k = m_k + exp(s_k / 2) * z_{k-1}
    log|det dz_k/dz_{k-1}| = sum_j s_{k,j} / 2

Both networks share one random input ordering per layer, so the Jacobian is triangular in that
ordering and the log-determinant is exact. IAF is cheap in the direction used here (sampling
``z_K`` from ``z_0`` and scoring its own samples: one pass per layer); the inverse needs Z
sequential passes and exists only for tests.

What conditions what is the whole point of the P-IAF:

- SPL (split context): shift <- ``c_d = mean_i (g(e_c,i) - g(e_r,i)) / 2``, which flips sign
  when every pair is swapped (swap-reversible: *which way* the user leans), and
  log-scale <- ``c_s = mean_i (g(e_c,i) + g(e_r,i)) / 2``, which a swap leaves unchanged
  (swap-invariant: *what* the user is asked about, hence how certain we can be).
- IAF-VPL (and SPL without the split): both <- the pooled set representation ``u``.

The density of the final sample is
``log q_K(z_K) = log N(z_0; mu, diag(exp l)) - sum_k log|det J_k|``.

References:
    [1] Kingma et al. Improved Variational Inference with Inverse Autoregressive Flow. 2016.
    [2] Germain et al. MADE. 2015.   [3] Papamakarios et al. Masked Autoregressive Flow. 2017.
    [4] SPL: Swap-guided Preference Learning for personalized RLHF. ICLR 2026, Sec. 3.2.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor, nn

from spl_model.made import ConditionalMADE

__all__ = ["AffineFlow", "AffineIAFLayer", "FlowOutput"]

SHIFT_BOUND = 1.0
LOG_SCALE_BOUND = 5.0


class FlowOutput(NamedTuple):
    """``z``: ``[*, Z]`` after the flow; ``log_det``: ``[*]`` summed over layers;
    ``shift``: ``[*, Z]`` the last layer's shift ``m_K`` (SPL's active-units vector)."""

    z: Tensor
    log_det: Tensor
    shift: Tensor


class AffineIAFLayer(nn.Module):
    """One affine IAF layer with separately conditioned shift and log-scale (module docstring).

    Args:
        latent_dim: Z.
        shift_context_dim / scale_context_dim: widths of the shift's and the scale's context.
        order: permutation of 0..Z-1 shared by both networks (a persistent buffer).
    """

    def __init__(
        self, latent_dim: int, shift_context_dim: int, scale_context_dim: int, order: Tensor
    ) -> None:
        super().__init__()
        hidden = [2 * latent_dim, 2 * latent_dim, latent_dim]
        self.register_buffer("order", order.clone())
        self.shift_net = ConditionalMADE(order, shift_context_dim, hidden, bias=False)
        self.scale_net = ConditionalMADE(order, scale_context_dim, hidden, bias=True)
        self.register_load_state_dict_post_hook(_rebuild_masks)

    def shift_and_log_scale(
        self, z: Tensor, shift_context: Tensor, scale_context: Tensor
    ) -> tuple[Tensor, Tensor]:
        shift = self.shift_net(z, shift_context).clamp(-SHIFT_BOUND, SHIFT_BOUND)
        log_scale = self.scale_net(z, scale_context).clamp(-LOG_SCALE_BOUND, LOG_SCALE_BOUND)
        return shift, log_scale

    def forward(self, z: Tensor, shift_context: Tensor, scale_context: Tensor) -> FlowOutput:
        """z ``[*, Z]``, contexts ``[*, C_shift]`` and ``[*, C_scale]`` -> :class:`FlowOutput`."""
        shift, log_scale = self.shift_and_log_scale(z, shift_context, scale_context)
        z_next = shift + torch.exp(log_scale / 2) * z  # [*, Z]
        return FlowOutput(z_next, (log_scale / 2).sum(-1), shift)

    def inverse(self, z_next: Tensor, shift_context: Tensor, scale_context: Tensor) -> Tensor:
        """Solve ``forward(z).z == z_next`` for ``z``: Z sequential passes (tests only)."""
        z = torch.zeros_like(z_next)
        for _ in range(z_next.shape[-1]):
            shift, log_scale = self.shift_and_log_scale(z, shift_context, scale_context)
            z = (z_next - shift) * torch.exp(-log_scale / 2)
        return z


def _rebuild_masks(layer: nn.Module, _incompatible_keys: object) -> None:
    """After ``load_state_dict`` the ordering may have changed: rebuild both MADEs' masks."""
    layer.shift_net.set_order(layer.order)
    layer.scale_net.set_order(layer.order)


class AffineFlow(nn.Module):
    """K stacked :class:`AffineIAFLayer`, each with its own seeded random ordering.

    Example:
        >>> flow = AffineFlow(latent_dim=4, shift_context_dim=2, scale_context_dim=2, n_layers=2)
        >>> out = flow(torch.randn(3, 4), torch.randn(3, 2), torch.randn(3, 2))
        >>> out.z.shape, out.log_det.shape
        (torch.Size([3, 4]), torch.Size([3]))
    """

    def __init__(
        self,
        latent_dim: int,
        shift_context_dim: int,
        scale_context_dim: int,
        n_layers: int,
        seed: int = 0,
    ) -> None:
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        self.layers = nn.ModuleList(
            AffineIAFLayer(
                latent_dim,
                shift_context_dim,
                scale_context_dim,
                torch.randperm(latent_dim, generator=generator),
            )
            for _ in range(n_layers)
        )

    def forward(self, z: Tensor, shift_context: Tensor, scale_context: Tensor) -> FlowOutput:
        """z0 ``[*, Z]`` -> z_K, the summed log|det J| ``[*]``, and the last shift ``m_K``."""
        log_det = z.new_zeros(z.shape[:-1])
        shift = torch.zeros_like(z)
        for layer in self.layers:
            z, layer_log_det, shift = layer(z, shift_context, scale_context)
            log_det = log_det + layer_log_det
        return FlowOutput(z, log_det, shift)

    def inverse(self, z: Tensor, shift_context: Tensor, scale_context: Tensor) -> Tensor:
        """z_K -> z0 (tests only; sequential)."""
        for layer in reversed(self.layers):
            z = layer.inverse(z, shift_context, scale_context)
        return z
