"""The public RewardModel API (SPL.md sections 2-4): shapes for every kind, clear errors for
wrong input, deterministic evaluation, and ModelConfig validation."""

from __future__ import annotations

import dataclasses
import math
import re

import pytest
import torch

from spl_fixtures import D, Z
from spl_model import ModelConfig, PreferenceBatch, ShapeError, build_model

ALL_KINDS = ["spl", "vpl", "ivpl", "btl", "oracle"]
LATENT_KINDS = ["spl", "vpl", "ivpl"]
B, N = 3, 5


# -- shapes ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["spl", "vpl", "ivpl", "btl"])
def test_lookahead_z_is_the_posterior_of_each_extended_context(kind, make_model, make_context):
    model = make_model(kind)  # train mode: lookahead_z is the eval-mode point all the same
    ctx_c, ctx_r, mask = make_context([2, 0, 1], n_slots=2)  # user 1 has no labels yet
    M, D = 4, model.cfg.embed_dim
    new_c, new_r = torch.randn(B, M, D), torch.randn(B, M, D)
    z = model.lookahead_z(ctx_c, ctx_r, mask, new_c, new_r)
    assert z.shape == (B, M, model.cfg.z_dim)
    model.eval()
    for b in range(B):
        real = mask[b]
        for m in range(M):
            c = torch.cat([ctx_c[b, real], new_c[b, m:m + 1]])[None]  # [1, C_b + 1, D]
            r = torch.cat([ctx_r[b, real], new_r[b, m:m + 1]])[None]
            expected = model.posterior(c, r, torch.ones(c.shape[:2], dtype=torch.bool)).z[0]
            assert torch.allclose(z[b, m], expected, atol=1e-5), (b, m)


def test_lookahead_z_errors(make_model, make_context):
    model = make_model("spl")
    ctx_c, ctx_r, mask = make_context([2, 1, 1])
    D = model.cfg.embed_dim
    with pytest.raises(ShapeError, match="inconsistent M"):
        model.lookahead_z(ctx_c, ctx_r, mask, torch.randn(B, 4, D), torch.randn(B, 3, D))
    with pytest.raises(ShapeError, match="mask must be a bool tensor"):
        model.lookahead_z(ctx_c, ctx_r, mask.float(), torch.randn(B, 4, D), torch.randn(B, 4, D))
    with pytest.raises(ValueError, match="oracle has no encoder"):
        make_model("oracle").lookahead_z(ctx_c, ctx_r, mask, torch.randn(B, 4, D),
                                         torch.randn(B, 4, D))


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_reward_grid_equals_reward_on_copies(kind, make_model):
    model = make_model(kind).eval()
    x, z = torch.randn(N, model.cfg.embed_dim), torch.randn(7, model.cfg.z_dim)
    expected = model.reward(x.expand(7, N, -1), z)
    assert torch.allclose(model.reward_grid(x, z), expected, atol=1e-5)
    with pytest.raises(ShapeError, match="x"):
        model.reward_grid(x[None], z)


@pytest.mark.parametrize("kind", ["spl", "vpl", "ivpl", "btl"])
def test_posterior_reward_and_sample_z_shapes(kind, make_model, make_context):
    model = make_model(kind).eval()
    Z = model.cfg.z_dim
    ctx_c, ctx_r, mask = make_context([2, 3, 1])
    post = model.posterior(ctx_c, ctx_r, mask)
    for name in ("mean", "logvar", "z", "au_vector"):
        assert getattr(post, name).shape == (B, Z), name
    assert post.log_q.shape == (B,)
    assert model.sample_z(ctx_c, ctx_r, mask, n=7).shape == (B, 7, Z)
    rewards = model.reward(torch.randn(B, N, model.cfg.embed_dim), post.z)
    assert rewards.shape == (B, N) and rewards.dtype == torch.float32


