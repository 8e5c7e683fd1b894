"""One property-test harness for every autoregressive transform (STYLE.md point 7).

Each entry of ``TRANSFORMS`` says how to build a transform for a given ordering seed and how to
call it; every test below runs on every entry, in float64, over several batch shapes. Adding a
transform is one line in ``TRANSFORMS``.

The properties, from SPL.md section 3 and the MADE / IAF papers:

- MADE: ``d out_j / d z_i`` is exactly 0 unless ``order[i] < order[j]`` (strictly triangular);
- one IAF layer: triangular with ``exp(s / 2) > 0`` on the diagonal;
- every flow: ``log_det`` is ``log|det d z_K / d z_0|`` and ``inverse(forward(z)) == z``;
- shapes hold for any leading batch shape;
- gradients reach every parameter and one optimizer step changes each of them;
- ``state_dict`` -> a fresh instance built with *another* ordering -> identical outputs (the
  ordering is part of the state, and the masks are rebuilt from it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
import torch
from torch import Tensor, nn

from spl_model.flows import AffineFlow, AffineIAFLayer, FlowOutput
from spl_model.made import ConditionalMADE, MaskedLinear, made_masks

Z = 5
BATCH_SHAPES = [(3,), (2, 4)]


def _order(seed: int) -> Tensor:
    return torch.randperm(Z, generator=torch.Generator().manual_seed(seed))


@dataclass(frozen=True)
class Transform:
    """How to build and call one transform.

    build(seed, order_seed): a fresh float64 instance; ``seed`` draws the weights and
        ``order_seed`` (default: ``seed``) the ordering(s).
    context_dims: widths of the context arguments after ``z``; ``shared`` passes one tensor twice.
    kind: "made" (returns a Tensor), "layer" (one IAF layer) or "flow" (several layers).
    order_is_state: whether the ordering travels in ``state_dict`` (a bare MADE takes it as a
        constructor argument; the flows keep it as a buffer).
    """

    name: str
    build: Callable[..., nn.Module]
    context_dims: tuple[int, ...]
    kind: str
    shared: bool = False
    order_is_state: bool = True

    def contexts(self, batch_shape: tuple[int, ...], seed: int = 1) -> tuple[Tensor, ...]:
        g = torch.Generator().manual_seed(seed)
        ctx = tuple(torch.randn(*batch_shape, d, generator=g, dtype=torch.float64) for d in self.context_dims)
        return (ctx[0], ctx[0]) if self.shared else ctx

    def order(self, module: nn.Module) -> Tensor:
        """The ordering the Jacobian is triangular in (MADE and single layers only)."""
        return module.order if self.kind == "layer" else module.test_order


def _made(bias: bool) -> Callable[..., nn.Module]:
    def build(seed: int, order_seed: int | None = None) -> nn.Module:
        order = _order(seed if order_seed is None else order_seed)
        torch.manual_seed(seed)
        made = ConditionalMADE(order, context_dim=3, hidden_sizes=[2 * Z, 2 * Z, Z], bias=bias)
        made.test_order = order  # remembered by the test, not by the module
        return made.double()

    return build


def _layer(shift_dim: int, scale_dim: int) -> Callable[..., nn.Module]:
    def build(seed: int, order_seed: int | None = None) -> nn.Module:
        torch.manual_seed(seed)
        order = _order(seed if order_seed is None else order_seed)
        return AffineIAFLayer(Z, shift_dim, scale_dim, order).double()

    return build


def _flow(seed: int, order_seed: int | None = None) -> nn.Module:
    torch.manual_seed(seed)
    flow_seed = seed if order_seed is None else order_seed
    return AffineFlow(Z, shift_context_dim=2, scale_context_dim=3, n_layers=2, seed=flow_seed).double()


TRANSFORMS = [
    Transform("made", _made(bias=True), (3,), "made", order_is_state=False),
    Transform("made-no-bias", _made(bias=False), (3,), "made", order_is_state=False),
    Transform("iaf-layer-split-context", _layer(2, 3), (2, 3), "layer"),
    Transform("iaf-layer-shared-context", _layer(4, 4), (4,), "layer", shared=True),
    Transform("affine-flow-2-layers", _flow, (2, 3), "flow"),
]
FLOWS = [t for t in TRANSFORMS if t.kind != "made"]
SINGLE_ORDER = [t for t in TRANSFORMS if t.kind != "flow"]  # triangular in one declared order


def _z(batch_shape: tuple[int, ...], seed: int = 2) -> Tensor:
    return torch.randn(*batch_shape, Z, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def _out(t: Transform, module: nn.Module, z: Tensor, ctx: tuple[Tensor, ...]) -> Tensor:
    """The transform's output ``[*, Z]``: the MADE's output or the flow's ``z``."""
    result = module(z, *ctx)
    return result if t.kind == "made" else result.z


