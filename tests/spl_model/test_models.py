"""The public RewardModel API (SPL.md sections 2-4): shapes for every kind, clear errors for
wrong input, deterministic evaluation, and ModelConfig validation."""

from __future__ import annotations

import dataclasses
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