def test_btl_has_an_empty_latent_and_scores_every_user_alike(make_model, make_batch):
    model = make_model("btl").eval()
    batch = make_batch(lengths=(2, 1, 3))
    post = model.posterior(batch.ctx_chosen, batch.ctx_rejected, batch.ctx_mask)
    assert post.z.shape == (B, 0)
    x = torch.randn(1, N, model.cfg.embed_dim).expand(B, -1, -1)
    rewards = model.reward(x, post.z)
    torch.testing.assert_close(rewards, rewards[:1].expand(B, N))
    assert model.margins(batch).shape == (B, N)


def test_oracle_reads_the_true_user_features(make_model, make_batch):
    model = make_model("oracle").eval()
    batch = make_batch()
    assert model.margins(batch).shape == (B, N)
    assert model.reward(batch.chosen, batch.user_features).shape == (B, N)
    with pytest.raises(ValueError, match="user_features"):
        model.margins(dataclasses.replace(batch, user_features=None))
    with pytest.raises(ValueError, match="oracle"):
        model.posterior(batch.ctx_chosen, batch.ctx_rejected, batch.ctx_mask)


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_margins_are_reward_chosen_minus_reward_rejected(kind, make_model, make_batch):
    model = make_model(kind).eval()
    batch = make_batch()
    if kind == "oracle":
        z = batch.user_features
    else:
        z = model.posterior(batch.ctx_chosen, batch.ctx_rejected, batch.ctx_mask).z
    expected = model.reward(batch.chosen, z) - model.reward(batch.rejected, z)
    torch.testing.assert_close(model.margins(batch), expected)


# -- train vs eval --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", LATENT_KINDS)
def test_eval_z_is_deterministic_and_train_z_is_a_sample(kind, make_model, make_context):
    model = make_model(kind)
    ctx = make_context([2, 3, 1])
    model.eval()
    first, second = model.posterior(*ctx), model.posterior(*ctx)
    assert torch.equal(first.z, second.z)
    assert not torch.equal(model.sample_z(*ctx, n=2)[:, 0], model.sample_z(*ctx, n=2)[:, 0])
    model.train()
    assert not torch.equal(model.posterior(*ctx).z, model.posterior(*ctx).z)
    assert torch.equal(model.posterior(*ctx).mean, first.mean), "the base mean does not depend on the mode"


@pytest.mark.parametrize("kind", LATENT_KINDS)
def test_eval_z_is_the_mean_pushed_through_the_flow(kind, make_model, make_context):
    """eps = 0 in eval mode: z = mean without a flow, flow(mean) with one."""
    model = make_model(kind).eval()
    ctx = make_context([2, 3])
    post = model.posterior(*ctx)
    if model.flow is None:
        assert torch.equal(post.z, post.mean) and torch.equal(post.au_vector, post.mean)
    else:
        _, _, c_shift, c_scale, _, _ = model._base(*ctx, with_swap=False)
        pushed = model.flow(post.mean, c_shift, c_scale)  # eps = 0: z0 is the mean itself
        torch.testing.assert_close(post.z, pushed.z, rtol=0, atol=0)
        torch.testing.assert_close(post.au_vector, pushed.shift, rtol=0, atol=0)
        assert not torch.equal(post.z, post.mean), "the flow moves the mean"
        assert post.au_vector.abs().max() <= 1


# -- errors ---------------------------------------------------------------------------------


def _message(excinfo) -> str:
    return str(excinfo.value)


@pytest.mark.parametrize("kind", LATENT_KINDS + ["btl"])
def test_wrong_embedding_width_names_expected_and_actual_shapes(kind, make_model):
    model = make_model(kind)
    D = model.cfg.embed_dim
    good, bad = torch.randn(2, 3, D), torch.randn(2, 3, D + 1)
    mask = torch.ones(2, 3, dtype=torch.bool)
    with pytest.raises(ShapeError) as excinfo:
        model.posterior(bad, good, mask)
    assert f"[B, C, {D}]" in _message(excinfo) and f"[2, 3, {D + 1}]" in _message(excinfo)
    with pytest.raises(ShapeError, match=re.escape(f"[B, N, {D}]")):
        model.reward(torch.randn(2, 5, D + 1), torch.zeros(2, model.cfg.z_dim))


