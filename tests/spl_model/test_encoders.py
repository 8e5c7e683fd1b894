"""The context encoder: padding, pair order and swaps (SPL.md section 2, P-IAF contexts of 3).

Every test reads as an example of one property a user's latent must have:

- a padded batch gives each user exactly what that user gets alone, whatever the padding holds;
- the model does not loop over users (the work does not grow with the batch in Python);
- reordering a user's pairs changes nothing (it is a *set* encoder);
- swapping every chosen/rejected flips SPL's swap-reversible context ``c_d`` and keeps the
  swap-invariant ``c_s``, and the swap branch is the encoder run on the swapped context.
"""

from __future__ import annotations

import pytest
import torch
from torch.overrides import TorchFunctionMode

from spl_model import build_model
from spl_model.encoders import ResponseTokenizer, SetEncoder

LATENT_KINDS = ["spl", "vpl", "ivpl"]
FIELDS = ["mean", "logvar", "z", "log_q", "au_vector"]


def _flow_contexts(model, ctx_c, ctx_r, mask):
    """Run ``model.posterior`` and capture what it passes to its flow: ``(shift_ctx, scale_ctx)``."""
    seen = []
    handle = model.flow.register_forward_hook(lambda _m, args, _out: seen.append(args[1:]))
    try:
        model.posterior(ctx_c, ctx_r, mask)
    finally:
        handle.remove()
    (shift_ctx, scale_ctx), = seen
    return shift_ctx, scale_ctx


# -- padding and batching -------------------------------------------------------------------


@pytest.mark.parametrize("kind", LATENT_KINDS)
def test_padded_batch_equals_each_user_run_alone(kind, make_model, make_context):
    model = make_model(kind).eval()
    lengths = [1, 4, 2, 3]
    ctx_c, ctx_r, mask = make_context(lengths, n_slots=5)
    mask[3] = torch.tensor([True, False, True, False, True])  # real pairs need not be a prefix
    batch = model.posterior(ctx_c, ctx_r, mask, with_swap=kind == "spl")

    for b in range(len(lengths)):
        real = mask[b]
        alone = model.posterior(
            ctx_c[b, real][None], ctx_r[b, real][None], real[real][None], with_swap=kind == "spl"
        )
        for name in FIELDS + (["mean_swap", "logvar_swap"] if kind == "spl" else []):
            torch.testing.assert_close(
                getattr(batch, name)[b], getattr(alone, name)[0], atol=1e-6, rtol=1e-5,
                msg=lambda m, name=name, b=b: f"user {b}, {name}: {m}",
            )


@pytest.mark.parametrize("kind", LATENT_KINDS)
def test_padding_contents_are_ignored(kind, make_model, make_context):
    model = make_model(kind).eval()
    ctx_c, ctx_r, mask = make_context([2, 5, 1], n_slots=6)
    clean = model.posterior(ctx_c, ctx_r, mask, with_swap=kind == "spl")

    garbage = 1e4 * torch.randn(*ctx_c.shape, generator=torch.Generator().manual_seed(9))
    padding = ~mask[..., None]  # [B, C, 1]
    dirty = model.posterior(
        torch.where(padding, garbage, ctx_c),
        torch.where(padding, -garbage, ctx_r),
        mask,
        with_swap=kind == "spl",
    )
    for name in FIELDS:
        torch.testing.assert_close(getattr(dirty, name), getattr(clean, name), atol=1e-6, rtol=0)