def _per_sample_jacobians(t: Transform, module: nn.Module, z: Tensor, ctx: tuple[Tensor, ...]) -> Tensor:
    """``[n, Z, Z]`` with entry ``[s, j, i] = d out_j / d z_i`` for each of the n samples."""
    z_flat = z.reshape(-1, Z)
    ctx_flat = [c.reshape(z_flat.shape[0], -1) for c in ctx]
    return torch.stack([
        torch.autograd.functional.jacobian(
            lambda x, s=s: _out(t, module, x[None], tuple(c[s : s + 1] for c in ctx_flat))[0], z_flat[s]
        )
        for s in range(z_flat.shape[0])
    ])


def _all_units_alive(module: nn.Module) -> nn.Module:
    """Make every weight positive (and small): with positive inputs every ReLU unit is then
    active for every sample. With random signs a unit of a small MADE can be dead for *all*
    inputs (there are only a few units per degree), which would hide whether a parameter or a
    connection is wired in at all; that is a property of the initialisation, not the wiring."""
    with torch.no_grad():
        for p in module.parameters():
            p.abs_().mul_(0.3)
    return module


def _is_trainable(p: nn.Parameter) -> bool:
    """Parameters that can learn; an empty block (a mask row with no inputs) has nothing to learn."""
    return p.requires_grad and p.numel() > 0


@pytest.fixture(params=TRANSFORMS, ids=lambda t: t.name)
def transform(request) -> Transform:
    return request.param


@pytest.fixture(params=BATCH_SHAPES, ids=lambda s: "x".join(map(str, s)))
def batch_shape(request) -> tuple[int, ...]:
    return request.param


# -- structure ------------------------------------------------------------------------------


def test_shapes_hold_for_any_batch_shape(transform, batch_shape):
    module = transform.build(0)
    result = module(_z(batch_shape), *transform.contexts(batch_shape))
    if transform.kind == "made":
        assert result.shape == (*batch_shape, Z)
    else:
        assert isinstance(result, FlowOutput)
        assert result.z.shape == result.shift.shape == (*batch_shape, Z)
        assert result.log_det.shape == batch_shape
        assert result.z.dtype == result.log_det.dtype == torch.float64


@pytest.mark.parametrize("transform", SINGLE_ORDER, ids=lambda t: t.name)
def test_jacobian_is_triangular_in_the_declared_order(transform, batch_shape):
    module = transform.build(0)
    jac = _per_sample_jacobians(transform, module, _z(batch_shape), transform.contexts(batch_shape))
    order = transform.order(module)
    earlier = order[None, :] < order[:, None]  # [j, i]: z_i comes before out_j

    if transform.kind == "made":  # strictly triangular: out_j never sees z_j or anything later
        assert torch.all(jac[:, ~earlier] == 0)
    else:  # z_k,j = m_j(z_<j) + exp(s_j(z_<j) / 2) z_j: triangular, positive diagonal
        later = order[None, :] > order[:, None]
        assert torch.all(jac[:, later] == 0)
        assert torch.all(torch.diagonal(jac, dim1=-2, dim2=-1) > 0)


