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

from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["ConditionalMADE", "MaskedLinear", "hidden_degrees", "made_layout", "made_masks",
           "set_made_layout"]


def hidden_degrees(size: int, latent_dim: int) -> Tensor:
    """Degrees of ``size`` hidden units, spread evenly over 0..Z-1 and sorted ascending."""
    return torch.arange(size) * latent_dim // size  # [size]


def made_masks(order: Tensor, hidden_sizes: list[int]) -> list[Tensor]:
    """Connectivity of a MADE with input ``order`` (a permutation of 0..Z-1), in input order.

    Returns one ``[fan_out, fan_in]`` 0/1 mask per layer (``len(hidden_sizes) + 1``): entry
    ``[u, i]`` is 1 when unit ``u`` may see unit ``i`` of the layer below.
    """
    latent_dim = order.numel()
    input_degrees = order.long() + 1  # [Z], values 1..Z
    degrees = [input_degrees] + [hidden_degrees(size, latent_dim) for size in hidden_sizes]
    masks = [
        (fan_out[:, None] >= fan_in[None, :]).float()  # into hidden units: <= degree
        for fan_in, fan_out in zip(degrees[:-1], degrees[1:])
    ]
    masks.append((input_degrees[:, None] > degrees[-1][None, :]).float())  # outputs: strict
    return masks


class MaskedLinear(nn.Module):
    """A linear layer whose weight is multiplied by a fixed 0/1 mask, computed block-sparse.

    The rows are cut into ``n_blocks`` contiguous blocks. For each block, the columns the mask
    zeroes for *every* row of the block are never stored or multiplied, and the columns it
    keeps for every row need no mask; only the band in between is masked. With rows and
    columns sorted by MADE degree the mask is a staircase, so this skips ~(k-1)/2k of the
    work and of the parameters (k = ``n_blocks``) while computing exactly
    ``F.linear(x, W * mask, b)``.

    The block count is part of the stored layout: block ``i`` is the parameter
    ``weights.<i>`` of shape ``[rows_i, used_i]``. ``set_blocks`` re-cuts a layer without
    changing the function it computes, which is how a checkpoint saved with another block count
    loads (``spl_model.checkpoint``).
    """

    def __init__(self, mask: Tensor, bias: bool = True, n_blocks: int = 4) -> None:
        super().__init__()
        fan_out, fan_in = mask.shape
        self.fan_in, self.fan_out = fan_in, fan_out
        self.blocks: list[tuple[int, int, int, int]] = []  # (row0, row1, dense_cols, used_cols)
        self._cut(mask.bool(), n_blocks, None)
        scale = 1.0 / fan_in**0.5  # nn.Linear's default init range
        self.bias = nn.Parameter(torch.empty(fan_out).uniform_(-scale, scale)) if bias else None

    def _cut(self, mask: Tensor, n_blocks: int, weight: Tensor | None) -> None:
        """Cut ``mask`` ``[fan_out, fan_in]`` (bool) into row blocks, each block's parameter
        taken from ``weight`` ``[fan_out, fan_in]`` or, when None, freshly initialised."""
        for i in range(len(self.blocks)):
            del self._buffers[f"band_{i}"]
        bounds = torch.linspace(0, self.fan_out, min(n_blocks, self.fan_out) + 1).round().long().tolist()
        self.blocks = []
        self.weights = nn.ParameterList()
        scale = 1.0 / self.fan_in**0.5  # nn.Linear's default init range
        for row0, row1 in zip(bounds[:-1], bounds[1:]):
            block = mask[row0:row1]  # [rows, fan_in]
            allowed = block.any(dim=0).nonzero()
            used = int(allowed.max()) + 1 if allowed.numel() else 0  # columns any row needs
            banned = (~block.all(dim=0)).nonzero()
            dense = min(int(banned.min()) if banned.numel() else self.fan_in, used)
            self.blocks.append((row0, row1, dense, used))
            value = (torch.empty(row1 - row0, used).uniform_(-scale, scale) if weight is None
                     else weight[row0:row1, :used].clone())
            self.weights.append(nn.Parameter(value))
            self.register_buffer(f"band_{len(self.blocks) - 1}", block[:, dense:used].float(), persistent=False)

    @property
    def n_blocks(self) -> int:
        """How many row blocks the weight is stored in (``weights.0`` .. ``weights.<n-1>``)."""
        return len(self.blocks)

    def mask(self) -> Tensor:
        """The ``[fan_out, fan_in]`` bool mask, rebuilt from the blocks."""
        full = torch.zeros(self.fan_out, self.fan_in, dtype=torch.bool, device=self.weights[0].device)
        for i, (row0, row1, dense, used) in enumerate(self.blocks):
            full[row0:row1, :dense] = True
            full[row0:row1, dense:used] = getattr(self, f"band_{i}").bool()
        return full

    def set_blocks(self, n_blocks: int) -> None:
        """Re-cut the weight into ``n_blocks`` row blocks without changing the function
        (``W * mask`` and the bias stay). Replaces the ``weights`` parameters, so call it before
        an optimizer is built (``load_model`` does, to match a checkpoint's layout)."""
        if n_blocks < 1:
            raise ValueError(f"n_blocks={n_blocks} must be >= 1.")
        if min(n_blocks, self.fan_out) == self.n_blocks:
            return
        requires_grad = self.weights[0].requires_grad
        with torch.no_grad():
            self._cut(self.mask(), n_blocks, self.dense_weight())
        for weight in self.weights:
            weight.requires_grad_(requires_grad)

    def dense_weight(self) -> Tensor:
        """The equivalent full ``[fan_out, fan_in]`` weight ``W * mask`` (for tests, plots)."""
        full = self.weights[0].new_zeros(self.fan_out, self.fan_in)
        for i, (row0, row1, dense, used) in enumerate(self.blocks):
            full[row0:row1, :dense] = self.weights[i][:, :dense]
            full[row0:row1, dense:used] = self.weights[i][:, dense:] * getattr(self, f"band_{i}")
        return full

    def forward(self, x: Tensor) -> Tensor:
        """x ``[*, fan_in]`` -> ``[*, fan_out]``."""
        outs = []
        for i, (row0, row1, dense, used) in enumerate(self.blocks):
            weight = self.weights[i]  # [rows, used]
            out = F.linear(x[..., :dense], weight[:, :dense]) if dense else None
            if used > dense:
                band = F.linear(x[..., dense:used], weight[:, dense:] * getattr(self, f"band_{i}"))
                out = band if out is None else out + band
            if out is None:
                out = x.new_zeros(*x.shape[:-1], row1 - row0)
            outs.append(out)
        out = torch.cat(outs, dim=-1)  # [*, fan_out]
        return out if self.bias is None else out + self.bias


