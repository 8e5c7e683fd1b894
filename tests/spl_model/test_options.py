"""The personalization options of issue 14: sum pooling and the linear latent head."""

from __future__ import annotations

import pytest
import torch

from spl_fixtures import D, Z, random_context, tiny_model


@pytest.mark.parametrize("kind", ["spl", "vpl", "ivpl"])
def test_sum_pooling_adds_up_evidence(kind: str) -> None:
    """Answering the same pair twice doubles the pooled evidence with sum pooling; with mean
    pooling (the paper) it changes nothing."""
    ctx_c, ctx_r, mask = random_context([1])
    twice = (ctx_c.repeat(1, 2, 1), ctx_r.repeat(1, 2, 1), mask.repeat(1, 2))
    for pooling, same in (("mean", True), ("sum", False)):
        model = tiny_model(kind, pooling=pooling, mean_bound=100.0).eval()
        once, double = model.posterior(ctx_c, ctx_r, mask), model.posterior(*twice)
        assert torch.allclose(once.mean, double.mean, atol=1e-6) is same
        if pooling == "sum":
            bias = model.set_encoder.to_mean.bias
            torch.testing.assert_close(double.mean - bias, 2 * (once.mean - bias), atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("kind", ["spl", "vpl"])
def test_latent_head_adds_z_dot_ux(kind: str) -> None:
    plain = tiny_model(kind, seed=3).eval()
    headed = tiny_model(kind, seed=3, latent_head=True).eval()
    headed.load_state_dict({**plain.state_dict(), "latent_head.weight": torch.randn(Z, D)})
    x, z = torch.randn(2, 5, D), torch.randn(2, Z)
    expected = plain.reward(x, z) + torch.einsum("bnz,bz->bn", headed.latent_head(x), z)
    torch.testing.assert_close(headed.reward(x, z), expected)
    # reward_grid scores one response set under many latents the same way
    torch.testing.assert_close(headed.reward_grid(x[0], z), headed.reward(x[0].expand(2, 5, D), z))
    assert tiny_model("btl", latent_head=True).latent_head is None  # nothing to steer


def test_bad_pooling_is_refused() -> None:
    from spl_model import ModelConfig

    with pytest.raises(ValueError, match="pooling"):
        ModelConfig(pooling="max")


@pytest.mark.parametrize("kind", ["spl", "vpl", "ivpl"])
def test_evidence_mean_turns_with_a_swapped_answer(kind: str) -> None:
    """The evidence term is antisymmetric: swapping every answer negates it, so with an
    otherwise zero mean the posterior mean flips sign exactly."""
    model = tiny_model(kind, evidence_mean=True, mean_bound=100.0).eval()
    torch.nn.init.zeros_(model.set_encoder.to_mean.weight)
    torch.nn.init.zeros_(model.set_encoder.to_mean.bias)
    ctx_c, ctx_r, mask = random_context([3, 2])
    mean = model.posterior(ctx_c, ctx_r, mask).mean
    swapped = model.posterior(ctx_r, ctx_c, mask).mean
    assert mean.abs().max() > 1e-3
    torch.testing.assert_close(swapped, -mean)
    # the look-ahead path (one more answer for M alternatives) agrees with posterior()
    new_c, new_r = torch.randn(2, 3, D), torch.randn(2, 3, D)
    ahead = model.lookahead_z(ctx_c, ctx_r, mask, new_c, new_r)
    for m in range(3):
        full = model.posterior(torch.cat([ctx_c, new_c[:, m:m + 1]], 1),
                               torch.cat([ctx_r, new_r[:, m:m + 1]], 1),
                               torch.cat([mask, torch.ones(2, 1, dtype=torch.bool)], 1)).z
        torch.testing.assert_close(ahead[:, m], full, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("kind", ["spl", "vpl", "btl"])
def test_input_dropout_drops_response_features_in_training_only(kind: str) -> None:
    """With input_dropout = p the training-mode reward reads x with features zeroed (kept ones
    scaled by 1 / (1 - p), as F.dropout does); eval mode, and p = 0 in either mode, read x as
    is and draw no random numbers."""
    x, z = torch.randn(2, 5, D), torch.randn(2, Z if kind != "btl" else 0)
    plain = tiny_model(kind, seed=4)
    dropped = tiny_model(kind, seed=4, input_dropout=0.5)
    plain.train()
    dropped.train()
    torch.manual_seed(7)
    got = dropped.reward(x, z)
    torch.manual_seed(7)
    keep = torch.nn.functional.dropout(torch.ones_like(x), 0.5)  # the same mask, scaled by 2
    assert 0 < (keep == 0).float().mean() < 1
    torch.testing.assert_close(got, plain.reward(x * keep, z))
    dropped.eval()
    torch.testing.assert_close(dropped.reward(x, z), plain.eval().reward(x, z))
    plain.train()
    state = torch.get_rng_state()
    plain.reward(x, z)
    assert torch.equal(torch.get_rng_state(), state)  # p = 0 consumes no randomness
    with pytest.raises(ValueError, match="input_dropout"):
        tiny_model(kind, input_dropout=1.0)


@pytest.mark.parametrize("kind", ["spl", "vpl", "btl"])
def test_linear_reward_builds_the_one_layer_decoder(kind: str) -> None:
    """ModelConfig.linear_reward reaches the decoder (FiLM for SPL, concatenation otherwise):
    one layer of width H and a reward affine in the response for every user."""
    model = tiny_model(kind, linear_reward=True, latent_head=kind == "vpl").eval()
    assert model.decoder.second is None and model.decoder.first.out_features == model.cfg.hidden_dim
    a, b = torch.randn(2, 1, D), torch.randn(2, 1, D)
    z = torch.randn(2, model.cfg.z_dim)
    torch.testing.assert_close(model.reward(0.25 * a + 0.75 * b, z),
                               0.25 * model.reward(a, z) + 0.75 * model.reward(b, z))
    assert tiny_model(kind).decoder.second is not None  # the default stays the paper's MLP


def test_the_kind_labels_cannot_be_changed_in_place() -> None:
    """MODEL_KINDS is shared by the CLI help, the model card and the plots: one label each."""
    import dataclasses

    from spl_model.config import MODEL_KINDS

    with pytest.raises(dataclasses.FrozenInstanceError):
        MODEL_KINDS["ivpl"].label = "IVPL"  # type: ignore[misc]
    assert MODEL_KINDS["ivpl"].label == "IAF-VPL"
