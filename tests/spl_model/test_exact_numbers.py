"""Exact numbers the rest of the project rests on, each checked against a hand computation:
free nats in the loss's gradient, ``sample_z``'s spread, the attention scale, FiLM's gamma range
and the selector's ``spread`` (issue 13: mutations of these survived the suite)."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from spl_model import ModelConfig, build_model
from spl_model.active import posterior_samples, select_query
from spl_model.decoders import FiLMDecoder
from spl_model.encoders import SetEncoder

D = 6  # embedding width of these tiny models


def _batch(seed: int = 0):
    from spl_model import PreferenceBatch

    g = torch.Generator().manual_seed(seed)
    B, C, N = 4, 3, 2
    return PreferenceBatch(
        ctx_chosen=torch.randn(B, C, D, generator=g), ctx_rejected=torch.randn(B, C, D, generator=g),
        ctx_mask=torch.ones(B, C, dtype=torch.bool),
        chosen=torch.randn(B, N, D, generator=g), rejected=torch.randn(B, N, D, generator=g))


def _grads(model: nn.Module, loss: torch.Tensor) -> list[torch.Tensor]:
    params = [p for p in model.parameters() if p.requires_grad]
    grads = torch.autograd.grad(loss, params, allow_unused=True, retain_graph=True)
    return [torch.zeros_like(p) if g is None else g for p, g in zip(params, grads)]


# -- free nats ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["spl", "ivpl"])
def test_free_nats_remove_the_kl_gradient_but_not_its_value(kind: str) -> None:
    """With free nats above every sample's KL, the KL term keeps its value but passes no
    gradient: the total's gradient is the Bradley-Terry term's alone. With 0 free nats the
    KL's gradient is there (so the comparison can tell the two apart)."""
    batch = _batch()
    results = {}
    for free_nats in (0.0, 1e6):
        torch.manual_seed(0)
        model = build_model(ModelConfig(kind=kind, embed_dim=D, latent_dim=4, hidden_dim=8,
                                        beta=1.0, guide_weight=0.0, free_nats=free_nats))
        model.train()
        torch.manual_seed(1)  # the same eps for both settings
        terms = model.loss(batch)
        total = _grads(model, terms["total"])
        bt_only = _grads(model, terms["bt"])
        results[free_nats] = (terms["kl"].item(), total, bt_only)
    kl_0, total_0, bt_0 = results[0.0]
    kl_free, total_free, bt_free = results[1e6]
    assert kl_free == pytest.approx(kl_0, rel=1e-6), "free nats must not change the KL's value"
    for g_total, g_bt in zip(total_free, bt_free):
        torch.testing.assert_close(g_total, g_bt, rtol=0, atol=0)
    assert any(not torch.allclose(a, b) for a, b in zip(total_0, bt_0)), \
        "with 0 free nats the KL must add to the gradient"


# -- sample_z's spread ------------------------------------------------------------------------


@pytest.mark.parametrize("logvar_value", [-0.8, 0.6])
def test_sample_z_spread_is_the_posterior_standard_deviation(logvar_value: float) -> None:
    """VPL (no flow): samples ~ N(mean, exp(logvar)), so their sd is exp(logvar / 2)."""
    torch.manual_seed(0)
    model = build_model(ModelConfig(kind="vpl", embed_dim=D, latent_dim=4, hidden_dim=8)).eval()
    head = model.set_encoder.to_logvar
    with torch.no_grad():  # a known log-variance, whatever the context
        head.weight.zero_()
        head.bias.fill_(logvar_value)
    batch = _batch()
    ctx = (batch.ctx_chosen[:2], batch.ctx_rejected[:2], batch.ctx_mask[:2])
    post = model.posterior(*ctx)
    torch.testing.assert_close(post.logvar, torch.full_like(post.logvar, logvar_value))
    torch.manual_seed(5)
    samples = model.sample_z(*ctx, n=40_000)  # [B, n, Z]
    expected_sd = math.exp(logvar_value / 2)
    torch.testing.assert_close(samples.std(dim=1), torch.full((2, 4), expected_sd),
                               rtol=0.02, atol=0)
    torch.testing.assert_close(samples.mean(dim=1), post.mean, rtol=0, atol=0.03)