@pytest.mark.parametrize("kind", LATENT_KINDS)
def test_no_python_loop_over_users(kind, make_model, make_context):
    """The number of torch calls in ``posterior`` does not grow with the number of users."""

    class CountCalls(TorchFunctionMode):
        def __init__(self):
            super().__init__()
            self.calls = 0

        def __torch_function__(self, func, types, args=(), kwargs=None):
            self.calls += 1
            return func(*args, **(kwargs or {}))

    model = make_model(kind).eval()
    counts = []
    for n_users in (2, 16):
        ctx_c, ctx_r, mask = make_context([3, 1] * (n_users // 2), n_slots=4)
        with CountCalls() as counter:
            model.posterior(ctx_c, ctx_r, mask, with_swap=kind == "spl")
        counts.append(counter.calls)
    assert counts[0] == counts[1], f"torch calls for 2 vs 16 users: {counts}"


# -- the context is a set -------------------------------------------------------------------


@pytest.mark.parametrize("kind", LATENT_KINDS)
def test_posterior_is_invariant_to_the_order_of_context_pairs(kind, make_model, make_context):
    model = make_model(kind).eval()
    ctx_c, ctx_r, mask = make_context([3, 5, 2], n_slots=6)
    before = model.posterior(ctx_c, ctx_r, mask, with_swap=kind == "spl")

    g = torch.Generator().manual_seed(3)
    perm = torch.stack([torch.randperm(6, generator=g) for _ in range(3)])  # [B, C]: each user's own
    rows = torch.arange(3)[:, None]  # [B, 1]
    after = model.posterior(ctx_c[rows, perm], ctx_r[rows, perm], mask[rows, perm], with_swap=kind == "spl")

    assert not torch.equal(mask[rows, perm], mask), "the permutation moves the padding too"
    for name in FIELDS + (["mean_swap", "logvar_swap"] if kind == "spl" else []):
        torch.testing.assert_close(getattr(after, name), getattr(before, name), atol=1e-6, rtol=1e-5)


def test_set_encoder_alone_is_permutation_invariant_and_ignores_padding():
    torch.manual_seed(0)
    encoder = SetEncoder(latent_dim=4)
    tokens = torch.randn(2, 5, 4)
    mask = torch.tensor([[True, True, True, False, False], [True, False, True, True, True]])
    out = encoder(tokens, mask)
    assert [t.shape for t in out] == [torch.Size([2, 4])] * 3

    perm = torch.tensor([4, 2, 0, 3, 1])
    shuffled = encoder(tokens[:, perm] + 50 * (~mask[:, perm, None]), mask[:, perm])
    for a, b in zip(out, shuffled):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-5)


# -- swaps (SPL) ----------------------------------------------------------------------------


def test_response_tokenizer_swapped_call_returns_the_halves_exchanged(make_context):
    torch.manual_seed(0)
    tokenizer = ResponseTokenizer(embed_dim=6, hidden_dim=8, latent_dim=4)
    ctx_c, ctx_r, mask = make_context([2, 3])
    g_c, g_r = tokenizer(ctx_c, ctx_r, mask)
    g_r_swapped, g_c_swapped = tokenizer(ctx_r, ctx_c, mask)
    assert g_c.shape == (2, 3, 2)  # [B, C, Z/2]
    torch.testing.assert_close(g_c_swapped, g_c, atol=1e-7, rtol=0)
    torch.testing.assert_close(g_r_swapped, g_r, atol=1e-7, rtol=0)
    assert torch.all(g_c[0, 2] == 0) and torch.all(g_r[0, 2] == 0), "padding features are 0"


def test_swap_flips_c_d_and_keeps_c_s(make_model, make_context):
    """c_d = mean_i (g(e_c,i) - g(e_r,i)) / 2 feeds the shift, c_s = mean_i (g(e_c,i) + g(e_r,i)) / 2
    the scale (SPL.md section 3); swapping every pair must give (-c_d, c_s)."""
    model = make_model("spl").eval()
    ctx_c, ctx_r, mask = make_context([2, 4, 1], n_slots=4)

    c_d, c_s = _flow_contexts(model, ctx_c, ctx_r, mask)
    c_d_swapped, c_s_swapped = _flow_contexts(model, ctx_r, ctx_c, mask)
    torch.testing.assert_close(c_d_swapped, -c_d, atol=1e-6, rtol=0)
    torch.testing.assert_close(c_s_swapped, c_s, atol=1e-6, rtol=0)

    g_c, g_r = model.tokenizer(ctx_c, ctx_r, mask)  # [B, C, Z/2] each
    n_real = mask.sum(1, keepdim=True)  # [B, 1]
    torch.testing.assert_close(c_d, ((g_c - g_r) / 2 * mask[..., None]).sum(1) / n_real)
    torch.testing.assert_close(c_s, ((g_c + g_r) / 2 * mask[..., None]).sum(1) / n_real)


@pytest.mark.parametrize(
    "kind, overrides", [("ivpl", {}), ("spl", {"split_context": False})], ids=["ivpl", "spl-unsplit"]
)
def test_without_the_split_both_flow_networks_read_the_pooled_context(kind, overrides, make_model, make_context):
    model = make_model(kind, **overrides).eval()
    shift_ctx, scale_ctx = _flow_contexts(model, *make_context([2, 3]))
    assert shift_ctx.shape == (2, model.cfg.latent_dim)
    assert torch.equal(shift_ctx, scale_ctx)


def test_swap_branch_is_the_encoder_on_the_swapped_context(make_model, make_context):
    model = make_model("spl").train()
    ctx_c, ctx_r, mask = make_context([3, 1, 2])
    post = model.posterior(ctx_c, ctx_r, mask, with_swap=True)
    swapped = model.posterior(ctx_r, ctx_c, mask)

    torch.testing.assert_close(post.mean_swap, swapped.mean, atol=1e-6, rtol=0)
    torch.testing.assert_close(post.logvar_swap, swapped.logvar, atol=1e-6, rtol=0)
    assert not post.mean_swap.requires_grad and not post.logvar_swap.requires_grad
    assert post.mean.requires_grad, "the main branch keeps its gradient"
    assert model.posterior(ctx_c, ctx_r, mask).mean_swap is None, "only computed when asked"


# -- bounds ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", LATENT_KINDS)
def test_mean_and_logvar_are_clamped_to_plus_minus_one(kind, make_model, make_context):
    model = make_model(kind).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(30.0)  # drive every pre-activation far outside [-1, 1]
    post = model.posterior(*make_context([3, 2, 4, 1]), with_swap=kind == "spl")
    stats = [post.mean, post.logvar] + ([post.mean_swap, post.logvar_swap] if kind == "spl" else [])
    for t in stats:
        assert t.min() >= -1.0 and t.max() <= 1.0
    assert (post.mean.abs() == 1.0).any() and (post.logvar.abs() == 1.0).any(), "bounds are reached"


# -- the tokenizers by hand -------------------------------------------------------------------


def _lrelu(x: torch.Tensor) -> torch.Tensor:
    return torch.where(x > 0, x, 0.2 * x)


def test_mlp_is_linear_layers_with_leaky_relu_between() -> None:
    from spl_model.encoders import mlp

    torch.manual_seed(0)
    net = mlp([3, 4, 5, 2])
    linears = [m for m in net if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(3, 4), (4, 5), (5, 2)]
    x = torch.randn(6, 3) * 3
    h = _lrelu(linears[0](x))
    h = _lrelu(linears[1](h))
    torch.testing.assert_close(net(x), linears[2](h))  # no activation after the last layer
    assert (net(x) < 0).any()
    torch.manual_seed(0)
    active = mlp([3, 4, 5, 2], final_activation=True)
    torch.testing.assert_close(active(x), _lrelu(net(x)))


def test_tokenizers_by_hand_and_zero_at_padding(make_context) -> None:
    """SPL: g(e) per response, [B, C, Z/2] each; VPL: one MLP on [e_c; e_r], [B, C, Z]."""
    torch.manual_seed(0)
    ctx_c, ctx_r, mask = make_context([2, 3, 1])
    spl = ResponseTokenizer(6, 8, 4)
    g_c, g_r = spl(ctx_c, ctx_r, mask)
    assert g_c.shape == g_r.shape == (3, 3, 2)
    torch.testing.assert_close(g_c[mask], spl.g(ctx_c[mask]))
    torch.testing.assert_close(g_r[mask], spl.g(ctx_r[mask]))
    assert torch.equal(g_c[~mask], torch.zeros(int((~mask).sum()), 2))
    from spl_model.encoders import PairTokenizer

    vpl = PairTokenizer(6, 8, 4)
    tokens = vpl(ctx_c, ctx_r, mask)
    assert tokens.shape == (3, 3, 4)
    torch.testing.assert_close(tokens[mask], vpl.net(torch.cat([ctx_c, ctx_r], -1)[mask]))
    assert torch.equal(tokens[~mask], torch.zeros(int((~mask).sum()), 4))
    linears = [m for m in vpl.net if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(12, 8), (8, 8), (8, 4)]


def test_set_encoder_defaults_are_the_papers_bounds_and_evidence_enters_before_the_clamp() -> None:
    torch.manual_seed(0)
    encoder = SetEncoder(4)
    assert (encoder.mean_bound, encoder.logvar_min, encoder.pooling) == (1.0, -1.0, "mean")
    tokens, mask = torch.randn(2, 3, 4), torch.ones(2, 3, dtype=torch.bool)
    plain = encoder(tokens, mask)
    evidence = torch.tensor([[0.3, -0.2, 5.0, -5.0]] * 2)
    moved = encoder(tokens, mask, evidence)
    raw = encoder.to_mean(plain.pooled)
    torch.testing.assert_close(moved.mean, (raw + evidence).clamp(-1, 1))
    assert moved.mean[:, 2].eq(1).all() and moved.mean[:, 3].eq(-1).all()
    torch.testing.assert_close(moved.logvar, plain.logvar)
    wide = SetEncoder(4, mean_bound=3.0, logvar_min=-4.0)
    wide.load_state_dict(encoder.state_dict())
    with torch.no_grad():
        wide.to_logvar.bias.fill_(-10.0)
    out = wide(tokens, mask, evidence)
    torch.testing.assert_close(out.mean, (raw + evidence).clamp(-3, 3))
    assert out.logvar.eq(-4.0).all()


def test_set_encoder_parameters_are_the_papers_attention_without_biases() -> None:
    """W_Q, W_K, W_V without bias (as in the paper's attention), two affine Gaussian heads."""
    encoder = SetEncoder(4)
    assert {k: tuple(v.shape) for k, v in encoder.state_dict().items()} == {
        "query.weight": (4, 4), "key.weight": (4, 4), "value.weight": (4, 4),
        "to_mean.weight": (4, 4), "to_mean.bias": (4,), "to_logvar.weight": (4, 4),
        "to_logvar.bias": (4,)}
