"""Reward decoders (SPL.md section 4): FiLM's bounded modulation and the split first layer."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from spl_model.decoders import ConcatDecoder, FiLMDecoder, SplitInputLinear


@pytest.mark.parametrize("z_scale", [1.0, 1e3, 1e6])
def test_film_modulation_stays_bounded_even_for_huge_z(z_scale):
    torch.manual_seed(0)
    decoder = FiLMDecoder(embed_dim=6, z_dim=4, hidden_dim=8)
    z = z_scale * torch.randn(16, 4)
    gamma, beta = decoder.modulation(z)
    assert gamma.shape == beta.shape == (16, 8)  # [B, H]
    # (0.5, 1.5) and (-0.5, 0.5); tanh rounds to exactly +-1 in float32 once saturated
    assert gamma.min() >= 0.5 and gamma.max() <= 1.5
    assert beta.min() >= -0.5 and beta.max() <= 0.5
    if z_scale == 1.0:
        assert gamma.min() > 0.5 and gamma.max() < 1.5 and beta.abs().max() < 0.5
    rewards = decoder(torch.randn(16, 3, 6), z)
    assert rewards.shape == (16, 3) and torch.isfinite(rewards).all()


def test_film_rewards_follow_the_equations():
    """r = w_o . LReLU(gamma * h + beta) + b_o with h = LReLU(W2 LReLU(W1 [x; z]))."""
    torch.manual_seed(0)
    decoder = FiLMDecoder(embed_dim=6, z_dim=4, hidden_dim=8)
    x, z = torch.randn(2, 3, 6), torch.randn(2, 4)
    lrelu = nn.LeakyReLU(0.2)
    xz = torch.cat([x, z[:, None].expand(2, 3, 4)], dim=-1)  # [B, N, D + Z]
    h = lrelu(decoder.second(lrelu(nn.functional.linear(xz, decoder.first.weight, decoder.first.bias))))
    gamma, beta = decoder.modulation(z)
    expected = decoder.out(lrelu(gamma[:, None] * h + beta[:, None])).squeeze(-1)
    torch.testing.assert_close(decoder(x, z), expected)


@pytest.mark.parametrize("z_dim", [0, 4])
def test_split_input_linear_equals_linear_on_the_concatenation(z_dim):
    torch.manual_seed(0)
    split = SplitInputLinear(x_dim=6, z_dim=z_dim, out_dim=5)
    plain = nn.Linear(6 + z_dim, 5)
    plain.load_state_dict(split.state_dict())
    x, z = torch.randn(3, 7, 6), torch.randn(3, z_dim)  # x per response, z per user
    concatenated = torch.cat([x, z[:, None].expand(3, 7, z_dim)], dim=-1)  # [B, N, D + Z]
    torch.testing.assert_close(split(x, z), plain(concatenated))


def test_concat_decoder_without_z_is_a_plain_mlp_on_x():
    """BTL: with Z = 0 every user gets the same rewards."""
    torch.manual_seed(0)
    decoder = ConcatDecoder(embed_dim=6, z_dim=0, hidden_dim=8)
    x = torch.randn(1, 5, 6).expand(3, 5, 6)
    rewards = decoder(x, torch.zeros(3, 0))
    assert rewards.shape == (3, 5)
    torch.testing.assert_close(rewards, rewards[:1].expand(3, 5))


def _lrelu(x):
    return torch.where(x > 0, x, 0.2 * x)


@pytest.mark.parametrize("z_dim", [0, 3])
def test_concat_decoder_by_hand(z_dim):
    """r = w_o . LReLU(W2 LReLU(W1 [x; z] + b1) + b2) + b_o, slope 0.2."""
    torch.manual_seed(0)
    decoder = ConcatDecoder(embed_dim=6, z_dim=z_dim, hidden_dim=8)
    x, z = torch.randn(2, 4, 6) * 3, torch.randn(2, z_dim) * 3
    xz = torch.cat([x, z[:, None].expand(2, 4, z_dim)], dim=-1)
    h = _lrelu(xz @ decoder.first.weight.T + decoder.first.bias)
    h = _lrelu(h @ decoder.second.weight.T + decoder.second.bias)
    expected = (h @ decoder.out.weight.T + decoder.out.bias).squeeze(-1)
    torch.testing.assert_close(decoder(x, z), expected)
    assert [tuple(p.shape) for p in decoder.parameters()] == [
        (8, 6 + z_dim), (8,), (8, 8), (8,), (1, 8), (1,)]


@pytest.mark.parametrize("hidden_dim, half", [(8, 4), (1, 1)])
def test_film_decoder_widths(hidden_dim, half):
    """W1: D+Z -> max(H/2, 1), W2: -> H, W3: Z -> 2H, W4: 2H -> 2H, w_o: H -> 1; and the
    leaky slope 0.2 after the modulation, by hand."""
    torch.manual_seed(0)
    decoder = FiLMDecoder(embed_dim=6, z_dim=4, hidden_dim=hidden_dim)
    shapes = [(m.in_features, m.out_features) for m in (decoder.first, decoder.second,
                                                         decoder.film_hidden, decoder.film_out,
                                                         decoder.out)]
    H = hidden_dim
    assert shapes == [(10, half), (half, H), (4, 2 * H), (2 * H, 2 * H), (H, 1)]
    x, z = torch.randn(2, 3, 6) * 3, torch.randn(2, 4) * 3
    h = _lrelu(decoder.first(x, z))
    h = _lrelu(decoder.second(h))
    gamma, beta = decoder.modulation(z)
    expected = decoder.out(_lrelu(gamma[:, None] * h + beta[:, None])).squeeze(-1)
    torch.testing.assert_close(decoder(x, z), expected)


@pytest.mark.parametrize("decoder_cls", [FiLMDecoder, ConcatDecoder])
def test_linear_decoders_by_hand_and_affine_in_the_response(decoder_cls):
    """linear=True: FiLM r = w_o . (gamma * (W [x; z] + b) + beta) + b_o, concat
    r = w_o . (W [x; z] + b) + b_o; one layer of width H, and for a fixed user the reward of a
    blend of two responses is the same blend of their rewards (no memorising nonlinearity)."""
    torch.manual_seed(0)
    decoder = decoder_cls(embed_dim=6, z_dim=4, hidden_dim=8, linear=True)
    assert decoder.first.out_features == 8 and decoder.second is None
    x, z = torch.randn(2, 3, 6) * 3, torch.randn(2, 4) * 3
    h = decoder.first(x, z)
    if decoder_cls is FiLMDecoder:
        gamma, beta = decoder.modulation(z)
        h = gamma[:, None] * h + beta[:, None]
    torch.testing.assert_close(decoder(x, z), decoder.out(h).squeeze(-1))
    a, b = torch.randn(2, 1, 6) * 3, torch.randn(2, 1, 6) * 3
    blend = decoder(0.3 * a + 0.7 * b, z)
    torch.testing.assert_close(blend, 0.3 * decoder(a, z) + 0.7 * decoder(b, z))
    nonlinear = decoder_cls(embed_dim=6, z_dim=4, hidden_dim=8)
    assert not torch.allclose(nonlinear(0.3 * a + 0.7 * b, z),
                              0.3 * nonlinear(a, z) + 0.7 * nonlinear(b, z))
