"""Loss terms (SPL.md section 5), each checked against the formula written out by hand, and
``RewardModel.loss`` checked to add them up as ``total = bt + beta * a(t) * kl + lambda * guide``."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch
import torch.nn.functional as F

from spl_model import (
    anneal_weight,
    bradley_terry_loss,
    gaussian_kl,
    guide_loss,
    monte_carlo_kl,
)
from spl_model.losses import gaussian_log_prob

ALL_KINDS = ["spl", "vpl", "ivpl", "btl", "oracle"]


# -- Monte-Carlo KL and free nats -----------------------------------------------------------


@pytest.mark.parametrize("kind", ["spl", "ivpl"])
def test_monte_carlo_kl_without_a_flow_averages_to_the_closed_form(kind, make_model, make_context):
    model = make_model(kind, n_flows=0).train()
    ctx_c, ctx_r, mask = make_context([3])
    n = 20_000  # one user, 20k posterior samples
    with torch.no_grad():
        post = model.posterior(ctx_c.expand(n, -1, -1), ctx_r.expand(n, -1, -1), mask.expand(n, -1))
    estimates = monte_carlo_kl(post.log_q, post.z)  # [n], no free nats
    exact = gaussian_kl(post.mean[0], post.logvar[0])
    standard_error = estimates.std() / math.sqrt(n)
    assert abs(estimates.mean() - exact) < 4 * standard_error, (estimates.mean(), exact, standard_error)
    assert exact > 0.05, "a non-trivial posterior, or the check proves little"


def test_gaussian_kl_closed_form():
    mean, logvar = torch.tensor([[0.5, -1.0]]), torch.tensor([[0.0, math.log(4.0)]])
    by_hand = 0.5 * (0.25 + 1 - 1 - 0) + 0.5 * (1.0 + 4.0 - 1 - math.log(4.0))  # (mu^2 + var - 1 - l) / 2
    torch.testing.assert_close(gaussian_kl(mean, logvar), torch.tensor([by_hand]))
    assert gaussian_kl(torch.zeros(3, 5), torch.zeros(3, 5)).abs().max() == 0


@pytest.mark.parametrize("kind", ["spl", "ivpl"])
def test_flow_log_q_is_base_density_minus_log_det(kind, make_model, make_context):
    """log q_K(z_K) = log N(z_0; mu, diag(exp l)) - sum_k log|det J_k| (SPL.md section 3)."""
    model = make_model(kind).train()
    seen = []
    handle = model.flow.register_forward_hook(lambda _m, args, out: seen.append((args[0], out.log_det)))
    post = model.posterior(*make_context([2, 3, 1]))
    handle.remove()
    (z0, log_det), = seen
    torch.testing.assert_close(post.log_q, gaussian_log_prob(z0, post.mean, post.logvar) - log_det)


def test_free_nats_keep_the_value_but_stop_the_gradient_below_the_threshold():
    z = torch.zeros(2, 3, requires_grad=True)
    log_prior = -1.5 * math.log(2 * math.pi)  # log N(0; 0, I_3)
    log_q = torch.tensor([log_prior + 0.5, log_prior + 3.0], requires_grad=True)  # KL^ = 0.5, 3.0

    kl = monte_carlo_kl(log_q, z, free_nats=1.0)
    torch.testing.assert_close(kl, torch.tensor([0.5, 3.0]))
    kl.sum().backward()
    assert log_q.grad.tolist() == [0.0, 1.0], "only the sample above 1 nat passes a gradient"

    log_q.grad = None
    monte_carlo_kl(log_q, z, free_nats=0.0).sum().backward()
    assert log_q.grad.tolist() == [1.0, 1.0]

    log_q.grad = None
    monte_carlo_kl(log_q, z).sum().backward()  # the default: no free nats
    assert log_q.grad.tolist() == [1.0, 1.0]

    log_q.grad = None  # "below" is strict: a KL^ exactly at the threshold passes its gradient
    at = monte_carlo_kl(log_q, z)[0].item()
    monte_carlo_kl(log_q, z, free_nats=at).sum().backward()
    assert log_q.grad.tolist() == [1.0, 1.0]


# -- annealing ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "step, expected", [(0, 0.1), (5_000, 0.55), (10_000, 1.0), (15_000, 0.55), (20_000, 0.1)]
)
def test_cyclical_cosine_annealer(step, expected):
    assert anneal_weight(step, 10_000) == pytest.approx(expected)


def test_annealer_is_monotone_on_the_way_up():
    weights = [anneal_weight(t, 100) for t in range(101)]
    assert weights == sorted(weights)


# -- guide loss -----------------------------------------------------------------------------


def _guide_by_hand(mu, l, mu_s, l_s, eta):
    def cos(a, b):
        return (a * b).sum(-1) / ((a.norm(dim=-1) + 1e-6) * (b.norm(dim=-1) + 1e-6))

    return ((1 + cos(mu, mu_s)) / 2 + eta * (1 - cos(l, l_s)) / 2).mean()


@pytest.mark.parametrize("eta", [0.1, 0.7])
@pytest.mark.parametrize("scale", [1.0, 1e-6], ids=["unit", "tiny"])  # tiny: the 1e-6 matters
def test_guide_loss_equals_the_formula(eta, scale):
    g = torch.Generator().manual_seed(0)
    mu, l, mu_s, l_s = (scale * torch.randn(5, 4, generator=g) for _ in range(4))
    torch.testing.assert_close(guide_loss(mu, l, mu_s, l_s, eta), _guide_by_hand(mu, l, mu_s, l_s, eta))
    if eta == 0.1:  # the SPL release's eta is the default
        torch.testing.assert_close(guide_loss(mu, l, mu_s, l_s), _guide_by_hand(mu, l, mu_s, l_s, 0.1))


def test_guide_loss_is_minimal_for_a_mirrored_mean_and_the_same_logvar():
    g = torch.Generator().manual_seed(1)
    mu, l = torch.randn(8, 4, generator=g), torch.randn(8, 4, generator=g)
    best = guide_loss(mu, l, -mu, l.clone(), eta=0.1)
    assert best.item() == pytest.approx(0.0, abs=1e-5)  # (1 + cos(mu, -mu)) / 2 = 0
    for _ in range(5):
        other = guide_loss(mu, l, torch.randn(8, 4, generator=g), torch.randn(8, 4, generator=g), eta=0.1)
        assert other > best
    assert guide_loss(mu, l, mu.clone(), l.clone(), eta=0.1).item() == pytest.approx(1.0, abs=1e-5)


def test_guide_loss_passes_no_gradient_into_the_swapped_statistics():
    g = torch.Generator().manual_seed(2)
    mu, l, mu_s, l_s = (torch.randn(3, 4, generator=g).requires_grad_(True) for _ in range(4))
    guide_loss(mu, l, mu_s, l_s).backward()
    assert mu.grad.abs().sum() > 0 and l.grad.abs().sum() > 0
    for swapped in (mu_s, l_s):
        assert swapped.grad is None or torch.all(swapped.grad == 0)


# -- Bradley-Terry --------------------------------------------------------------------------


def test_bradley_terry_with_mask_and_margin():
    chosen = torch.tensor([[2.0, 0.0, 9.0], [1.0, -1.0, 0.0]])
    rejected = torch.tensor([[1.0, 0.0, -9.0], [3.0, 0.0, 0.0]])
    mask = torch.tensor([[True, True, False], [True, True, False]])
    d = [1.0, 0.0, -2.0, -1.0]  # the real pairs' margins
    by_hand = sum(-math.log(1 / (1 + math.exp(-x))) for x in d) / 4
    assert bradley_terry_loss(chosen, rejected, mask).item() == pytest.approx(by_hand)
    assert bradley_terry_loss(chosen, rejected).item() == pytest.approx(
        (by_hand * 4 - 2 * math.log(1 / (1 + math.exp(-18.0))) - math.log(0.5)) / 6
    )
    with_margin = sum(-math.log(1 / (1 + math.exp(-(x - 0.5)))) for x in d) / 4
    assert bradley_terry_loss(chosen, rejected, mask, margin=0.5).item() == pytest.approx(with_margin)
    one = torch.tensor([[True, False, False], [False, False, False]])  # a single real pair
    assert bradley_terry_loss(chosen, rejected, one).item() == pytest.approx(
        -math.log(1 / (1 + math.exp(-1.0))))
    assert bradley_terry_loss(chosen, rejected, torch.zeros_like(mask)).item() == 0.0  # none


# -- RewardModel.loss -----------------------------------------------------------------------


@pytest.mark.parametrize("kind", ALL_KINDS)
@pytest.mark.parametrize("step", [None, 0, 2_500, 10_000])
def test_model_loss_adds_up_its_named_terms(kind, step, make_model, make_batch):
    model = make_model(kind, beta=0.5, guide_weight=0.3, anneal_steps=10_000).eval()
    batch = make_batch(lengths=(2, 3, 1), n_pairs=4)
    batch = dataclasses.replace(batch, pair_mask=torch.tensor([[True, True, False, True]] * 3))
    terms = model.loss(batch, step=step)

    assert set(terms) == {"bt", "kl", "guide", "kl_weight", "total"}
    a = 1.0 if step is None else anneal_weight(step, 10_000)
    assert terms["kl_weight"].item() == pytest.approx(a)
    torch.testing.assert_close(terms["total"], terms["bt"] + 0.5 * a * terms["kl"] + 0.3 * terms["guide"])

    # each term by hand, in eval mode where z is deterministic
    margins = model.margins(batch)
    bt = -(F.logsigmoid(margins) * batch.pair_mask).sum() / batch.pair_mask.sum()
    torch.testing.assert_close(terms["bt"], bt)
    if kind in ("btl", "oracle"):
        assert terms["kl"] == 0 and terms["guide"] == 0
        return
    post = model.posterior(batch.ctx_chosen, batch.ctx_rejected, batch.ctx_mask, with_swap=True)
    if kind == "vpl":
        kl = gaussian_kl(post.mean, post.logvar).mean()
    else:
        kl = monte_carlo_kl(post.log_q, post.z, model.cfg.free_nats).mean()
    torch.testing.assert_close(terms["kl"], kl)
    if kind == "spl":
        guide = guide_loss(post.mean, post.logvar, post.mean_swap, post.logvar_swap, model.cfg.eta)
        torch.testing.assert_close(terms["guide"], guide)
        assert terms["guide"] > 0
    else:
        assert terms["guide"] == 0


@pytest.mark.parametrize("overrides", [{"guide": False}, {"guide_weight": 0.0}])
def test_spl_guide_ablation_turns_the_term_off(overrides, make_model, make_batch):
    terms = make_model("spl", **overrides).loss(make_batch())
    assert terms["guide"] == 0


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_loss_gradient_reaches_every_parameter(kind, make_model, make_batch):
    model = make_model(kind, beta=0.1, guide_weight=0.1).train()
    model.loss(make_batch(), step=3)["total"].backward()
    unreached = [
        name for name, p in model.named_parameters() if p.requires_grad and p.numel() and p.grad is None
    ]
    assert not unreached


def test_calling_the_model_is_calling_loss(make_model, make_batch):
    """``model(batch, step)`` is ``model.loss(batch, step)``, so wrappers such as DDP see it."""
    model = make_model("spl", beta=0.5, guide_weight=0.3).eval()
    batch = make_batch()
    via_call, via_loss = model(batch, step=7), model.loss(batch, step=7)
    assert via_call.keys() == via_loss.keys()
    for name in via_call:
        torch.testing.assert_close(via_call[name], via_loss[name])


def _kl_gradient(model, batch) -> float:
    """Total |gradient| the loss's KL term sends to the model's parameters."""
    kl = model.loss(batch)["kl"]
    if not kl.requires_grad:
        return 0.0
    params = [p for p in model.parameters() if p.requires_grad]
    grads = torch.autograd.grad(kl, params, allow_unused=True)
    return sum(float(g.abs().sum()) for g in grads if g is not None)


@pytest.mark.parametrize("n_flows", [0, 2])
@pytest.mark.parametrize("kind", ["spl", "ivpl", "vpl"])
def test_free_nats_belong_to_the_kind_not_to_the_flow(kind, n_flows, make_model, make_batch):
    """Issue 12: free nats followed ``uses_flow``, so spl / ivpl with ``n_flows=0`` silently
    trained with a KL without them. Now spl and ivpl always have them (the closed-form KL per
    user when there is no flow); VPL never does (its KL is the plain closed form, SPL.md)."""
    if kind == "vpl" and n_flows:
        pytest.skip("VPL has no flow")
    batch = make_batch()
    cheap = make_model(kind, n_flows=n_flows, free_nats=1e6).eval()  # every user's KL is below
    assert cheap.cfg.uses_free_nats == (kind != "vpl")
    if n_flows == 0:  # the value is kept: only the gradient stops
        post = cheap.posterior(batch.ctx_chosen, batch.ctx_rejected, batch.ctx_mask)
        torch.testing.assert_close(cheap.loss(batch)["kl"], gaussian_kl(post.mean, post.logvar).mean())
    if kind == "vpl":
        assert _kl_gradient(cheap, batch) > 0
    else:
        assert _kl_gradient(cheap, batch) == 0, "below free nats the KL must pass no gradient"
    if n_flows == 0:  # (a flow's one-sample estimate may be below 0 nats, so no contrast there)
        assert _kl_gradient(make_model(kind, n_flows=0, free_nats=0.0).eval(), batch) > 0