@pytest.mark.parametrize("transform", SINGLE_ORDER, ids=lambda t: t.name)
def test_every_allowed_connection_is_used(transform):
    """The masks are not over-zealous: each z_i that out_j may read does move it."""
    module = _all_units_alive(transform.build(0))
    ctx = tuple(c.abs() for c in transform.contexts((3,)))
    jac = _per_sample_jacobians(transform, module, _z((3,)).abs(), ctx)
    order = transform.order(module)
    earlier = order[None, :] < order[:, None]  # [j, i]: z_i comes before out_j
    assert (jac[:, earlier] != 0).all()


def test_every_output_depends_on_the_context(transform):
    """Even the first output in the ordering (which sees no z) reads the context."""
    module = _all_units_alive(transform.build(0))
    z = _z((6,)).abs()
    ctx = [c.abs().requires_grad_(True) for c in transform.contexts((6,))]
    out = _out(transform, module, z, tuple(ctx))
    for j in range(Z):
        grads = torch.autograd.grad(out[:, j].sum(), ctx, retain_graph=True, allow_unused=True)
        assert any(g is not None and g.abs().sum() > 0 for g in grads), f"output {j} ignores the context"


# -- flows: density and inverse -------------------------------------------------------------


@pytest.mark.parametrize("transform", FLOWS, ids=lambda t: t.name)
def test_log_det_equals_slogdet_of_the_autograd_jacobian(transform, batch_shape):
    module = transform.build(0)
    z, ctx = _z(batch_shape), transform.contexts(batch_shape)
    jac = _per_sample_jacobians(transform, module, z, ctx)
    sign, logabsdet = torch.linalg.slogdet(jac)
    assert torch.all(sign == 1), "an affine IAF with exp scales preserves orientation"
    torch.testing.assert_close(module(z, *ctx).log_det.reshape(-1), logabsdet, atol=1e-10, rtol=1e-10)


@pytest.mark.parametrize("transform", FLOWS, ids=lambda t: t.name)
def test_inverse_undoes_forward(transform, batch_shape):
    module = transform.build(0)
    z, ctx = _z(batch_shape), transform.contexts(batch_shape)
    torch.testing.assert_close(module.inverse(module(z, *ctx).z, *ctx), z, atol=1e-8, rtol=0)


# -- training and checkpoints ---------------------------------------------------------------


