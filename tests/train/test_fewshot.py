"""Few-shot curves, active order, several targets per context, and the confidence calibrator."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch

from spl_model import ModelConfig, build_model, expected_calibration_error
from train.batching import EncodedSplit
from spl_model.calibration import Calibrator, confidence_features
from spl_model.refine import RefineSettings, refine_latent
from train.fewshot import active_order, curve, groups, model_margins, reorder

D = 6


def make_split(n_users: int = 5, rows_per_user: int = 3, C: int = 4, seed: int = 0) -> tuple[EncodedSplit, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    R = n_users * rows_per_user
    users = [f"u{i // rows_per_user}" for i in range(R)]
    ctx_c = torch.randint(1, 60, (n_users, C), generator=g).repeat_interleave(rows_per_user, 0)
    ctx_r = torch.randint(1, 60, (n_users, C), generator=g).repeat_interleave(rows_per_user, 0)
    mask = torch.ones(R, C, dtype=torch.bool)
    mask[users.index("u1"):users.index("u1") + rows_per_user, C - 1] = False  # u1 answered C-1
    split = EncodedSplit(
        name="test", chosen=torch.randint(60, 100, (R,), generator=g),
        rejected=torch.randint(60, 100, (R,), generator=g), ctx_chosen=ctx_c, ctx_rejected=ctx_r,
        ctx_mask=mask, features=torch.randn(R, 3, generator=g), controversial=torch.zeros(R, dtype=torch.bool),
        users=users, user_types=["heldout" if i % 2 else "persona-x" for i in range(R)])
    return split, torch.randn(100, D, generator=g)


def test_active_order_is_a_per_user_permutation_real_pairs_first() -> None:
    split, emb = make_split()
    torch.manual_seed(0)
    model = build_model(ModelConfig(kind="spl", embed_dim=D, latent_dim=4, hidden_dim=8)).eval()
    order = active_order(model, split, emb, n_samples=8)
    C = split.ctx_mask.shape[1]
    assert order.shape == split.ctx_mask.shape
    for i in range(len(split)):
        assert sorted(order[i].tolist()) == list(range(C))
        assert split.ctx_mask[i][order[i]].tolist() == sorted(split.ctx_mask[i].tolist(), reverse=True)
        same = [j for j, u in enumerate(split.users) if u == split.users[i]]
        assert all(torch.equal(order[j], order[i]) for j in same)
    # the first pick is the selector's best on the whole pool
    from spl_model.active import select_query

    first = split.users.index("u0")
    pool = (emb[split.ctx_chosen[first]][None], emb[split.ctx_rejected[first]][None])
    empty = (torch.zeros(1, 0, D), torch.zeros(1, 0, D), torch.zeros(1, 0, dtype=torch.bool))
    best = select_query(model, empty, pool[0], pool[1], n_samples=8, seed=0).best
    assert int(order[first, 0]) == int(best)
    # a latent-free model keeps the given order
    btl = build_model(ModelConfig(kind="btl", embed_dim=D, latent_dim=0, hidden_dim=8))
    assert torch.equal(active_order(btl, split, emb), torch.arange(C).expand_as(order))


def test_reorder_and_truncation_change_what_the_model_reads() -> None:
    split, emb = make_split()
    torch.manual_seed(1)
    model = build_model(ModelConfig(kind="vpl", embed_dim=D, latent_dim=4, hidden_dim=8)).eval()
    flipped = reorder(split, torch.arange(3, -1, -1).expand(len(split), 4).clone())
    assert torch.equal(flipped.ctx_chosen[:, 0], split.ctx_chosen[:, 3])
    full = model_margins(model, split, emb, 4)
    torch.testing.assert_close(full, model_margins(model, flipped, emb, 4))  # order-invariant set
    assert not torch.allclose(model_margins(model, split, emb, 1), model_margins(model, flipped, emb, 1))
    # k = 0 is one prior latent for everyone: the margin depends on the targets alone
    same_targets = torch.tensor([0, 1])
    twin = split.select(same_targets)
    twin = dataclasses.replace(twin, chosen=twin.chosen[[0, 0]], rejected=twin.rejected[[0, 0]])
    m = model_margins(model, twin, emb, 0)
    assert m[0] == m[1]


def test_curve_groups_and_accuracy() -> None:
    split, _ = make_split()
    masks = groups(split)
    assert set(masks) == {"heldout", "personas"}
    margins = torch.linspace(-1, 1, len(split))
    out = curve(lambda k: margins * (1 if k else -1), [0, 1], masks)
    for name, mask in masks.items():
        right = (margins[mask] > 0).float().mean().item()
        assert out[name][1] == pytest.approx(round(right, 4))
        assert out[name][0] == pytest.approx(round(1 - right, 4), abs=1e-4)


def test_same_user_rows_draw_only_that_users_rows() -> None:
    split, _ = make_split(n_users=6, rows_per_user=4)
    rows = torch.tensor([0, 5, 9, 23])
    picks = split.same_user_rows(rows, 7, torch.Generator().manual_seed(0))
    assert picks.shape == (4, 7) and torch.equal(picks[:, 0], rows)
    for b, r in enumerate(rows.tolist()):
        assert {split.users[j] for j in picks[b].tolist()} == {split.users[r]}
    many = split.same_user_rows(torch.tensor([0] * 200), 4, torch.Generator().manual_seed(1))
    assert set(many[:, 1:].flatten().tolist()) == {0, 1, 2, 3}  # every row of u0 gets drawn
    batch = split.batch(rows, torch.randn(100, D), target_rows=picks)
    assert batch.chosen.shape == (4, 7, D) and batch.ctx_chosen.shape[0] == 4


def test_same_user_targets_draw_answers_outside_the_context() -> None:
    """Targets come from the user's target rows and from their answers this context lacks,
    never from another user and never from an answer the context holds."""
    split, _ = make_split(n_users=3, rows_per_user=4, C=4)
    u0 = [i for i, u in enumerate(split.users) if u == "u0"]
    # u0's rows hold different subsets of u0's four answers: row 0 all, row 1 the first two
    mask = split.ctx_mask.clone()
    mask[u0[1], 2:] = False
    mask[u0[2], :] = False
    split = dataclasses.replace(split, ctx_mask=mask)
    answers = set(zip(split.ctx_chosen[u0[0]].tolist(), split.ctx_rejected[u0[0]].tolist()))
    targets = {(int(split.chosen[i]), int(split.rejected[i])) for i in u0}
    rows = torch.tensor([u0[0]] * 300 + [u0[1]] * 300 + [u0[2]] * 300)
    chosen, rejected = split.same_user_targets(rows, 5, torch.Generator().manual_seed(0))
    assert chosen.shape == rejected.shape == (900, 5)
    assert torch.equal(chosen[:, 0], split.chosen[rows]) and torch.equal(rejected[:, 0], split.rejected[rows])
    drawn = [set(zip(c.flatten().tolist(), r.flatten().tolist())) for c, r in zip(chosen[:, 1:].split(300), rejected[:, 1:].split(300))]
    held = [set(zip(split.ctx_chosen[i][mask[i]].tolist(), split.ctx_rejected[i][mask[i]].tolist()))
            for i in u0[:3]]
    for pairs, in_context in zip(drawn, held):
        assert pairs == targets | (answers - in_context)  # all of the pool, nothing else
    batch = split.batch(rows[:4], torch.randn(100, D), target_pairs=(chosen[:4], rejected[:4]))
    assert batch.chosen.shape == (4, 5, D)
    from train.fit import FitConfig

    with pytest.raises(ValueError, match="targets_per_context >= 2"):
        FitConfig(answer_targets=True)


def test_targets_per_context_trains_on_several_pairs(tmp_path) -> None:
    """fit with targets_per_context > 1 runs, and is refused with LoRA."""
    from train.fit import FitConfig

    with pytest.raises(ValueError, match="targets_per_context"):
        FitConfig(targets_per_context=0)
    with pytest.raises(ValueError, match="LoRA"):
        FitConfig(targets_per_context=2, lora_r=4)


def test_expected_calibration_error_by_hand() -> None:
    probs = torch.tensor([0.05, 0.15, 0.15, 0.95, 0.95, 1.0])
    outcome = torch.tensor([0, 0, 1, 1, 1, 0])
    # bins: 0 -> {0.05: 0}, 1 -> {0.15, 0.15: 0.5}, 9 -> {0.95, 0.95, 1.0: 2/3}
    expected = (1 / 6) * 0.05 + (2 / 6) * abs(0.5 - 0.15) + (3 / 6) * abs(2 / 3 - (0.95 + 0.95 + 1.0) / 3)
    assert expected_calibration_error(probs, outcome) == pytest.approx(expected, abs=1e-6)
    assert expected_calibration_error(torch.full((4,), 0.5), torch.tensor([0, 1, 0, 1])) == 0.0
    with pytest.raises(ValueError):
        expected_calibration_error(probs, outcome[:3])


def test_calibrator_recovers_a_known_logistic_map() -> None:
    g = torch.Generator().manual_seed(0)
    n = 20_000
    stability = torch.rand(n, generator=g) * 0.9 + 0.05
    gap = torch.rand(n, generator=g) * 2
    k = torch.randint(0, 13, (n,), generator=g)
    truth = Calibrator((-0.5, 0.8, 1.2, 0.3))
    outcome = (torch.rand(n, generator=g) < truth(stability, gap, k)).float()
    fitted = Calibrator.fit(stability, gap, k, outcome)
    for a, b in zip(fitted.weights, truth.weights):
        assert a == pytest.approx(b, abs=0.12)
    probs = fitted(stability, gap, k)
    assert expected_calibration_error(probs, outcome) < 0.02


def test_confidence_features_are_a_function_of_the_answers() -> None:
    torch.manual_seed(0)
    model = build_model(ModelConfig(kind="spl", embed_dim=D, latent_dim=4, hidden_dim=8)).eval()
    g = torch.Generator().manual_seed(3)
    ctx = (torch.randn(2, 3, D, generator=g), torch.randn(2, 3, D, generator=g),
           torch.tensor([[True, True, False], [True, False, False]]))
    cands = torch.randn(2, 4, D, generator=g)
    one = confidence_features(model, ctx, cands, seed=0)
    two = confidence_features(model, ctx, cands, seed=0)
    for a, b in zip(one, two):
        assert torch.equal(a, b)
    stability, gap, k, top = one
    assert k.tolist() == [2, 1] and (gap >= 0).all() and ((stability >= 0) & (stability <= 1)).all()
    assert torch.equal(top, model.reward(cands, model.posterior(*ctx).z).argmax(1))
    # padding the context with a masked pair (a skip) changes nothing
    padded = tuple(torch.cat([t, t[:, :1]], 1) for t in ctx[:2]) + (torch.cat([ctx[2], torch.zeros(2, 1, dtype=torch.bool)], 1),)
    for a, b in zip(one, confidence_features(model, padded, cands, seed=0)):
        torch.testing.assert_close(a, b)
    assert not math.isnan(float(stability.mean()))


def test_calibrator_formula_by_hand_and_its_file_format() -> None:
    """p = sigmoid(w . [1, logit(clamp(s, .02, .98)), gap, log(1 + k)]), pinned on numbers."""
    calib = Calibrator((0.5, 1.0, -2.0, 0.25))
    s, gap, k = torch.tensor([0.8, 0.999, 0.0]), torch.tensor([0.3, 0.0, 1.0]), torch.tensor([2, 0, 7])
    logits = [0.5 + math.log(0.8 / 0.2) - 0.6 + 0.25 * math.log(3),
              0.5 + math.log(0.98 / 0.02),
              0.5 + math.log(0.02 / 0.98) - 2.0 + 0.25 * math.log(8)]
    expected = torch.tensor([1 / (1 + math.exp(-v)) for v in logits])
    torch.testing.assert_close(calib(s, gap, k), expected.float())
    assert Calibrator.from_dict(calib.to_dict()) == calib
    for bad in ({"weights": [1, 2, 3]}, {"weights": [1, 2, 3, float("nan")]}, {"weights": "1234"},
                {"nothing": 1}, [1, 2, 3, 4]):
        with pytest.raises(ValueError, match="4 finite numbers"):
            Calibrator.from_dict(bad)  # type: ignore[arg-type]


def test_confidence_features_stability_counts_agreeing_samples(monkeypatch) -> None:
    """Stability is the share of posterior samples whose best candidate is the point latent's;
    the model's training mode is restored afterwards."""
    import spl_model.calibration as calibration

    torch.manual_seed(0)
    model = build_model(ModelConfig(kind="vpl", embed_dim=D, latent_dim=4, hidden_dim=8))
    model.train()
    ctx = (torch.randn(1, 2, D), torch.randn(1, 2, D), torch.ones(1, 2, dtype=torch.bool))
    cands = torch.randn(1, 3, D)
    point = model.eval().posterior(*ctx).z  # [1, Z]
    model.train()
    far = torch.randn(calibration.N_SAMPLES, 4) * 50  # samples that disagree with the point
    fake = torch.cat([point.expand(calibration.N_SAMPLES // 4, -1), far[calibration.N_SAMPLES // 4:]])
    monkeypatch.setattr(calibration, "posterior_samples", lambda *a, **k: fake[None])
    stability, gap, _, top = confidence_features(model, ctx, cands)
    assert model.training  # restored
    # the point latent is the eval-mode one (eps = 0), whatever mode the model was in
    best = model.eval().reward(cands, point)[0].sort(descending=True).values
    assert int(top) == int(model.reward(cands, point).argmax(1))
    assert gap.item() == pytest.approx((best[0] - best[1]).item(), abs=1e-5) and gap.item() > 0
    sampled = model.eval().reward(cands.expand(calibration.N_SAMPLES, 3, D), fake).argmax(1)
    assert stability.item() == pytest.approx((sampled == top).float().mean().item())
    assert 0.25 <= stability.item() < 1.0


def test_calibrator_fit_is_the_ridge_logistic_optimum_rounded_to_six_digits() -> None:
    """At the fitted weights the ridge-logistic gradient X^T (p - y) + l2 w is 0 (up to the
    rounding to 6 decimals of calibration.json); l2 defaults to 1e-3 (the published maps)."""
    g = torch.Generator().manual_seed(4)
    n = 400
    stability, gap = torch.rand(n, generator=g), torch.rand(n, generator=g) * 2
    k = torch.randint(0, 9, (n,), generator=g)
    outcome = (torch.rand(n, generator=g) < 0.3 + 0.4 * stability).float()
    default = Calibrator.fit(stability, gap, k, outcome)
    assert default == Calibrator.fit(stability, gap, k, outcome, l2=1e-3)
    for l2 in (1e-3, 20.0):
        fitted = Calibrator.fit(stability, gap, k, outcome, l2=l2)
        assert all(v == round(v, 6) for v in fitted.weights)
        X = Calibrator.design(stability, gap, k)
        w = torch.tensor(fitted.weights, dtype=torch.float64)
        grad = X.T @ (torch.sigmoid(X @ w) - outcome.double()) + l2 * w
        assert grad.abs().max() < 1e-3, (l2, grad)
        assert any(round(v, 5) != v for v in fitted.weights), "six digits, not fewer"
    with pytest.raises(dataclasses.FrozenInstanceError):
        default.weights = (0.0, 0.0, 0.0, 0.0)  # type: ignore[misc]


def test_confidence_features_use_32_seeded_samples_and_two_candidates_suffice(monkeypatch) -> None:
    import spl_model.calibration as calibration

    assert calibration.N_SAMPLES == calibration.Calibrator((0, 0, 0, 0)).to_dict()["n_samples"] == 32
    torch.manual_seed(0)
    model = build_model(ModelConfig(kind="spl", embed_dim=D, latent_dim=4, hidden_dim=8)).eval()
    g = torch.Generator().manual_seed(5)
    ctx = (torch.randn(1, 2, D, generator=g), torch.randn(1, 2, D, generator=g),
           torch.ones(1, 2, dtype=torch.bool))
    cands = torch.randn(1, 2, D, generator=g)  # two candidates: the gap is their difference
    seen = []
    real = calibration.posterior_samples
    monkeypatch.setattr(calibration, "posterior_samples",
                        lambda m, c, n, seed=None: seen.append((n, seed)) or real(m, c, n, seed))
    stability, gap, _, top = confidence_features(model, ctx, cands)
    assert seen == [(32, 0)]
    rewards = model.reward(cands, model.posterior(*ctx).z)[0]
    assert gap.item() == pytest.approx((rewards.max() - rewards.min()).item(), abs=1e-6)
    assert top.item() == int(rewards.argmax())


def test_attribute_deltas_by_hand() -> None:
    """Each target and context answer as attr(chosen) - attr(rejected), the side the user
    chose first; padding masked out and zero."""
    from types import SimpleNamespace

    from train.fewshot import attribute_deltas

    survey = {"s1": {"attributes_a": [1.0, 1.0], "attributes_b": [-1.0, 1.0]},
              "s2": {"attributes_a": [1.0, -1.0], "attributes_b": [1.0, 1.0]}}
    rows = [{"attributes_chosen": [1.0, -1.0], "attributes_rejected": [-1.0, -1.0],
             "context": [{"id": "s1", "chosen": "a"}, {"id": "s2", "chosen": "b"}]},
            {"attributes_chosen": [-1.0, 1.0], "attributes_rejected": [1.0, -1.0],
             "context": [{"id": "s2", "chosen": "a"}]}]
    ctx, mask, targets = attribute_deltas(SimpleNamespace(test=rows, survey=survey), "test")
    assert targets.tolist() == [[2.0, 0.0], [-2.0, 2.0]]
    assert mask.tolist() == [[True, True], [True, False]]
    assert ctx.tolist() == [[[2.0, 0.0], [0.0, 2.0]], [[0.0, -2.0], [0.0, 0.0]]]


def test_labels_to_reach_rounds_to_three_digits_and_caps_at_the_last_k() -> None:
    from train.fewshot import labels_to_reach

    # goal 0.77 is crossed between k = 1 (0.53) and k = 2 (0.8): 1 + 0.24 / 0.27
    assert labels_to_reach([0.5, 0.53, 0.8]) == 1.889
    # a falling curve: goal 0.8 - 0.9 * 0.3 = 0.53, crossed between k = 1 and k = 2
    assert labels_to_reach([0.8, 0.6, 0.5]) == pytest.approx(1.7)
    # a goal beyond the curve (share > 1) is never reached: the last k
    assert labels_to_reach([0.5, 0.6, 0.7], share=1.5) == 2.0


def test_the_published_ks_and_the_groups_rows() -> None:
    """The k of every few-shot curve (issue 14's list) and which rows each group holds."""
    from train.fewshot import KS

    assert KS == (0, 1, 2, 4, 8, 12)
    split, _ = make_split()
    masks = groups(split)
    assert masks["heldout"].tolist() == [t == "heldout" for t in split.user_types]
    assert masks["personas"].tolist() == [t.startswith("persona") for t in split.user_types]


def _spl(seed: int = 0):
    torch.manual_seed(seed)
    return build_model(ModelConfig(kind="spl", embed_dim=D, latent_dim=4, hidden_dim=8))


def test_active_order_is_the_greedy_selector_order_step_by_step() -> None:
    """Every step j by hand: the selector's best given the j pairs picked so far (seed + j),
    padding asked from the start; a model in training mode is scored in eval mode and left
    in training mode."""
    from spl_model.active import select_query

    split, emb = make_split(n_users=3, C=5, seed=1)
    model = _spl(1).train()
    order = active_order(model, split, emb, n_samples=8, seed=3, batch_size=1)
    assert model.training
    model.eval()
    for u in ("u0", "u1", "u2"):
        i = split.users.index(u)
        pool_a, pool_b = emb[split.ctx_chosen[i]][None], emb[split.ctx_rejected[i]][None]
        real = split.ctx_mask[i][None]
        picked: list[int] = []
        for j in range(int(real.sum())):
            idx = torch.tensor([picked], dtype=torch.long)
            ctx = (pool_a[:, idx[0]], pool_b[:, idx[0]], real[:, idx[0]])
            asked = ~real
            asked[0, picked] = True
            best = select_query(model, ctx, pool_a, pool_b, asked=asked, n_samples=8,
                                seed=3 + j).best
            picked.append(int(best))
        assert order[i].tolist()[:len(picked)] == picked, u
    assert not torch.equal(order, torch.arange(5).expand_as(order))


def test_active_order_by_default_uses_32_posterior_samples() -> None:
    """The setting the published active curves were made with (personalize calls it with the
    defaults); 33 samples order these users differently."""
    split, emb = make_split(n_users=6, C=6, seed=0)
    model = _spl(0).eval()
    default = active_order(model, split, emb)
    assert torch.equal(default, active_order(model, split, emb, n_samples=32))
    assert not torch.equal(default, active_order(model, split, emb, n_samples=33))


def test_model_margins_score_in_eval_mode_and_restore_the_mode() -> None:
    split, emb = make_split()
    model = _spl(2)
    model.eval()
    expected = model.margins(split.batch(torch.arange(len(split)), emb, max_context=2))[:, 0]
    model.train()
    got = model_margins(model, split, emb, 2, batch_size=4)
    assert model.training
    torch.testing.assert_close(got, expected)


def test_model_margins_with_refine_score_the_refined_latent() -> None:
    """With ``refine``, each row's margin is read under its user's ``z`` refined on the first
    k answers (by hand: the whole split at once; model_margins goes 4 rows at a time); with
    no answers (k = 0) refinement changes nothing."""
    split, emb = make_split()
    model = _spl(3).eval()
    settings = RefineSettings(steps=10, lr=0.1)
    batch = split.batch(torch.arange(len(split)), emb, max_context=2)
    ctx = (batch.ctx_chosen, batch.ctx_rejected, batch.ctx_mask)
    z = refine_latent(model, *ctx, model.posterior(*ctx).z, settings)
    expected = model.reward(batch.chosen, z)[:, 0] - model.reward(batch.rejected, z)[:, 0]
    model.train()
    got = model_margins(model, split, emb, 2, batch_size=4, refine=settings)
    assert model.training and got.shape == (len(split),)
    torch.testing.assert_close(got, expected)
    assert not torch.allclose(got, model_margins(model, split, emb, 2, batch_size=4))
    torch.testing.assert_close(model_margins(model, split, emb, 0, batch_size=4, refine=settings),
                               model_margins(model, split, emb, 0, batch_size=4))


def test_labels_to_reach_on_plateaus_and_unequal_ends() -> None:
    from train.fewshot import labels_to_reach

    # the first k that reaches the goal (0.75 here), not the end of a plateau at it
    assert labels_to_reach([0.0, 0.75, 0.75, 1.0], share=0.75) == 1.0
    assert labels_to_reach([1.0, 0.25, 0.25, 0.0], share=0.75) == 1.0
    # the direction is read from the ends, not from the first step
    assert labels_to_reach([0.5, 0.4, 0.9]) == pytest.approx(1.92)
    assert labels_to_reach([0.5, 0.95, 0.9]) == pytest.approx(0.8)
    # equal ends: the goal is the start, reached with no answer
    assert labels_to_reach([0.6, 0.7, 0.6]) == 0.0


def test_attribute_deltas_of_a_one_row_split() -> None:
    from types import SimpleNamespace

    from train.fewshot import attribute_deltas

    survey = {"s1": {"attributes_a": [1.0, 0.0, 2.0], "attributes_b": [0.0, 0.0, 1.0]}}
    rows = [{"attributes_chosen": [1.0, 1.0, 1.0], "attributes_rejected": [0.0, 1.0, 3.0],
             "context": [{"id": "s1", "chosen": "b"}]}]
    ctx, mask, targets = attribute_deltas(SimpleNamespace(test=rows, survey=survey), "test")
    assert targets.tolist() == [[1.0, 0.0, -2.0]]
    assert ctx.tolist() == [[[-1.0, 0.0, -1.0]]] and mask.tolist() == [[True]]


def test_active_order_shows_the_selector_the_pairs_picked_so_far_in_eval_mode(monkeypatch) -> None:
    """What each step hands the selector: the chunk's pairs picked so far (both sides, and
    their mask), with the model in eval mode; an empty context comes as [B, 0] tensors."""
    import train.fewshot as fewshot

    calls = []
    real_select = fewshot.select_query

    def spy(model, ctx, pool_a, pool_b, **kwargs):
        calls.append((model.training, [t.clone() for t in ctx], pool_a, pool_b))
        return real_select(model, ctx, pool_a, pool_b, **kwargs)

    monkeypatch.setattr(fewshot, "select_query", spy)
    split, emb = make_split(n_users=3, C=4, seed=2)
    model = _spl(3).train()
    order = active_order(model, split, emb, n_samples=4, batch_size=8)
    assert len(calls) == 4 and not any(training for training, *_ in calls)
    firsts = [split.users.index(u) for u in ("u0", "u1", "u2")]
    for j, (_, (ctx_a, ctx_b, ctx_mask), pool_a, pool_b) in enumerate(calls):
        assert ctx_a.shape == (3, j, D) and ctx_mask.shape == (3, j)
        for b, row in enumerate(firsts):
            picked = order[row, :j]
            torch.testing.assert_close(ctx_a[b], pool_a[b, picked], rtol=0, atol=0)
            torch.testing.assert_close(ctx_b[b], pool_b[b, picked], rtol=0, atol=0)
            assert ctx_mask[b].tolist() == split.ctx_mask[row, picked].tolist()


def test_active_order_of_contexts_without_columns_is_empty() -> None:
    split, emb = make_split(n_users=2, C=1)
    empty = dataclasses.replace(split, ctx_chosen=split.ctx_chosen[:, :0],
                                ctx_rejected=split.ctx_rejected[:, :0],
                                ctx_mask=split.ctx_mask[:, :0])
    order = active_order(_spl(4).eval(), empty, emb, n_samples=4)
    assert order.shape == (len(split), 0)


def test_active_order_of_a_chunk_of_users_without_answers_keeps_their_order() -> None:
    """A chunk whose users have no real pair (their contexts all padding) is left in the given
    order; it used to stop active_order with "stack expects a non-empty TensorList"."""
    split, emb = make_split(n_users=3, C=3)
    mask = split.ctx_mask.clone()
    mask[split.users.index("u2"):] = False  # u2 answered nothing
    split = dataclasses.replace(split, ctx_mask=mask)
    model = _spl(0).eval()
    u2 = split.users.index("u2")
    for batch_size in (1, 8):  # u2 alone in the last chunk, and u2 with the others
        order = active_order(model, split, emb, n_samples=4, batch_size=batch_size)
        assert order[u2:].tolist() == [[0, 1, 2]] * (len(split) - u2)
        assert all(sorted(row) == [0, 1, 2] for row in order[:u2].tolist())


def _targets_by_hand(split: EncodedSplit, rows: list[int], n: int, seed: int) -> list[list[tuple]]:
    """same_user_targets' draw written out: each row's own pair, then per draw d a pick
    k = floor(d * (the user's rows + the user's answers this row lacks)): the k-th row's
    target, or the (k - rows)-th lacking answer (answers in order of first appearance)."""
    draws = torch.rand(len(rows), n - 1, generator=torch.Generator().manual_seed(seed))
    out = []
    for b, row in enumerate(rows):
        user = split.users[row]
        mine = [i for i, u in enumerate(split.users) if u == user]
        answers: list[tuple] = []
        for i in mine:
            for c, r, real in zip(split.ctx_chosen[i].tolist(), split.ctx_rejected[i].tolist(),
                                  split.ctx_mask[i].tolist()):
                if real and (c, r) not in answers:
                    answers.append((c, r))
        held = {(c, r) for c, r, real in zip(split.ctx_chosen[row].tolist(),
                                             split.ctx_rejected[row].tolist(),
                                             split.ctx_mask[row].tolist()) if real}
        lacking = [a for a in answers if a not in held]
        picks = [(int(split.chosen[row]), int(split.rejected[row]))]
        for d in draws[b].tolist():
            k = int(d * (len(mine) + len(lacking)))
            picks.append((int(split.chosen[mine[k]]), int(split.rejected[mine[k]]))
                         if k < len(mine) else lacking[k - len(mine)])
        out.append(picks)
    return out


def test_same_user_targets_by_hand_with_more_answers_than_context_columns() -> None:
    """u0's two rows hold different answers (6 in all for 4 columns); the last user, u2,
    draws answers too; n = 1 is each row's own pair and n = 0 is refused."""
    split, _ = make_split(n_users=3, rows_per_user=2, C=4, seed=3)
    ctx_c, ctx_r = split.ctx_chosen.clone(), split.ctx_rejected.clone()
    ctx_c[1, :2], ctx_r[1, :2] = torch.tensor([90, 91]), torch.tensor([92, 93])  # u0's 2nd row
    ctx_c[5, 2:], ctx_r[5, 2:] = torch.tensor([94, 95]), torch.tensor([96, 97])  # u2's 2nd row
    split = dataclasses.replace(split, ctx_chosen=ctx_c, ctx_rejected=ctx_r)
    rows = [0, 1, 4, 5, 2]
    chosen, rejected = split.same_user_targets(torch.tensor(rows), 6,
                                               torch.Generator().manual_seed(7))
    got = [list(zip(c, r)) for c, r in zip(chosen.tolist(), rejected.tolist())]
    assert got == _targets_by_hand(split, rows, 6, seed=7)
    assert any(p not in {(int(split.chosen[i]), int(split.rejected[i])) for i in (4, 5)}
               for p in got[2][1:] + got[3][1:])  # u2 drew some of its answers
    one_c, one_r = split.same_user_targets(torch.tensor(rows), 1, torch.Generator())
    assert one_c[:, 0].tolist() == split.chosen[rows].tolist() and one_c.shape == (5, 1)
    assert one_r[:, 0].tolist() == split.rejected[rows].tolist()
    assert split.same_user_rows(torch.tensor(rows), 1, torch.Generator()).tolist() == \
        [[r] for r in rows]
    for draw in (split.same_user_targets, split.same_user_rows):
        with pytest.raises(ValueError, match="n must be >= 1, got 0"):
            draw(torch.tensor(rows), 0, torch.Generator())


def test_context_targets_score_every_real_answer_and_nothing_else() -> None:
    """with_context_targets appends the context's answers to the targets; the training loss is
    then the mean over the N targets and the *real* answers: padding never counts."""
    from train.batching import with_context_targets

    split, emb = make_split(n_users=3, rows_per_user=2, C=4)
    rows = torch.arange(len(split))
    plain = split.batch(rows, emb)
    batch = with_context_targets(plain)
    assert batch.chosen.shape == (len(split), 1 + 4, D)
    assert torch.equal(batch.pair_mask, torch.cat([torch.ones(len(split), 1, dtype=torch.bool), split.ctx_mask], 1))
    assert torch.equal(batch.chosen[:, 1:], plain.ctx_chosen) and torch.equal(batch.rejected[:, :1], plain.rejected)
    torch.manual_seed(0)
    model = build_model(ModelConfig(kind="vpl", embed_dim=D, latent_dim=4, hidden_dim=8)).eval()
    with torch.no_grad():
        margins = model.margins(batch)  # [B, 5]
        by_hand = -torch.nn.functional.logsigmoid(margins[batch.pair_mask]).mean()
        assert model.loss(batch)["bt"] == pytest.approx(float(by_hand), abs=1e-6)
        assert not bool(batch.pair_mask.all())  # u1's last answer is padding ...
        moved = dataclasses.replace(batch, chosen=batch.chosen.masked_fill(~batch.pair_mask[..., None], 9.0))
        assert model.loss(moved)["bt"] == pytest.approx(float(model.loss(batch)["bt"]), abs=1e-6)  # ... and counts for nothing


def test_fit_with_context_targets_trains_on_the_answers_too(monkeypatch) -> None:
    """The fit's training batch holds the context answers after the targets when asked, and
    the option is refused with LoRA (whose backbone re-embeds only the targets)."""
    import types

    import train.fit as fit_module
    from train.fit import FitConfig

    split, emb = make_split(n_users=3, rows_per_user=2, C=4)
    data = types.SimpleNamespace(splits={"train": split})
    rows = torch.tensor([0, 2, 4])
    for cfg, width in ((FitConfig(), 1), (FitConfig(context_targets=True), 5),
                       (FitConfig(context_targets=True, targets_per_context=3), 7)):
        batch = fit_module._train_batch(data, rows, emb, cfg, 0, None, torch.device("cpu"))
        assert batch.chosen.shape == (3, width, D)
        if cfg.context_targets:
            assert torch.equal(batch.chosen[:, -4:], emb[split.ctx_chosen[rows]])
    with pytest.raises(ValueError, match="LoRA"):
        FitConfig(context_targets=True, lora_r=4)