@pytest.mark.parametrize(
    "change, expected",
    [
        ("z_width", "[B, 4]"),  # z must be [B, Z]
        ("z_batch", "inconsistent B"),
        ("x_rank", "[B, N, 6]"),
    ],
)
def test_reward_shape_errors(change, expected, make_model):
    model = make_model("vpl")
    x, z = torch.randn(2, 5, 6), torch.randn(2, 4)
    if change == "z_width":
        z = torch.randn(2, 3)
    elif change == "z_batch":
        z = torch.randn(3, 4)
    else:
        x = torch.randn(10, 6)
    with pytest.raises(ShapeError, match=re.escape(expected)) as excinfo:
        model.reward(x, z)
    assert "got" in _message(excinfo)


def test_context_shape_errors(make_model, make_context):
    model = make_model("spl")
    ctx_c, ctx_r, mask = make_context([2, 3])
    with pytest.raises(ShapeError, match=r"inconsistent C.*\[3, 4\]"):
        model.posterior(ctx_c, ctx_r, torch.ones(2, 4, dtype=torch.bool))
    with pytest.raises(ShapeError, match=r"inconsistent B"):
        model.posterior(ctx_c, ctx_r[:1], mask[:1])
    with pytest.raises(ShapeError, match="bool"):
        model.posterior(ctx_c, ctx_r, mask.float())
    with pytest.raises(ShapeError, match=re.escape("[B, C]")):
        model.posterior(ctx_c, ctx_r, mask[0])


@pytest.mark.parametrize("kind", ["spl", "vpl", "ivpl"])
def test_a_user_without_context_pairs_gets_the_prior(make_model, make_context, kind):
    """k = 0 answers: base posterior N(0, I), flow contexts 0, and the other users untouched."""
    model = make_model(kind).eval()
    ctx_c, ctx_r, mask = make_context([2, 3, 1])
    alone = model.posterior(ctx_c[[0, 2]], ctx_r[[0, 2]], mask[[0, 2]])
    mask[1] = False
    post = model.posterior(ctx_c, ctx_r, mask)
    assert torch.equal(post.mean[1], torch.zeros(Z)) and torch.equal(post.logvar[1], torch.zeros(Z))
    torch.testing.assert_close(post.z[[0, 2]], alone.z)  # the empty row changes no one else
    no_pairs = model.posterior(ctx_c[:, :0], ctx_r[:, :0], mask[:, :0])  # C = 0 for everyone
    torch.testing.assert_close(no_pairs.z, post.z[1].expand(3, -1))  # one prior latent for all
    if model.flow is None:
        assert torch.equal(post.z[1], torch.zeros(Z))
    else:  # eval mode: z = the flow's image of 0 with both contexts 0
        pushed = model.flow(torch.zeros(1, Z), no_pairs_ctx(model), no_pairs_ctx(model)).z
        torch.testing.assert_close(post.z[1:2], pushed)
    torch.manual_seed(0)
    samples = model.sample_z(ctx_c, ctx_r, mask, n=4000)[1]  # [n, Z]
    assert torch.isfinite(samples).all()
    if model.flow is None:
        assert samples.mean().abs() < 0.05 and (samples.std(0) - 1).abs().max() < 0.05
    terms = model.train().loss(PreferenceBatch(ctx_c, ctx_r, mask, torch.randn(3, 2, D),
                                               torch.randn(3, 2, D)))
    assert all(torch.isfinite(t) for t in terms.values())