def test_gradients_reach_every_parameter_and_one_step_changes_it(transform):
    module = _all_units_alive(transform.build(0))
    z, ctx = _z((4,)).abs(), tuple(c.abs() for c in transform.contexts((4,)))
    weights = torch.randn(4, Z, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    result = module(z, *ctx)
    if transform.kind != "made":  # inside the clamps, where gradients pass
        assert result.shift.abs().max() < 1 and result.log_det.abs().max() < 5 * Z / 2
    loss = (weights * _out(transform, module, z, ctx)).sum()
    if transform.kind != "made":
        loss = loss + result.log_det.sum()
    loss.backward()

    params = {name: p for name, p in module.named_parameters() if _is_trainable(p)}
    assert params, "the transform has trainable parameters"
    for name, p in params.items():
        assert p.grad is not None and p.grad.abs().sum() > 0, f"no gradient reaches {name}"

    before = {name: p.detach().clone() for name, p in params.items()}
    torch.optim.SGD(params.values(), lr=0.1).step()
    for name, p in params.items():
        assert not torch.equal(p, before[name]), f"{name} did not change"


def test_state_dict_round_trip_into_an_instance_with_another_ordering(transform, batch_shape):
    original = transform.build(0)
    z, ctx = _z(batch_shape), transform.contexts(batch_shape)
    expected = _out(transform, original, z, ctx)

    if transform.order_is_state:
        fresh = transform.build(1)
        orders = [
            (a, b) for (name, a), b in zip(original.named_buffers(), fresh.buffers()) if name.endswith("order")
        ]
        assert orders and any(not torch.equal(a, b) for a, b in orders), (
            "seed 1 must draw another ordering, or this test proves nothing"
        )
    else:  # a bare MADE's ordering is a constructor argument: same order, other weights
        fresh = transform.build(1, order_seed=0)
    assert not torch.equal(_out(transform, fresh, z, ctx), expected)

    fresh.load_state_dict(original.state_dict())
    assert torch.equal(_out(transform, fresh, z, ctx), expected)
    if transform.kind != "made":
        torch.testing.assert_close(fresh.inverse(expected, *ctx), z, atol=1e-8, rtol=0)


# -- bounds and the bias-free shift (SPL.md section 3) ---------------------------------------


@pytest.mark.parametrize("transform", FLOWS, ids=lambda t: t.name)
def test_shift_and_log_scale_are_clamped(transform):
    module = transform.build(0)
    with torch.no_grad():
        for p in module.parameters():
            p.mul_(1e3)  # pre-activations far beyond the bounds, both signs
    layer = module if transform.kind == "layer" else module.layers[-1]
    n_layers = 1 if transform.kind == "layer" else len(module.layers)
    z, ctx = _z((64,)), transform.contexts((64,))
    z_in = z if transform.kind == "layer" else module.layers[0](z, *ctx).z

    out = layer(z_in, *ctx)
    log_scale = 2 * torch.log((out.z - out.shift) / z_in)  # z_k = m + exp(s / 2) z_{k-1}
    assert out.shift.min() >= -1 and out.shift.max() <= 1
    assert log_scale.min() >= -5 - 1e-9 and log_scale.max() <= 5 + 1e-9
    assert (out.shift == 1).any() and (out.shift == -1).any(), "the shift reaches both bounds"
    assert (log_scale > 5 - 1e-9).any() and (log_scale < -5 + 1e-9).any(), "the log-scale too"
    torch.testing.assert_close(out.log_det, log_scale.sum(-1) / 2)
    assert module(z, *ctx).log_det.abs().max() <= n_layers * 2.5 * Z + 1e-9


def test_the_shift_network_has_no_bias():
    """With z = 0 and a zero shift context a bias-free ReLU MADE outputs exactly 0, before and
    after training; the scale network (which has biases) does not."""
    torch.manual_seed(0)
    layer = AffineIAFLayer(Z, shift_context_dim=2, scale_context_dim=3, order=_order(0))
    z, shift_ctx, scale_ctx = torch.zeros(4, Z), torch.zeros(4, 2), torch.randn(4, 3)
    optimizer = torch.optim.Adam(layer.parameters(), lr=0.1)
    for _ in range(3):
        optimizer.zero_grad()
        out = layer(torch.randn(4, Z), torch.randn(4, 2), scale_ctx)
        (out.z.pow(2).sum() + out.log_det.sum() - out.shift.sum()).backward()
        optimizer.step()
        out = layer(z, shift_ctx, scale_ctx)
        assert torch.equal(out.shift, torch.zeros(4, Z))
        assert torch.equal(out.z, torch.zeros(4, Z))
        assert out.log_det.abs().sum() > 0, "the scale net has biases, so s(0; c) != 0"

    made = ConditionalMADE(_order(0), context_dim=2, hidden_sizes=[10, 10, 5], bias=False)
    assert not [n for n, p in made.named_parameters() if "bias" in n and p.requires_grad and p.abs().sum() > 0]


def test_flow_shift_is_the_last_layers_shift_and_log_dets_add_up():
    flow = _flow(0)
    z, (c_shift, c_scale) = _z((3,)), Transform("f", _flow, (2, 3), "flow").contexts((3,))
    out = flow(z, c_shift, c_scale)
    first = flow.layers[0](z, c_shift, c_scale)
    second = flow.layers[1](first.z, c_shift, c_scale)
    assert torch.equal(out.z, second.z) and torch.equal(out.shift, second.shift)
    torch.testing.assert_close(out.log_det, first.log_det + second.log_det)
    assert not torch.equal(flow.layers[0].order, flow.layers[1].order), "each layer draws its own order"


@pytest.mark.parametrize("n_blocks", [1, 2, 3, 5])
def test_recutting_a_masked_layer_keeps_its_function(n_blocks: int) -> None:
    """``set_blocks`` (how a checkpoint's stored layout is adopted) changes storage, not maths."""
    torch.manual_seed(0)
    mask = made_masks(torch.arange(6), [12])[0]  # [12, 6] staircase into the first hidden layer
    layer = MaskedLinear(mask, n_blocks=4)
    x = torch.randn(7, 6)
    weight, out = layer.dense_weight().detach().clone(), layer(x).detach()
    layer.set_blocks(n_blocks)
    assert layer.n_blocks == n_blocks and all(w.requires_grad for w in layer.weights)
    assert torch.equal(layer.mask(), mask.bool())
    assert torch.equal(layer.dense_weight(), weight)
    torch.testing.assert_close(layer(x), out, atol=1e-6, rtol=0)  # the sums are split otherwise
    with pytest.raises(ValueError, match="n_blocks=0"):
        layer.set_blocks(0)


def test_a_layer_is_two_made_nets_of_widths_2z_2z_z_and_only_the_scale_has_biases():
    """The SPL paper's P-IAF layer: both MADEs have hidden widths [2Z, 2Z, Z]; with z = 0 and
    both contexts 0 only biases can move the output, so the shift is exactly 0 and the
    log-scale is not."""
    torch.manual_seed(0)
    layer = AffineIAFLayer(Z, shift_context_dim=2, scale_context_dim=3, order=_order(0))
    for net in (layer.shift_net, layer.scale_net):
        assert net.hidden_sizes == [2 * Z, 2 * Z, Z]
        assert [(m.fan_out, m.fan_in) for m in net.layers] == [(2 * Z, Z), (2 * Z, 2 * Z),
                                                                (Z, 2 * Z), (Z, Z)]
    assert all(m.bias is None for m in layer.shift_net.layers)
    assert all(m.bias is not None and m.bias.shape == (m.fan_out,) for m in layer.scale_net.layers)
    shift, log_scale = layer.shift_and_log_scale(torch.zeros(1, Z), torch.zeros(1, 2), torch.zeros(1, 3))
    assert torch.equal(shift, torch.zeros(1, Z)) and log_scale.abs().min() > 0


@pytest.mark.parametrize("transform", FLOWS, ids=lambda t: t.name)
def test_inverse_needs_and_takes_one_pass_per_latent_dimension(transform):
    """Positive weights of order 1 and positive inputs: every unit is alive and output j
    depends on the whole chain of inputs before it in the order, so the fixed-point inverse is
    exact (to float64 round-off) only after Z passes; Z - 1 leave an error near 1e-10. A batch
    of 2 x 3 users: no batch dimension equals Z, so a pass count read from the wrong axis shows.
    """
    module = transform.build(0)
    with torch.no_grad():
        for p in module.parameters():
            p.abs_()
    z = _z((2, 3)).abs()
    ctx = tuple(c.abs() for c in transform.contexts((2, 3)))
    torch.testing.assert_close(module.inverse(module(z, *ctx).z, *ctx), z, atol=1e-14, rtol=0)
    layer = module.layers[0] if transform.kind == "flow" else module
    short = z.new_zeros(z.shape)
    target = layer(z, *ctx).z
    for _ in range(Z - 1):  # one pass too few
        shift, log_scale = layer.shift_and_log_scale(short, *ctx)
        short = (target - shift) * torch.exp(-log_scale / 2)
    assert (short - z).abs().max() > 1e-12


def test_masked_linear_initialises_like_nn_linear_and_stores_used_columns_only():
    """Defaults of the public layer: weights and bias uniform in +-1/sqrt(fan_in) (nn.Linear's
    range), a bias, 4 row blocks; each block ``weights.<i>`` is ``[rows_i, used_i]``, where
    used_i is the last column any of its rows may see (0 for rows that see no input)."""
    torch.manual_seed(0)
    mask = torch.ones(64, 16)
    layer = MaskedLinear(mask)
    bound = 1 / 16 ** 0.5
    for p in (layer.dense_weight(), layer.bias):
        assert p.abs().max() <= bound and p.max() > 0.9 * bound and p.min() < -0.9 * bound
    assert layer.n_blocks == 4 and [w.shape for w in layer.weights] == [(16, 16)] * 4
    staircase = made_masks(torch.arange(6), [12])[0]  # [12, 6]; rows 0, 1 see no input
    cut = MaskedLinear(staircase, n_blocks=6)
    assert [tuple(w.shape) for w in cut.weights] == [(2, 0), (2, 1), (2, 2), (2, 3), (2, 4), (2, 5)]
    x = torch.randn(3, 6)
    torch.testing.assert_close(cut(x), x @ cut.dense_weight().T + cut.bias)


@pytest.mark.parametrize("n_blocks", [1, 2, 3])
def test_masked_linear_computes_any_mask_exactly_and_saves_only_weights(n_blocks: int) -> None:
    """Not only staircases: rows that see more columns than the rows after them, and a block
    of rows (2 and 3, a block of its own when cut in 3) that sees nothing; ``mask()`` gives the mask back and the output is
    ``x (W * mask)^T + b``. The masks are rebuilt, never saved: the state dict holds the
    weight blocks and the bias only."""
    torch.manual_seed(0)
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 0, 1], [0, 0, 0, 0],
                         [0, 0, 0, 0], [1, 0, 0, 0], [0, 1, 1, 0]], dtype=torch.float32)
    layer = MaskedLinear(mask, n_blocks=n_blocks)
    assert torch.equal(layer.mask(), mask.bool())
    weight = layer.dense_weight()
    assert torch.equal(weight * (1 - mask), torch.zeros_like(weight))
    x = torch.randn(2, 5, 4)  # two leading dimensions
    torch.testing.assert_close(layer(x), x @ weight.T + layer.bias)
    assert layer(x)[..., 2:4].eq(layer.bias[2:4]).all(), "rows with no input give their bias"
    assert sorted(layer.state_dict()) == ["bias"] + [f"weights.{i}" for i in range(n_blocks)]