def _blocks_for(mask: Tensor, min_block_weights: int = 1 << 18) -> int:
    """Blocks worth cutting a new layer's mask into: 4 for big layers (skipping ~3/8 of the work
    pays), 1 for small ones, where a single masked matmul beats a Python loop over blocks.

    A speed choice for models built from scratch only: a saved model records its own layout
    (``made_layout``) and loads with it, so changing this rule breaks no checkpoint.
    """
    return 4 if mask.numel() >= 4 * min_block_weights else 1


def made_layout(module: nn.Module) -> dict[str, int]:
    """``{name: n_blocks}`` of every :class:`MaskedLinear` inside ``module`` (its stored layout)."""
    return {name: m.n_blocks for name, m in module.named_modules() if isinstance(m, MaskedLinear)}


def set_made_layout(module: nn.Module, layout: Mapping[str, int]) -> None:
    """Re-cut every :class:`MaskedLinear` of ``module`` to ``layout`` (from ``made_layout``);
    the functions computed do not change. Raises ``ValueError`` when the layers differ."""
    layers = {name: m for name, m in module.named_modules() if isinstance(m, MaskedLinear)}
    if set(layers) != set(layout):
        missing, extra = sorted(set(layers) - set(layout)), sorted(set(layout) - set(layers))
        raise ValueError(f"the MADE layout names other layers than the model has: missing "
                         f"{missing[:3]}, unexpected {extra[:3]}.")
    for name, layer in layers.items():
        layer.set_blocks(int(layout[name]))


class ConditionalMADE(nn.Module):
    """``f(z; c)``: R^Z x R^{C_ctx} -> R^Z, autoregressive in ``z`` under ``order``, ReLU.

    Internally the inputs are permuted into the ordering and hidden units are sorted by
    degree, so every mask is a staircase that :class:`MaskedLinear` computes block-sparse;
    outputs are permuted back. The connectivity is exactly :func:`made_masks`.

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
        latent_dim = order.numel()
        sorted_order = torch.arange(latent_dim)  # the masks in sorted coordinates
        masks = made_masks(sorted_order, self.hidden_sizes)
        self.layers = nn.ModuleList(
            MaskedLinear(mask, bias=bias, n_blocks=_blocks_for(mask)) for mask in masks
        )
        self.context = nn.Linear(context_dim, self.hidden_sizes[0], bias=False)
        self.register_buffer("to_sorted", torch.empty(latent_dim, dtype=torch.long), persistent=False)
        self.register_buffer("from_sorted", torch.empty(latent_dim, dtype=torch.long), persistent=False)
        self.set_order(order)

    def set_order(self, order: Tensor) -> None:
        """Use another ordering (called after loading a checkpoint): only the input and output
        permutations depend on it."""
        order = order.to(self.to_sorted.device).long()
        self.to_sorted.copy_(torch.argsort(order))  # sorted position p holds z[to_sorted[p]]
        self.from_sorted.copy_(order)  # z position i sits at sorted position order[i]

    def forward(self, z: Tensor, context: Tensor) -> Tensor:
        """z ``[*, Z]``, context ``[*, C_ctx]`` (same leading dims) -> ``[*, Z]``."""
        z_sorted = z[..., self.to_sorted]  # [*, Z] in the ordering
        h = torch.relu(self.layers[0](z_sorted) + self.context(context))  # [*, hidden_sizes[0]]
        for layer in self.layers[1:-1]:
            h = torch.relu(layer(h))  # [*, hidden]
        return self.layers[-1](h)[..., self.from_sorted]  # [*, Z] back in input order
