"""Every number ``evaluate_split`` puts in ``report.json``, pinned on a tiny hand-made split
against a computation that walks the rows one by one (issue 13: an inverted controversial mask,
AU measured on z, KL in eval mode, ``swap`` or ``max_context`` ignored all passed the suite).

The split: 12 users over a 6-dim embedding matrix, 1-3 context pairs each, one target pair
each; the model is a tiny SPL whose decoder is ``x[:Z] . z``, so the sign of a margin is the
latent's (and so the context's) to decide."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from spl_model import ModelConfig, build_model
from spl_model.losses import gaussian_log_prob
from train.batching import EncodedSplit
from train.evaluate import evaluate_split

D, R, C = 6, 12, 3


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def tiny_split() -> tuple[EncodedSplit, torch.Tensor]:
    g = torch.Generator().manual_seed(11)
    n_ctx_texts = 10
    ctx_emb = torch.randn(n_ctx_texts, D, generator=g)
    base, direction = torch.randn(R, D, generator=g), torch.randn(R, D, generator=g)
    emb = torch.cat([ctx_emb, base + 0.3 * direction, base - 0.3 * direction])  # [10 + 2R, D]
    lengths = torch.tensor([1, 2, 3] * 4)
    ctx_c = torch.randint(0, n_ctx_texts, (R, C), generator=g)
    ctx_r = torch.randint(0, n_ctx_texts, (R, C), generator=g)
    mask = torch.arange(C)[None] < lengths[:, None]  # [R, C]
    ctx_c, ctx_r = ctx_c.masked_fill(~mask, 0), ctx_r.masked_fill(~mask, 0)
    split = EncodedSplit(
        name="test", chosen=torch.arange(R) + n_ctx_texts, rejected=torch.arange(R) + n_ctx_texts + R,
        ctx_chosen=ctx_c, ctx_rejected=ctx_r, ctx_mask=mask,
        features=torch.randn(R, 2, generator=g),
        controversial=torch.tensor([i % 4 == 0 or i == 3 for i in range(R)]),
        users=[f"u{i}" for i in range(R)], user_types=["x" if i % 3 else "y" for i in range(R)])
    return split, emb


class LinearReward(torch.nn.Module):
    """r(x, z) = x[:Z] . z: every margin's sign is the latent's to decide."""

    def forward(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return (x[..., : z.shape[1]] * z[:, None, :]).sum(-1)  # [B, N]


def tiny_model():
    """An SPL model (2 flow layers, so the AU vector m_K is not z) with a linear decoder."""
    torch.manual_seed(6)
    model = build_model(ModelConfig(kind="spl", embed_dim=D, latent_dim=4, hidden_dim=8))
    model.decoder = LinearReward()
    return model


def by_hand(model, split: EncodedSplit, emb: torch.Tensor, k: int | None = None,
            swap: bool = False) -> tuple[list[float], torch.Tensor, torch.Tensor]:
    """Row by row, eval mode: margins, z and the au vector, the context cut to its first k
    pairs and/or with chosen and rejected exchanged."""
    model.eval()
    margins, zs, aus = [], [], []
    for i in range(R):
        n = int(split.ctx_mask[i].sum()) if k is None else min(k, int(split.ctx_mask[i].sum()))
        c, r = emb[split.ctx_chosen[i, :n]][None], emb[split.ctx_rejected[i, :n]][None]
        if swap:
            c, r = r, c
        post = model.posterior(c, r, torch.ones(1, n, dtype=torch.bool))
        rc = model.reward(emb[split.chosen[i]][None, None], post.z)
        rr = model.reward(emb[split.rejected[i]][None, None], post.z)
        margins.append((rc - rr).item())
        zs.append(post.z[0])
        aus.append(post.au_vector[0])
    return margins, torch.stack(zs), torch.stack(aus)


def share(flags: list[bool]) -> float:
    return sum(flags) / len(flags)


def n_active(vectors: torch.Tensor, threshold: float) -> int:
    mean = vectors.mean(0)
    variances = ((vectors - mean) ** 2).mean(0)  # the population variance, per unit
    return int((variances > threshold).sum())


@torch.no_grad()
def test_every_report_number_matches_a_row_by_row_computation() -> None:
    split, emb = tiny_split()
    model = tiny_model()
    margins, z, au_vec = by_hand(model, split, emb)
    assert min(abs(m) for m in margins) > 1e-4, "no margin so close to 0 that rounding decides"
    # a threshold between the two vectors' variances, so AU on z and on m_K differ
    au_var, z_var = au_vec.var(0, unbiased=False), z.var(0, unbiased=False)
    low, high = au_var.sort().values[1:3].tolist()
    threshold = (low + high) / 2  # halfway between two variances: 2 of the 4 units are active
    model.cfg = dataclasses.replace(model.cfg, au_threshold=threshold)
    expected_au, expected_au_z = n_active(au_vec, threshold), n_active(z, threshold)
    assert expected_au != expected_au_z, (au_var, z_var)

    model.train()  # evaluate_split switches to eval mode itself, and back afterwards
    rng = torch.get_rng_state()
    metrics = evaluate_split(model, split, emb).metrics
    assert model.training
    assert torch.equal(torch.get_rng_state(), rng), "the KL's seeded draws leave the RNG as it was"

    right = [m > 0 for m in margins]
    contro = split.controversial.tolist()
    assert metrics["n_pairs"] == R
    assert metrics["accuracy"] == pytest.approx(share(right))
    expected_contro = share([ok for ok, c in zip(right, contro) if c])
    expected_agreed = share([ok for ok, c in zip(right, contro) if not c])
    assert expected_contro != expected_agreed  # so an inverted mask shows
    assert metrics["accuracy_controversial"] == pytest.approx(expected_contro)
    assert metrics["accuracy_agreed"] == pytest.approx(expected_agreed)
    assert metrics["accuracy_by_user"] == pytest.approx({
        t: share([ok for ok, u in zip(right, split.user_types) if u == t]) for t in ("x", "y")})

    assert metrics["active_units"] == expected_au
    assert metrics["active_units_share"] == pytest.approx(expected_au / 4)
    assert metrics["active_units_z"] == expected_au_z
    assert metrics["au_vector"] == "last flow shift m_K" and metrics["au_threshold"] == threshold

    swapped, _, _ = by_hand(model, split, emb, swap=True)
    flips = [(a > 0) != (b > 0) for a, b in zip(margins, swapped)]
    assert 0 < share(flips) < 1
    assert metrics["swap_flip_rate"] == pytest.approx(share(flips))

    curve = {str(k): share([m > 0 for m in by_hand(model, split, emb, k=k)[0]])
             for k in range(1, C + 1)}
    assert len(set(curve.values())) > 1, "the curve must not be flat on this split"
    assert curve[str(C)] == pytest.approx(metrics["accuracy"])
    assert metrics["accuracy_by_context_size"] == pytest.approx(curve)


@torch.no_grad()
def test_kl_is_the_one_sample_estimate_in_training_mode_with_seed_zero() -> None:
    """KL^ = log q(z) - log N(z; 0, I), averaged over users, with z sampled (train mode, eps
    from seed 0), not the eval-mode point, which has no eps."""
    split, emb = tiny_split()
    model = tiny_model()
    batch = split.batch(torch.arange(R), emb)
    model.train()
    torch.manual_seed(0)
    post = model.posterior(batch.ctx_chosen, batch.ctx_rejected, batch.ctx_mask)
    prior = gaussian_log_prob(post.z, torch.zeros_like(post.z), torch.zeros_like(post.z))
    sampled = (post.log_q - prior).mean().item()
    model.eval()
    point = model.posterior(batch.ctx_chosen, batch.ctx_rejected, batch.ctx_mask)
    at_point = (point.log_q - gaussian_log_prob(point.z, torch.zeros_like(point.z),
                                                torch.zeros_like(point.z))).mean().item()
    assert abs(sampled - at_point) > 1e-3  # the mode makes a difference on this split

    metrics = evaluate_split(model, split, emb).metrics
    assert metrics["kl"] == pytest.approx(sampled, rel=1e-5)
    assert not model.training, "evaluate_split restores the mode it was given"


def test_batch_swap_and_max_context_by_hand() -> None:
    split, emb = tiny_split()
    rows = torch.tensor([2, 5, 1])
    plain = split.batch(rows, emb)
    cut = split.batch(rows, emb, max_context=1)
    swapped = split.batch(rows, emb, swap=True)
    assert plain.ctx_chosen.shape == (3, C, D) and cut.ctx_chosen.shape == (3, 1, D)
    for b, i in enumerate(rows.tolist()):
        torch.testing.assert_close(plain.ctx_chosen[b], emb[split.ctx_chosen[i]])
        torch.testing.assert_close(cut.ctx_chosen[b, 0], emb[split.ctx_chosen[i, 0]])
        torch.testing.assert_close(cut.ctx_rejected[b, 0], emb[split.ctx_rejected[i, 0]])
        torch.testing.assert_close(swapped.ctx_chosen[b], emb[split.ctx_rejected[i]])
        torch.testing.assert_close(swapped.ctx_rejected[b], emb[split.ctx_chosen[i]])
        torch.testing.assert_close(swapped.chosen[b, 0], emb[split.chosen[i]])  # targets stay
    assert cut.ctx_mask.tolist() == [[True]] * 3
    assert torch.equal(swapped.ctx_mask, plain.ctx_mask)


def test_split_sizes_are_frozen_and_counted() -> None:
    split, _ = tiny_split()
    assert split.context_sizes.tolist() == [1, 2, 3] * 4
    with pytest.raises(dataclasses.FrozenInstanceError):
        split.name = "train"  # type: ignore[misc]


def test_user_features_are_the_weights_else_a_one_hot_of_the_type() -> None:
    from train.batching import user_features

    card = {"user_types": ["a", "b", "c"]}
    assert user_features({"user": "u1", "user_weights": [0.5, -1, 2]}, card, []) == [0.5, -1.0, 2.0]
    assert user_features({"user": "u1", "user_type": "b"}, card, []) == [0.0, 1.0, 0.0]
    assert user_features({"user": "u2", "user_weights": None}, {}, ["u1", "u2"]) == [0.0, 1.0]


def test_encode_split_points_each_context_pair_at_its_chosen_and_rejected_texts() -> None:
    from types import SimpleNamespace

    from spl_model.render import render
    from train.batching import encode_split

    survey = {"s0": {"prompt": "p0", "a": "yes", "b": "no"},
              "s1": {"prompt": "p1", "a": "left", "b": "right"}}
    rows = [{"user": "u1", "user_type": "kind", "prompt": "q", "chosen": "c1", "rejected": "r1",
             "controversial": True, "context": [{"id": "s0", "chosen": "a"}, {"id": "s1", "chosen": "b"}]},
            {"user": "u2", "prompt": "q", "chosen": "c2", "rejected": "r2", "controversial": False,
             "context": [{"id": "s1", "chosen": "a"}]}]
    dataset = SimpleNamespace(train=rows, test=rows, survey=survey, folder="tiny",
                              card={"user_types": ["kind", "u2"]})
    texts = [render("q", t) for t in ("c1", "r1", "c2", "r2")] + [
        render(p, t) for p, t in (("p0", "yes"), ("p0", "no"), ("p1", "left"), ("p1", "right"))]
    ids = {t: i for i, t in enumerate(texts)}
    split = encode_split(dataset, "test", ids)
    assert split.chosen.tolist() == [0, 2] and split.rejected.tolist() == [1, 3]
    assert split.ctx_chosen.tolist() == [[4, 7], [6, 0]]  # s1 answered "b": right over left
    assert split.ctx_rejected.tolist() == [[5, 6], [7, 0]]
    assert split.ctx_mask.tolist() == [[True, True], [True, False]]
    assert split.controversial.tolist() == [True, False]
    assert split.user_types == ["kind", "u2"] and split.users == ["u1", "u2"]
    assert split.features.tolist() == [[1.0, 0.0], [0.0, 1.0]]


@torch.no_grad()
def test_a_model_without_a_latent_reports_accuracy_only() -> None:
    split, emb = tiny_split()
    torch.manual_seed(0)
    model = build_model(ModelConfig(kind="btl", embed_dim=D, latent_dim=0, hidden_dim=8)).eval()
    result = evaluate_split(model, split, emb)
    margins = [(model.reward(emb[split.chosen[i]][None, None], torch.zeros(1, 0))
                - model.reward(emb[split.rejected[i]][None, None], torch.zeros(1, 0))).item()
               for i in range(R)]
    m = result.metrics
    assert m["accuracy"] == pytest.approx(share([x > 0 for x in margins]))
    for key in ("active_units", "active_units_share", "au_vector", "kl", "swap_flip_rate",
                "active_units_z", "au_threshold", "latent_dim"):
        assert m[key] is None, key
    assert m["accuracy_by_context_size"] == {}
    assert result.latents.shape == (R, 0)


def test_latent_map_is_the_pca_of_the_latents() -> None:
    from train.evaluate import latent_map

    g = torch.Generator().manual_seed(3)
    latents = torch.randn(6, 3, generator=g) * torch.tensor([3.0, 1.0, 0.1])  # [R, Z]
    types = ["a", "b", "a", "b", "a", "b"]
    out = latent_map(latents, types, max_points=4, seed=0)
    mean = latents.mean(0)
    assert out["method"] == "pca" and out["mean"] == pytest.approx(mean.tolist(), abs=1e-6)
    components = torch.tensor(out["components"])  # [2, Z], orthonormal rows
    torch.testing.assert_close(components @ components.T, torch.eye(2), atol=1e-5, rtol=0)
    # the first component carries the most variance: no other unit direction carries more
    spread = ((latents - mean) @ components.T).var(0)
    assert spread[0] >= spread[1]
    assert spread[0] >= ((latents - mean) @ torch.tensor([1.0, 0.0, 0.0])).var() - 1e-5
    assert len(out["points"]) == 4
    for p in out["points"]:
        i = [j for j in range(6) if abs(((latents[j] - mean) @ components[0]).item() - p["x"]) < 1e-4]
        assert i and types[i[0]] == p["user_type"]
    assert latent_map(latents[:2], types[:2]) is None  # too few users
    assert latent_map(latents[:, :1], types) is None  # one dimension: nothing to project
    smallest = latent_map(latents[:3, :2], types[:3])  # 3 users, 2 dimensions: a map
    assert smallest is not None and len(smallest["points"]) == 3


def test_latent_map_json_keeps_400_seeded_points_rounded_to_fixed_digits() -> None:
    """latent_map.json's format, which the app reads: at most 400 points, picked by a seeded
    shuffle (seed 0 by default), the projection to 6 decimals and the points to 5."""
    from train.evaluate import latent_map

    g = torch.Generator().manual_seed(1)
    latents = torch.randn(450, 3, generator=g, dtype=torch.float64) / 3
    types = [f"t{i}" for i in range(450)]
    out = latent_map(latents, types)
    assert len(out["points"]) == 400
    pick = torch.randperm(450, generator=torch.Generator().manual_seed(0))[:400]
    assert [p["user_type"] for p in out["points"]] == [types[i] for i in sorted(pick.tolist())]
    mean = latents.mean(0)
    assert out["mean"] == [round(x, 6) for x in mean.tolist()]
    v = torch.linalg.svd(latents - mean, full_matrices=False)[2][:2]
    assert out["components"] == [[round(x, 6) for x in row] for row in v.tolist()]
    xy = (latents - mean) @ v.T
    first = sorted(pick.tolist())[0]
    assert out["points"][0]["x"] == round(xy[first, 0].item(), 5)
    assert out["points"][0]["y"] == round(xy[first, 1].item(), 5)


def test_a_split_result_is_frozen() -> None:
    split, emb = tiny_split()
    torch.manual_seed(0)
    model = build_model(ModelConfig(kind="vpl", embed_dim=D, latent_dim=2, hidden_dim=8)).eval()
    result = evaluate_split(model, split, emb, context_curve=False)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.metrics = {}  # type: ignore[misc]