def test_recutting_a_frozen_single_block_layer_keeps_it_frozen() -> None:
    torch.manual_seed(0)
    layer = MaskedLinear(made_masks(torch.arange(4), [8])[0], n_blocks=1)
    layer.weights[0].requires_grad_(False)
    layer.set_blocks(3)
    assert layer.n_blocks == 3 and not any(w.requires_grad for w in layer.weights)


def test_made_layout_round_trips_and_a_foreign_layout_is_refused():
    """``made_layout``/``set_made_layout`` (how a checkpoint's block layout is adopted): the
    layout is re-cut in place without changing the function; other layer names are refused,
    naming the missing and unexpected ones. The context enters the first hidden layer, whatever
    the other widths; a MADE has biases unless told otherwise."""
    from spl_model.made import made_layout, set_made_layout

    torch.manual_seed(0)
    made = ConditionalMADE(_order(1), context_dim=2, hidden_sizes=[7, 3])
    assert made.context.weight.shape == (7, 2)
    assert all(layer.bias is not None for layer in made.layers)
    assert sorted(made.state_dict()) == ["context.weight"] + [
        f"layers.{i}.{p}" for i in range(3) for p in ("bias", "weights.0")], \
        "the permutations are rebuilt from the order, never saved"
    layout = made_layout(made)
    assert layout == {"layers.0": 1, "layers.1": 1, "layers.2": 1}
    z, c = torch.randn(4, Z), torch.randn(4, 2)
    before = made(z, c).detach()
    set_made_layout(made, {name: 3 for name in layout})
    assert made_layout(made) == {"layers.0": 3, "layers.1": 3, "layers.2": 3}
    torch.testing.assert_close(made(z, c), before, atol=1e-6, rtol=0)
    with pytest.raises(ValueError, match=r"missing \['layers.2'\], unexpected \['layers.9'\]"):
        set_made_layout(made, {"layers.0": 1, "layers.1": 1, "layers.9": 1})