# -- the attention scale ----------------------------------------------------------------------


def test_set_encoder_attention_is_scaled_by_one_over_sqrt_z() -> None:
    """pooled = W_v (mean_q softmax(Q K^T / sqrt(Z))_q) tokens, over the real pairs."""
    torch.manual_seed(0)
    Z = 4
    encoder = SetEncoder(Z)
    with torch.no_grad():  # large scores, so the scale visibly changes the softmax
        encoder.query.weight.mul_(3.0)
        encoder.key.weight.mul_(3.0)
    tokens = torch.randn(2, 5, Z) * 2
    mask = torch.tensor([[True] * 5, [True, True, True, False, False]])
    out = encoder(tokens, mask)
    for b in range(2):
        t = tokens[b, mask[b]]  # [C_b, Z]
        q, k = encoder.query(t), encoder.key(t)
        attention = torch.softmax(q @ k.T / math.sqrt(Z), dim=-1)  # [C_b, C_b]
        pooled = encoder.value(attention.mean(dim=0) @ t)  # [Z]
        torch.testing.assert_close(out.pooled[b], pooled, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(out.mean[b], encoder.to_mean(pooled).clamp(-1, 1))
        torch.testing.assert_close(out.logvar[b], encoder.to_logvar(pooled).clamp(-1, 1))


# -- FiLM's gamma range -----------------------------------------------------------------------


def test_film_gamma_is_one_plus_half_tanh_and_spans_half_to_three_halves() -> None:
    torch.manual_seed(0)
    decoder = FiLMDecoder(embed_dim=D, z_dim=4, hidden_dim=8)
    z = torch.randn(16, 4)
    raw = decoder.film_out(nn.functional.leaky_relu(decoder.film_hidden(z), 0.2))  # [B, 2H]
    raw_gamma, raw_beta = raw.chunk(2, dim=-1)
    gamma, beta = decoder.modulation(z)
    torch.testing.assert_close(gamma, 1 + 0.5 * torch.tanh(raw_gamma))
    torch.testing.assert_close(beta, 0.5 * torch.tanh(raw_beta))
    with torch.no_grad():  # saturate tanh: gamma reaches both ends of (0.5, 1.5)
        decoder.film_out.weight.mul_(1e4)
    gamma, beta = decoder.modulation(z)
    assert gamma.min().item() == pytest.approx(0.5, abs=1e-3)
    assert gamma.max().item() == pytest.approx(1.5, abs=1e-3)
    assert beta.min().item() == pytest.approx(-0.5, abs=1e-3)
    assert beta.max().item() == pytest.approx(0.5, abs=1e-3)


# -- the selector's spread --------------------------------------------------------------------


@pytest.mark.parametrize("spread", [0.5, 2.0, 3.0])
def test_select_query_spread_tempers_samples_around_the_point_latent(spread: float) -> None:
    """p_first is sigmoid(r(a, z') - r(b, z')) with z' = z* + tau (z_s - z*)."""
    torch.manual_seed(0)
    model = build_model(ModelConfig(kind="spl", embed_dim=D, latent_dim=4, hidden_dim=8)).eval()
    g = torch.Generator().manual_seed(2)
    context = (torch.randn(1, 3, D, generator=g), torch.randn(1, 3, D, generator=g),
               torch.ones(1, 3, dtype=torch.bool))
    pool_a, pool_b = torch.randn(5, D, generator=g), torch.randn(5, D, generator=g)
    choice = select_query(model, context, pool_a, pool_b, n_samples=8, seed=4, spread=spread)
    plain = select_query(model, context, pool_a, pool_b, n_samples=8, seed=4)
    samples = posterior_samples(model, context, 8, 4)[0]  # [S, Z]
    point = model.posterior(*context).z  # [1, Z]
    tempered = point + spread * (samples - point)  # [S, Z]
    margins = model.reward(pool_a.expand(8, 5, D), tempered) - model.reward(pool_b.expand(8, 5, D), tempered)
    torch.testing.assert_close(choice.p_first[0], torch.sigmoid(margins), rtol=1e-4, atol=1e-5)
    assert not torch.allclose(choice.p_first, plain.p_first, atol=1e-4)