def no_pairs_ctx(model):
    """The zero flow context of the right width for one user."""
    split = model.cfg.kind == "spl" and model.cfg.split_context
    return torch.zeros(1, Z // 2 if split else Z)


def test_chosen_and_rejected_must_match(make_model, make_batch):
    model = make_model("vpl")
    batch = make_batch()
    bad = dataclasses.replace(batch, rejected=batch.rejected[:, :2])
    with pytest.raises(ShapeError, match=r"chosen \[3, 5, 6\] and rejected \[3, 2, 6\]"):
        model.margins(bad)


# -- ModelConfig ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "values, message",
    [
        ({"kind": "spl", "latent_dim": 5}, "latent_dim=5 is odd"),
        ({"kind": "gpt"}, "not a model kind"),
        ({"embed_dim": 0}, "embed_dim=0 must be a positive integer"),
        ({"kind": "vpl", "latent_dim": 0}, "latent_dim=0 must be >= 1"),
        ({"kind": "ivpl", "latent_dim": 1}, "latent_dim >= 2"),
        ({"n_flows": -1}, "n_flows=-1"),
        ({"beta": -1e-3}, "beta=-0.001 must be >= 0"),
        ({"anneal_steps": 0}, "anneal_steps=0"),
    ],
)
def test_config_validation_says_what_is_wrong(values, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        ModelConfig(**values)


def test_valid_edge_configs():
    assert ModelConfig(kind="vpl", latent_dim=5).z_dim == 5, "odd Z is fine without halves"
    assert ModelConfig(kind="btl", latent_dim=0).z_dim == 0
    assert not ModelConfig(kind="ivpl", latent_dim=1, n_flows=0).uses_flow


def test_config_round_trips_and_refuses_unknown_keys():
    cfg = ModelConfig(kind="ivpl", embed_dim=8, latent_dim=6, beta=1e-3)
    assert ModelConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError, match=r"unknown ModelConfig fields \['dropout'\]"):
        ModelConfig.from_dict({**cfg.to_dict(), "dropout": 0.1})


def test_repr_names_the_kind_and_sizes():
    torch.manual_seed(0)
    model = build_model(ModelConfig(kind="spl", embed_dim=8, latent_dim=4, hidden_dim=16))
    assert repr(model).startswith("RewardModel(kind=spl, D=8, Z=4, H=16, flows=2, params=")


# -- every number by hand -------------------------------------------------------------------
# posterior, reward and loss recomputed from the model's parts and the papers' formulas, so a
# wrong wire between the parts (which context feeds which flow net, which decoder a kind gets,
# the evidence's scale, the guide's users, the loss weights) changes a number these check.

LOG_2PI = math.log(2 * math.pi)


