"""The personalization options of issue 14: sum pooling and the linear latent head."""

from __future__ import annotations

import pytest
import torch

from conftest import D, Z, random_context, tiny_model


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
