"""A conditional MADE: a masked MLP whose output j sees only inputs earlier in an ordering.

MADE [Germain et al. 2015] turns an MLP into an autoregressive map by masking its weights.
Every unit gets a *degree*: input ``i`` has degree ``order[i] + 1`` (1..Z), hidden units have
degrees in 0..Z-1, and a connection is kept only from a lower-or-equal degree into a hidden
unit, and from a strictly lower degree into an output. So output ``j`` depends on exactly the
inputs ``i`` with ``order[i] < order[j]``: the Jacobian ``d out / d z`` is strictly triangular
once rows and columns are sorted by ``order``, which is what makes an IAF's log-determinant a
plain sum [Kingma et al. 2016].

The context (here: SPL's c_d or c_s, or VPL's pooled u) is not autoregressive; it enters the
first hidden layer through an unmasked weight. Hidden units of degree 0 see only the context,
so every output, including the first in the ordering, can depend on it.

References:
    [1] Germain, Gregor, Murray, Larochelle. MADE: Masked Autoencoder for Distribution
        Estimation. ICML 2015.
    [2] Kingma, Salimans, Jozefowicz, Chen, Sutskever, Welling. Improved Variational Inference
        with Inverse Autoregressive Flow. NeurIPS 2016.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["ConditionalMADE", "MaskedLinear", "made_masks"]


def made_masks(order: Tensor, hidden_sizes: list[int]) -> list[Tensor]:
    """Connectivity masks of a MADE with the given input ``order`` (a permutation of 0..Z-1).

    Returns one ``[fan_out, fan_in]`` float mask per layer: ``len(hidden_sizes) + 1`` in all.
    """
    latent_dim = order.numel()
    input_degrees = order.long() + 1  # [Z], values 1..Z
    degrees = [input_degrees]
    for size in hidden_sizes:
        degrees.append(torch.arange(size) % latent_dim)  # [size], values 0..Z-1
    masks = [
        (fan_out[:, None] >= fan_in[None, :]).float()  # hidden layers: <= degree is allowed
        for fan_in, fan_out in zip(degrees[:-1], degrees[1:])
    ]
    masks.append((input_degrees[:, None] > degrees[-1][None, :]).float())  # outputs: strict
    return masks


class MaskedLinear(nn.Linear):
    """``nn.Linear`` whose weight is multiplied by a fixed 0/1 mask on every call."""

    def __init__(self, mask: Tensor, bias: bool = True) -> None:
        fan_out, fan_in = mask.shape
        super().__init__(fan_in, fan_out, bias=bias)
        self.register_buffer("mask", mask, persistent=False)  # rebuilt from the order on load

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight * self.mask.to(self.weight.dtype), self.bias)


class ConditionalMADE(nn.Module):
    """``f(z; c)``: R^Z x R^{C_ctx} -> R^Z, autoregressive in ``z`` under ``order``, ReLU.

    Args:
        order: permutation of 0..Z-1; ``order[i]`` is the position of ``z_i`` in the ordering.
        context_dim: width of the conditioning vector ``c``.
        hidden_sizes: hidden widths; the SPL paper uses ``[2Z, 2Z, Z]``.
        bias: ``False`` gives SPL's shift network, whose biases are zero and frozen.

    Example:
        >>> made = ConditionalMADE(torch.tensor([2, 0, 1]), context_dim=2, hidden_sizes=[6, 3])
        >>> made(torch.randn(5, 3), torch.randn(5, 2)).shape
        torch.Size([5, 3])
    """

    def __init__(
        self, order: Tensor, context_dim: int, hidden_sizes: list[int], bias: bool = True
    ) -> None:
        super().__init__()
        self.hidden_sizes = list(hidden_sizes)
        masks = made_masks(order, self.hidden_sizes)
        self.layers = nn.ModuleList(MaskedLinear(mask, bias=bias) for mask in masks)
        self.context = nn.Linear(context_dim, self.hidden_sizes[0], bias=False)

    def set_order(self, order: Tensor) -> None:
        """Rebuild the masks for another ordering (called after loading a checkpoint)."""
        for layer, mask in zip(self.layers, made_masks(order.cpu(), self.hidden_sizes)):
            layer.mask = mask.to(layer.weight.device)

    def forward(self, z: Tensor, context: Tensor) -> Tensor:
        """z ``[*, Z]``, context ``[*, C_ctx]`` (same leading dims) -> ``[*, Z]``."""
        h = torch.relu(self.layers[0](z) + self.context(context))  # [*, hidden_sizes[0]]
        for layer in self.layers[1:-1]:
            h = torch.relu(layer(h))  # [*, hidden]
        return self.layers[-1](h)  # [*, Z]