def _lrelu(x: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.leaky_relu(x, 0.2)


def _posterior_by_hand(model, c: torch.Tensor, r: torch.Tensor) -> dict[str, torch.Tensor]:
    """One user's eval-mode posterior from their real pairs ``c, r [C, D]``."""
    cfg, enc, ones = model.cfg, model.set_encoder, torch.ones(1, c.shape[0], dtype=torch.bool)
    if cfg.kind == "spl":
        g_c, g_r = model.tokenizer.g(c), model.tokenizer.g(r)  # [C, Z/2]
        tokens, swapped = torch.cat([g_c, g_r], -1), torch.cat([g_r, g_c], -1)
        diff, summed = ((g_c - g_r) / 2).mean(0), ((g_c + g_r) / 2).mean(0)
    else:
        tokens = model.tokenizer.net(torch.cat([c, r], -1))  # [C, Z]
        swapped = None
        diff = (tokens - model.tokenizer.net(torch.cat([r, c], -1))).mean(0) / 2
    ev = None if model.evidence is None else model.evidence(diff)[None]
    mean, logvar, pooled = enc(tokens[None], ones, ev)
    out = {"mean": mean[0], "logvar": logvar[0]}
    if swapped is not None:
        mean_s, logvar_s, _ = enc(swapped[None], ones, None if ev is None else -ev)
        out.update(mean_swap=mean_s[0], logvar_swap=logvar_s[0])
    log_q0 = -0.5 * (LOG_2PI + logvar[0]).sum()  # log N(mean; mean, exp(logvar))
    if model.flow is None:
        out.update(z=mean[0], log_q=log_q0, au_vector=mean[0])
        return out
    if cfg.kind == "spl" and cfg.split_context:
        shift_ctx, scale_ctx = diff, summed
    else:
        shift_ctx = scale_ctx = pooled[0]
    z, log_det, shift = model.flow(mean[0], shift_ctx, scale_ctx)
    out.update(z=z, log_q=log_q0 - log_det, au_vector=shift)
    return out


def _reward_by_hand(model, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """r(x [N, D], z [Z]) -> [N]: FiLM for SPL (unless film=False), the concat MLP otherwise."""
    dec = model.decoder
    xz = torch.cat([x, z.expand(x.shape[0], -1)], -1)
    h = _lrelu(torch.nn.functional.linear(xz, dec.first.weight, dec.first.bias))
    h = _lrelu(dec.second(h))
    if model.cfg.kind == "spl" and model.cfg.film:
        raw_gamma, raw_beta = dec.film_out(_lrelu(dec.film_hidden(z))).chunk(2, -1)
        h = _lrelu((1 + 0.5 * torch.tanh(raw_gamma)) * h + 0.5 * torch.tanh(raw_beta))
    out = dec.out(h).squeeze(-1)
    if model.latent_head is not None:
        out = out + model.latent_head(x) @ z
    return out


VARIANTS = [("spl", {}), ("spl", {"split_context": False}), ("spl", {"film": False}),
            ("spl", {"evidence_mean": True, "mean_bound": 5.0}), ("vpl", {}),
            ("vpl", {"evidence_mean": True, "mean_bound": 5.0}), ("ivpl", {}),
            ("spl", {"n_flows": 0})]


@pytest.mark.parametrize("kind, overrides", VARIANTS)
def test_posterior_and_rewards_by_hand(kind, overrides, make_model, make_context):
    model = make_model(kind, seed=4, **overrides).eval()
    ctx_c, ctx_r, mask = make_context([2, 3, 1], seed=5)
    post = model.posterior(ctx_c, ctx_r, mask, with_swap=True)
    assert (model.decoder.__class__.__name__ == "FiLMDecoder") == (
        kind == "spl" and overrides.get("film", True))
    assert (model.evidence is not None) == bool(overrides.get("evidence_mean"))
    x = torch.randn(B, N, D)
    rewards = model.reward(x, post.z)
    for b in range(B):
        real = mask[b]
        expected = _posterior_by_hand(model, ctx_c[b, real], ctx_r[b, real])
        for name, value in expected.items():
            torch.testing.assert_close(getattr(post, name)[b], value, atol=1e-5, rtol=1e-5,
                                       msg=lambda m, name=name: f"{name}, user {b}: {m}")
        if kind != "spl":
            assert post.mean_swap is None and post.logvar_swap is None
        torch.testing.assert_close(rewards[b], _reward_by_hand(model, x[b], post.z[b]),
                                   atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("kind, overrides", [("spl", {}), ("spl", {"evidence_mean": True}),
                                             ("ivpl", {"n_flows": 0}), ("vpl", {}),
                                             ("ivpl", {})])
@pytest.mark.parametrize("step", [None, 0, 30])
def test_loss_terms_by_hand(kind, overrides, step, make_model, make_batch):
    """total = bt + beta * a(step) * kl + guide_weight * guide, each term by hand (eval mode:
    z is the deterministic point, so every number is exact); user 1 has no context pair and
    is left out of the guide, and the second target pair of user 0 is padding."""
    settings = dict(beta=0.3, guide_weight=0.7, eta=0.4, anneal_steps=40, free_nats=0.0)
    model = make_model(kind, seed=2, **settings, **overrides).eval()
    batch = dataclasses.replace(make_batch(lengths=(2, 0, 3), n_pairs=3, seed=6),
                                pair_mask=torch.tensor([[True, False, True]] + [[True] * 3] * 2))
    terms = model.loss(batch, step)
    weight = 1.0 if step is None else 0.1 + 0.9 * (1 - math.cos(math.pi * step / 40)) / 2
    assert terms["kl_weight"].item() == pytest.approx(weight)
    post = model.posterior(batch.ctx_chosen, batch.ctx_rejected, batch.ctx_mask, with_swap=True)
    margins = torch.stack([
        _reward_by_hand(model, batch.chosen[b], post.z[b])
        - _reward_by_hand(model, batch.rejected[b], post.z[b]) for b in range(B)])
    losses = -torch.nn.functional.logsigmoid(margins)
    bt = losses[batch.pair_mask].mean()
    if model.flow is None:  # closed form KL(N(mean, exp(logvar)) || N(0, I))
        kl = 0.5 * (post.logvar.exp() + post.mean ** 2 - 1 - post.logvar).sum(-1)
    else:  # one-sample estimate log q(z) - log N(z; 0, I)
        kl = post.log_q + 0.5 * (LOG_2PI + post.z ** 2).sum(-1)
    guide = torch.tensor(0.0)
    if kind == "spl":
        cos = torch.nn.functional.cosine_similarity
        has = [0, 2]  # user 1 has no swap to be guided by
        direction = (1 + cos(post.mean[has], post.mean_swap[has], eps=1e-12)) / 2
        spread = (1 - cos(post.logvar[has], post.logvar_swap[has], eps=1e-12)) / 2
        guide = (direction + 0.4 * spread).mean()
    torch.testing.assert_close(terms["bt"], bt, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(terms["kl"], kl.mean(), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(terms["guide"], guide, atol=1e-5, rtol=1e-5)
    expected = bt + 0.3 * weight * kl.mean() + 0.7 * guide
    torch.testing.assert_close(terms["total"], expected, atol=1e-5, rtol=1e-5)
    if kind == "spl":
        assert guide.item() > 1e-3, "the guide term must be there to be checked"
        no_guide = make_model(kind, seed=2, **settings, **overrides, guide=False).eval()
        assert no_guide.loss(batch, step)["guide"].item() == 0.0


def test_btl_and_the_oracle_have_no_kl_and_no_guide(make_model, make_batch):
    for kind in ("btl", "oracle"):
        model = make_model(kind, beta=1.0, guide_weight=1.0).eval()
        batch = make_batch()
        terms = model.loss(batch)
        assert terms["kl"].item() == 0.0 and terms["guide"].item() == 0.0
        assert terms["total"].item() == terms["bt"].item() > 0


@pytest.mark.parametrize("kind", LATENT_KINDS)
def test_a_user_without_context_passes_finite_gradients(kind, make_model, make_batch):
    """The empty user's stand-in pair keeps the attention finite: NaN there would reach every
    encoder weight through the backward pass even though its output is replaced by 0."""
    model = make_model(kind)
    batch = make_batch(lengths=(2, 0, 3))
    model.loss(batch, 5)["total"].backward()
    for name, p in model.named_parameters():
        assert p.grad is None or torch.isfinite(p.grad).all(), name


def test_posterior_and_batch_are_frozen_and_batches_move_whole(make_model, make_batch):
    batch = make_batch()
    with pytest.raises(dataclasses.FrozenInstanceError):
        batch.chosen = batch.rejected  # type: ignore[misc]
    moved = batch.to("cpu")
    for f in dataclasses.fields(batch):
        a, b = getattr(batch, f.name), getattr(moved, f.name)
        assert (a is None and b is None) or torch.equal(a, b), f.name
    assert moved.pair_mask is None and moved.user_features is not None
    post = make_model("vpl").posterior(batch.ctx_chosen, batch.ctx_rejected, batch.ctx_mask)
    with pytest.raises(dataclasses.FrozenInstanceError):
        post.z = post.mean  # type: ignore[misc]


@pytest.mark.parametrize("kind", LATENT_KINDS)
def test_a_training_sample_is_mean_plus_sd_times_the_drawn_noise(kind, make_model, make_context):
    """Training mode: z0 = mean + exp(logvar / 2) * eps with eps ~ N(0, I) the next draw of
    torch's RNG, pushed through the flow; log_q = log N(z0; mean, exp(logvar)) - log|det|."""
    model = make_model(kind, seed=1).train()
    ctx = make_context([2, 3, 1], seed=3)
    torch.manual_seed(11)
    post = model.posterior(*ctx)
    torch.manual_seed(11)
    eps = torch.randn_like(post.mean)
    assert eps.abs().max() > 0.5 and (post.logvar.abs() > 1e-3).any()
    z0 = post.mean + torch.exp(post.logvar / 2) * eps
    log_q0 = -0.5 * (LOG_2PI + post.logvar + eps ** 2).sum(-1)
    if model.flow is None:
        torch.testing.assert_close(post.z, z0, rtol=0, atol=1e-6)
        torch.testing.assert_close(post.log_q, log_q0, rtol=1e-5, atol=1e-5)
    else:
        _, _, c_shift, c_scale, _, _ = model._base(*ctx, with_swap=False)
        pushed = model.flow(z0, c_shift, c_scale)
        torch.testing.assert_close(post.z, pushed.z, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(post.log_q, log_q0 - pushed.log_det, rtol=1e-5, atol=1e-5)


def test_lookahead_z_checks_every_shape(make_model, make_context):
    model = make_model("spl")
    ctx_c, ctx_r, mask = make_context([2, 1, 1])
    new = torch.randn(B, 4, D)
    with pytest.raises(ShapeError, match="inconsistent B"):
        model.lookahead_z(ctx_c, ctx_r, mask, new[:2], new[:2])
    with pytest.raises(ShapeError, match="inconsistent C"):
        model.lookahead_z(ctx_c, ctx_r[:, :1], mask, new, new)
    with pytest.raises(ShapeError, match=re.escape(f"[B, M, {D}]")):
        model.lookahead_z(ctx_c, ctx_r, mask, new[..., :3], new)
    assert make_model("btl").lookahead_z(ctx_c, ctx_r, mask, new, new).shape == (B, 4, 0)


@pytest.mark.parametrize("kind", LATENT_KINDS)
def test_sample_z_is_mean_plus_sd_times_the_drawn_noise(kind, make_model, make_context):
    """``sample_z`` draws eps ``[B, n, Z]`` from torch's RNG: z = flow(mean + exp(logvar/2) eps)."""
    model = make_model(kind, seed=2).eval()
    ctx = make_context([2, 3, 1], seed=4)
    torch.manual_seed(9)
    samples = model.sample_z(*ctx, n=5)
    torch.manual_seed(9)
    eps = torch.randn(B, 5, Z)
    post = model.posterior(*ctx)
    z0 = post.mean[:, None] + torch.exp(post.logvar[:, None] / 2) * eps
    if model.flow is not None:
        _, _, c_shift, c_scale, _, _ = model._base(*ctx, with_swap=False)
        z0 = model.flow(z0, c_shift[:, None].expand(B, 5, -1), c_scale[:, None].expand(B, 5, -1)).z
    torch.testing.assert_close(samples, z0, rtol=1e-5, atol=1e-6)
    with pytest.raises(ShapeError, match="bool"):
        model.sample_z(ctx[0], ctx[1], ctx[2].float(), n=2)


@pytest.mark.parametrize("kind", ["spl", "vpl"])
def test_a_double_precision_latent_scores_like_its_float_copy(kind, make_model):
    """The app keeps latents in float64; ``reward`` and ``reward_grid`` cast them to x's dtype."""
    model = make_model(kind).eval()
    x, z = torch.randn(2, N, D), torch.randn(2, Z)
    torch.testing.assert_close(model.reward(x, z.double()), model.reward(x, z))
    torch.testing.assert_close(model.reward_grid(x[0], z.double()), model.reward_grid(x[0], z))
    with pytest.raises(ShapeError, match=re.escape(f"[S, {Z}]")):
        model.reward_grid(x[0], z[:, :3])


def test_a_zero_guide_weight_skips_the_guide_and_its_swap_pass(make_model, make_batch):
    model = make_model("spl", guide_weight=0.0).eval()
    calls = []
    handle = model.set_encoder.register_forward_hook(lambda *_: calls.append(1))
    terms = model.loss(make_batch())
    handle.remove()
    assert terms["guide"].item() == 0.0 and len(calls) == 1, "no swapped encoder pass"


def test_model_config_defaults_are_the_papers_settings():
    """SPL's published recipe (SPL.md): D = 384, Z = H = 1024, 2 flows, beta 3e-6, guide
    weight 1e-5, eta 0.1, 1 free nat, annealing period 10k, AU threshold 0.005, every SPL
    part on, orderings seed 0, mean pooling, no input dropout, an MLP reward, mean in [-1, 1], log-variance in
    [-1, 1]."""
    assert ModelConfig() == ModelConfig(
        kind="spl", embed_dim=384, latent_dim=1024, hidden_dim=1024, n_flows=2, beta=3e-6,
        guide_weight=1e-5, eta=0.1, free_nats=1.0, anneal_steps=10_000, au_threshold=0.005,
        guide=True, split_context=True, film=True, flow_seed=0, pooling="mean",
        latent_head=False, evidence_mean=False, input_dropout=0.0, linear_reward=False,
        mean_bound=1.0, logvar_min=-1.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        ModelConfig().beta = 1.0  # type: ignore[misc]


@pytest.mark.parametrize("values", [
    {"embed_dim": 1, "hidden_dim": 1}, {"kind": "btl", "latent_dim": 0}, {"kind": "spl", "latent_dim": 2},
    {"kind": "ivpl", "latent_dim": 2}, {"kind": "ivpl", "latent_dim": 1, "n_flows": 0},
    {"kind": "vpl", "latent_dim": 1}, {"n_flows": 0}, {"anneal_steps": 1},
    {"logvar_min": -20.0}, {"logvar_min": 1.0}, {"mean_bound": 1e-3}, {"pooling": "sum"},
    {"beta": 0.0, "guide_weight": 0.0, "eta": 0.0, "free_nats": 0.0, "au_threshold": 0.0},
    {"linear_reward": True}, {"kind": "btl", "linear_reward": True},
    {"kind": "vpl", "linear_reward": True, "latent_head": True},
    {"film": False, "linear_reward": True, "latent_head": True},
])
def test_config_edges_that_are_valid(values):
    ModelConfig(**values)


@pytest.mark.parametrize("values, message", [
    ({"hidden_dim": 0}, "hidden_dim=0 must be a positive integer"),
    ({"kind": "oracle", "latent_dim": 0}, "latent_dim=0 must be >= 1 for kind='oracle'"),
    ({"logvar_min": -20.5}, "logvar_min=-20.5 must be in [-20, 1]"),
    ({"logvar_min": 1.5}, "logvar_min=1.5 must be in [-20, 1]"),
    ({"mean_bound": 0.0}, "mean_bound=0.0 must be > 0"),
    ({"guide_weight": -1.0}, "guide_weight=-1.0 must be >= 0"),
    ({"eta": -1.0}, "eta=-1.0 must be >= 0"),
    ({"free_nats": -1.0}, "free_nats=-1.0 must be >= 0"),
    ({"au_threshold": -1.0}, "au_threshold=-1.0 must be >= 0"),
    ({"kind": "spl", "latent_dim": 3}, "use an even latent_dim such as 4"),
    ({"kind": "vpl", "linear_reward": True}, "linear_reward=True with kind='vpl'"),
    ({"kind": "spl", "film": False, "linear_reward": True}, "the model would be BTL"),
    ({"kind": "oracle", "linear_reward": True, "latent_head": True}, "kind='oracle'"),
])
def test_config_refusals_name_the_field(values, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        ModelConfig(**values)


def test_config_properties_per_kind():
    rows = {kind: (c.has_latent, c.uses_flow, c.uses_free_nats, c.z_dim)
            for kind in ALL_KINDS for c in [ModelConfig(kind=kind, latent_dim=4)]}
    assert rows == {"spl": (True, True, True, 4), "vpl": (True, False, False, 4),
                    "ivpl": (True, True, True, 4), "btl": (False, False, False, 0),
                    "oracle": (False, False, False, 4)}
    assert not ModelConfig(kind="spl", latent_dim=4, n_flows=0).uses_flow
    assert ModelConfig(kind="ivpl", latent_dim=4, n_flows=1).uses_flow  # one layer is a flow
    assert ModelConfig(kind="spl", latent_dim=4, n_flows=0).uses_free_nats
    assert ModelConfig().to_dict()["kind"] == "spl" and len(ModelConfig().to_dict()) == 22
