"""The active-query selector (BALD and the look-ahead EPIG) and the stopping signals, on tiny
models and hand-built cases."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from spl_fixtures import D, random_context, tiny_model
from spl_model import ModelConfig, ShapeError, build_model
import spl_model.active as active
from spl_model.active import (
    QueryChoice,
    bald_scores,
    lookahead_scores,
    lookahead_stability,
    posterior_samples,
    select_query,
    top_stability,
)


class LinearReward(nn.Module):
    """r(x, z) = x[..., :2] . z: a decoder whose sign flips we control exactly."""

    def forward(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return (x[..., :2] * z[:, None, :2]).sum(-1)


def linear_model() -> torch.nn.Module:
    """A model with Z = 2 whose reward is ``x[:2] . z`` (posterior samples are controlled by
    patching ``sample_z``)."""
    model = build_model(ModelConfig(kind="spl", embed_dim=D, latent_dim=2, hidden_dim=8)).eval()
    model.decoder = LinearReward()
    return model


def one_user_context(C: int = 1) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    return torch.randn(1, C, D), torch.randn(1, C, D), torch.ones(1, C, dtype=torch.bool)


def test_bald_by_hand() -> None:
    p = torch.tensor([[0.9, 0.5, 0.9], [0.1, 0.5, 0.9]])  # [S=2, P=3]
    h = lambda q: -q * math.log(q) - (1 - q) * math.log(1 - q)  # noqa: E731
    expected = [h(0.5) - h(0.9), 0.0, 0.0]
    assert torch.allclose(bald_scores(p), torch.tensor(expected), atol=1e-6)
    assert bald_scores(torch.tensor([[0.0, 1.0], [1.0, 1.0]]))[0] == pytest.approx(math.log(2))


def test_prefers_the_pair_the_samples_disagree_on(monkeypatch: pytest.MonkeyPatch) -> None:
    model = linear_model()
    # half the samples have z = (+3, 0), half (-3, 0): they disagree on attribute 0 only
    z = torch.tensor([[3.0, 0.0], [-3.0, 0.0]]).repeat(8, 1)[None]  # [1, 16, 2]
    monkeypatch.setattr(model, "sample_z", lambda c, r, m, n: z[:, :n])
    pool_a, pool_b = torch.zeros(3, D), torch.zeros(3, D)
    pool_a[0, 1], pool_b[0, 1] = 1.0, -1.0  # differs on attribute 1: every sample predicts a tie
    pool_a[1, 0], pool_b[1, 0] = 1.0, -1.0  # differs on attribute 0: the samples disagree
    pool_a[2, 0], pool_b[2, 0] = 0.1, -0.1  # the same direction, weaker
    choice = select_query(model, one_user_context(), pool_a, pool_b, n_samples=16)
    assert isinstance(choice, QueryChoice)
    assert choice.best.tolist() == [1]
    assert choice.scores[0, 0] == pytest.approx(0.0, abs=1e-6)
    assert choice.scores[0, 1] > choice.scores[0, 2] > 0
    # a pair whose outcome every sample predicts the same (confidently) is worth nothing
    z_agree = torch.tensor([[3.0, 0.0], [2.0, 0.0]]).repeat(8, 1)[None]
    monkeypatch.setattr(model, "sample_z", lambda c, r, m, n: z_agree[:, :n])
    agree = select_query(model, one_user_context(), pool_a, pool_b, n_samples=16)
    assert agree.scores[0, 1] < 0.02 < choice.scores[0, 1]


def test_asked_pairs_are_excluded() -> None:
    model = tiny_model("spl").eval()
    pool_a, pool_b = torch.randn(5, D), torch.randn(5, D)
    context = random_context([2, 3])
    free = select_query(model, context, pool_a, pool_b, seed=0)
    asked = torch.zeros(2, 5, dtype=torch.bool)
    asked[0, free.best[0]] = True
    asked[1] = True
    masked = select_query(model, context, pool_a, pool_b, asked, seed=0)
    assert masked.best[0] != free.best[0] and masked.best[1] == -1
    assert torch.isinf(masked.scores[asked]).all() and (masked.scores[~asked] >= 0).all()
    # a shared [P] mask applies to every user
    shared = select_query(model, context, pool_a, pool_b, asked[0], seed=0)
    assert torch.isinf(shared.scores[:, free.best[0]]).all()


@pytest.mark.parametrize("kind", ["spl", "vpl", "ivpl", "btl"])
def test_shapes_shared_and_per_user_pools(kind: str) -> None:
    model = tiny_model(kind).eval()
    context = random_context([1, 4, 2])
    z_dim = model.cfg.z_dim
    shared = select_query(model, context, torch.randn(7, D), torch.randn(7, D), n_samples=5)
    assert shared.scores.shape == (3, 7) and shared.best.shape == (3,)
    assert shared.p_first.shape == (3, 5, 7) and shared.best.dtype == torch.long
    per_user = select_query(model, context, torch.randn(3, 7, D), torch.randn(3, 7, D), n_samples=5)
    assert per_user.scores.shape == (3, 7)
    assert posterior_samples(model, context, 5).shape == (3, 5, z_dim)
    assert top_stability(model, context, torch.randn(4, D), n=5).shape == (3,)
    if kind == "btl":  # no latent: every sample is the same, nothing to learn
        assert shared.scores.abs().max() < 1e-6


@pytest.mark.parametrize("kind", ["vpl", "spl"])
def test_empty_context_uses_the_models_prior(kind) -> None:
    model = tiny_model(kind).eval()
    context = random_context([2, 2])
    mask = context[2].clone()
    mask[1] = False  # user 1 has no labels yet
    samples = posterior_samples(model, (context[0], context[1], mask), 4000, seed=0)
    no_pairs = (torch.zeros(1, 0, D), torch.zeros(1, 0, D), torch.zeros(1, 0, dtype=torch.bool))
    alone = posterior_samples(model, no_pairs, 4000, seed=0)[0]
    if kind == "vpl":  # no flow: the prior N(0, I) itself
        prior = samples[1]  # [S, Z]
        assert prior.mean().abs() < 0.05 and (prior.std(0) - 1).abs().max() < 0.05
    # the same distribution as a user who has no context column at all
    torch.testing.assert_close(samples[1].mean(0), alone.mean(0), atol=0.1, rtol=0)
    torch.testing.assert_close(active._point(model, no_pairs)[0],
                               model.posterior(*no_pairs).z[0])
    choice = select_query(model, no_pairs, torch.randn(4, D), torch.randn(4, D), seed=0)
    assert choice.best.shape == (1,) and 0 <= int(choice.best) < 4


def test_bad_shapes_say_what_was_expected() -> None:
    model = tiny_model("spl").eval()
    context = random_context([2])
    with pytest.raises(ShapeError, match=r"pool_a must have shape \[P, 6\]"):
        select_query(model, context, torch.randn(4, D + 1), torch.randn(4, D + 1))
    with pytest.raises(ShapeError, match="asked must be a bool tensor"):
        select_query(model, context, torch.randn(4, D), torch.randn(4, D), torch.zeros(4))
    with pytest.raises(ShapeError, match="mask must be a bool tensor"):
        select_query(model, (context[0], context[1], context[2].float()),
                     torch.randn(4, D), torch.randn(4, D))


def test_stability_is_one_when_samples_agree_and_lower_when_they_split(
        monkeypatch: pytest.MonkeyPatch) -> None:
    model = linear_model()
    candidates = torch.zeros(3, D)
    candidates[0, 0], candidates[1, 0], candidates[2, 1] = 1.0, -1.0, 0.5
    context = one_user_context()
    monkeypatch.setattr(model, "posterior",
                        lambda c, r, m: type("P", (), {"z": torch.tensor([[2.0, 0.0]])})())
    agree = torch.tensor([[2.0, 0.0], [1.0, 0.1]]).repeat(4, 1)[None]  # [1, 8, 2]: top = 0
    monkeypatch.setattr(model, "sample_z", lambda c, r, m, n: agree[:, :n])
    assert top_stability(model, context, candidates, n=8).item() == 1.0
    split = torch.tensor([[2.0, 0.0], [-2.0, 0.0], [0.0, 2.0], [2.0, 0.0]]).repeat(2, 1)[None]
    monkeypatch.setattr(model, "sample_z", lambda c, r, m, n: split[:, :n])
    assert top_stability(model, context, candidates, n=8).item() == pytest.approx(0.5)


def test_seeded_selection_is_deterministic_and_leaves_the_rng_alone() -> None:
    model = tiny_model("spl", seed=3).eval()
    context = random_context([3], seed=1)
    pool_a, pool_b = torch.randn(9, D), torch.randn(9, D)
    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    first = select_query(model, context, pool_a, pool_b, n_samples=8, seed=7)
    assert torch.equal(torch.random.get_rng_state(), before)  # the caller's stream is untouched
    second = select_query(model, context, pool_a, pool_b, n_samples=8, seed=7)
    assert torch.equal(first.scores, second.scores) and torch.equal(first.best, second.best)
    other = select_query(model, context, pool_a, pool_b, n_samples=8, seed=8)
    assert not torch.equal(first.p_first, other.p_first)
    s1 = top_stability(model, context, pool_a[:4], n=8, seed=2)
    assert torch.equal(s1, top_stability(model, context, pool_a[:4], n=8, seed=2))


def test_redundancy_penalty_demotes_a_repeat_of_an_answered_pair(
        monkeypatch: pytest.MonkeyPatch) -> None:
    model = linear_model()
    z = torch.tensor([[1.0, 1.0], [-1.0, -1.0]]).repeat(4, 1)[None]  # [1, 8, 2]
    monkeypatch.setattr(model, "sample_z", lambda c, r, m, n: z[:, :n])
    pool_a, pool_b = torch.zeros(2, D), torch.zeros(2, D)
    pool_a[0, 0], pool_b[0, 0] = 1.0, -1.0  # the answered pair's direction, again
    pool_a[1, 1], pool_b[1, 1] = 1.0, -1.0  # a new direction, equally uncertain
    ctx_c, ctx_r = torch.zeros(1, 1, D), torch.zeros(1, 1, D)
    ctx_c[0, 0, 0], ctx_r[0, 0, 0] = -2.0, 2.0  # sides swapped: |cos| ignores the side
    context = (ctx_c, ctx_r, torch.ones(1, 1, dtype=torch.bool))
    plain = select_query(model, context, pool_a, pool_b, n_samples=8)
    assert plain.scores[0, 0] == pytest.approx(plain.scores[0, 1].item())  # BALD: a tie
    guarded = select_query(model, context, pool_a, pool_b, n_samples=8, redundancy=1.0)
    assert guarded.best.tolist() == [1]
    assert guarded.scores[0, 0] == pytest.approx(plain.scores[0, 0].item() - 1.0, abs=1e-5)
    assert guarded.scores[0, 1] == pytest.approx(plain.scores[0, 1].item(), abs=1e-5)
    # spread 1 is the posterior as is
    assert torch.equal(select_query(model, context, pool_a, pool_b, n_samples=8,
                                    spread=1.0).scores, plain.scores)


# -- the look-ahead selector and stopping signal --------------------------------------------


def scripted_lookahead(monkeypatch: pytest.MonkeyPatch, model: torch.nn.Module,
                       point: list[float]) -> None:
    """Point latent ``point``; each answer moves it by 3 along the sign of the answered
    pair's direction on the first two dimensions (chosen minus rejected), as an encoder that
    has learnt what each pair says would."""
    z_now = torch.tensor([point])  # [1, 2]
    monkeypatch.setattr(active, "_point", lambda m, c: z_now.expand(c[0].shape[0], -1))

    def lookahead_z(c, r, m, new_c, new_r):  # [B, M, D] -> [B, M, 2]
        return z_now[:, None] + 3 * torch.sign((new_c - new_r)[..., :2])

    monkeypatch.setattr(model, "lookahead_z", lookahead_z)


def lookahead_pool() -> tuple[torch.Tensor, torch.Tensor]:
    """0: attribute 0 (the user's known taste), 1, 2: attribute 1 (open), 3: no difference,
    4: attribute 0 again, weaker."""
    a, b = torch.zeros(5, D), torch.zeros(5, D)
    a[0, 0], b[0, 0] = 1.0, -1.0
    a[1, 1], b[1, 1] = 1.0, -1.0
    a[2, 1], b[2, 1] = 0.5, -0.5
    a[4, 0], b[4, 0] = 0.5, -0.5
    return a, b


def test_lookahead_prefers_an_open_pair_over_one_the_model_already_predicts(
        monkeypatch: pytest.MonkeyPatch) -> None:
    model = linear_model()
    scripted_lookahead(monkeypatch, model, [3.0, 0.0])  # attribute 0 known, attribute 1 open
    pool_a, pool_b = lookahead_pool()
    choice = select_query(model, one_user_context(), pool_a, pool_b, method="lookahead")
    scores = choice.scores[0]
    assert choice.best.tolist() == [1] or choice.best.tolist() == [2]
    assert choice.p_first[0, 0, 0] > 0.99  # pair 0's answer is already predicted ...
    assert scores[0] < 0.01 < scores[1]  # ... so asking it teaches (almost) nothing
    assert scores[3] == pytest.approx(0.0, abs=1e-6)  # an answer that moves nothing
    # by hand: answering pair 1 settles pair 2 (sigmoid(+-3)) and nothing else
    h = lambda q: -q * math.log(q) - (1 - q) * math.log(1 - q)  # noqa: E731
    assert scores[1] == pytest.approx((math.log(2) - h(torch.sigmoid(torch.tensor(3.0)).item())) / 4,
                                      abs=1e-5)
    # the same pair 0 is worth asking when the model is unsure about attribute 0
    scripted_lookahead(monkeypatch, model, [0.0, 0.0])
    unsure = lookahead_scores(model, one_user_context(), pool_a, pool_b)[0][0]
    assert unsure[0] > 10 * scores[0]


def test_lookahead_targets_leave_out_asked_pairs_and_are_capped(
        monkeypatch: pytest.MonkeyPatch) -> None:
    model = linear_model()
    scripted_lookahead(monkeypatch, model, [3.0, 0.0])
    pool_a, pool_b = lookahead_pool()
    asked = torch.tensor([False, False, True, False, False])  # pair 2 answered: no target
    scores, _ = lookahead_scores(model, one_user_context(), pool_a, pool_b, asked)
    assert scores[0, 1] == pytest.approx(0.0, abs=1e-6)  # its only partner is no target now
    choice = select_query(model, one_user_context(), pool_a, pool_b, asked, method="lookahead")
    assert torch.isinf(choice.scores[0, 2]) and choice.best.item() != 2
    assert active._targets(torch.zeros(2, 10, dtype=torch.bool), 4).tolist() == [[0, 3, 6, 9]] * 2
    assert active._targets(torch.ones(1, 3, dtype=torch.bool), 4).shape == (1, 0)
    everything = torch.ones(1, 5, dtype=torch.bool)
    assert (lookahead_scores(model, one_user_context(), pool_a, pool_b, everything)[0] == 0).all()


def test_lookahead_stability_is_the_chance_the_most_unsettling_answer_keeps_the_top(
        monkeypatch: pytest.MonkeyPatch) -> None:
    model = linear_model()
    scripted_lookahead(monkeypatch, model, [3.0, 0.5])
    candidates = torch.zeros(2, D)
    candidates[0, 1], candidates[1, 1] = 1.0, -1.0  # top: candidate 0 (z[1] = 0.5 > 0)
    pool_a, pool_b = lookahead_pool()
    context = one_user_context()
    # attribute-0 pairs cannot change a ranking that only attribute 1 decides
    assert lookahead_stability(model, context, candidates, pool_a[[0, 4]], pool_b[[0, 4]]).item() == 1.0
    # pair 1 answered "b" (probability 1 - sigmoid(1)) flips the top
    stay = lookahead_stability(model, context, candidates, pool_a[:2], pool_b[:2]).item()
    assert stay == pytest.approx(torch.sigmoid(torch.tensor(1.0)).item(), abs=1e-5)
    asked = torch.tensor([False, True])
    assert lookahead_stability(model, context, candidates, pool_a[:2], pool_b[:2], asked).item() == 1.0
    assert lookahead_stability(model, context, candidates, pool_a[:0], pool_b[:0]).item() == 1.0


@pytest.mark.parametrize("kind", ["spl", "vpl", "ivpl", "btl"])
def test_lookahead_runs_on_every_kind_and_is_deterministic(kind: str) -> None:
    model = tiny_model(kind, seed=1).eval()
    context = random_context([0, 2, 3], n_slots=3, seed=2)
    pool_a, pool_b = torch.randn(3, 6, D), torch.randn(3, 6, D)
    first = select_query(model, context, pool_a, pool_b, method="lookahead")
    again = select_query(model, context, pool_a, pool_b, method="lookahead")
    assert first.scores.shape == (3, 6) and first.p_first.shape == (3, 1, 6)
    assert torch.equal(first.scores, again.scores) and (first.scores >= 0).all()
    if kind == "btl":  # no latent: no answer changes anything
        assert torch.allclose(first.scores, torch.zeros(3, 6), atol=1e-6)
    candidates = torch.randn(7, D)
    stay = lookahead_stability(model, context, candidates[:4], pool_a, pool_b)
    assert stay.shape == (3,) and ((0 <= stay) & (stay <= 1)).all()
    # several prompts' candidate sets in one call: the same as one call per set
    both = lookahead_stability(model, context, candidates, pool_a, pool_b,
                               sets=[slice(0, 4), slice(4, 7)])
    assert both.shape == (3, 2) and torch.allclose(both[:, 0], stay)
    point = active._point(model, context)  # passing the point latent changes nothing
    assert torch.equal(lookahead_stability(model, context, candidates[:4], pool_a, pool_b,
                                           point=point), stay)
    assert torch.allclose(both[:, 1], lookahead_stability(model, context, candidates[4:],
                                                          pool_a, pool_b))


def test_unknown_method_is_refused() -> None:
    with pytest.raises(ValueError, match="method must be 'bald' or 'lookahead'"):
        select_query(tiny_model("spl").eval(), one_user_context(), torch.randn(2, D),
                     torch.randn(2, D), method="epig")


# -- the defaults the app and the benchmarks rely on -------------------------------------------


def test_the_selectors_defaults_are_32_samples_plain_bald_and_stop_at_0_9() -> None:
    """``STOP_AT`` is the threshold docs/results/active.md and the app's stop suggestion use;
    select_query's and top_stability's defaults are 32 samples, the posterior as is (spread 1),
    no redundancy penalty and BALD; the look-ahead uses up to 32 targets."""
    assert active.STOP_AT == 0.9
    model = tiny_model("spl", seed=2).eval()
    context = random_context([2, 1], seed=3)
    pool_a, pool_b = torch.randn(40, D), torch.randn(40, D)
    default = select_query(model, context, pool_a, pool_b, seed=5)
    explicit = select_query(model, context, pool_a, pool_b, n_samples=32, seed=5, spread=1.0,
                            redundancy=0.0, method="bald")
    assert default.p_first.shape == (2, 32, 40)
    assert torch.equal(default.scores, explicit.scores)
    stay = top_stability(model, context, pool_a[:5], seed=1)
    assert torch.equal(stay, top_stability(model, context, pool_a[:5], n=32, seed=1))
    assert ((0 < stay) & (stay < 1)).any(), "a share k/32 no other sample count gives"
    assert torch.equal(lookahead_scores(model, context, pool_a, pool_b)[0],
                       lookahead_scores(model, context, pool_a, pool_b, max_targets=32)[0])
    assert not torch.equal(lookahead_scores(model, context, pool_a, pool_b)[0],
                           lookahead_scores(model, context, pool_a, pool_b, max_targets=33)[0])


def test_each_malformed_context_is_a_shape_error_naming_what_was_expected() -> None:
    model = tiny_model("spl").eval()
    c, r, m = random_context([2, 1])
    pool = torch.randn(3, D)
    bad = {
        "a list of two": ([c, r], "context must be a tuple"),
        "a tensor": (c, "context must be a tuple"),
        "chosen of rank 2": ((c[0], r[0], m), r"both have shape \[B, C, 6\]"),
        "wrong width": ((c[..., :5], r[..., :5], m), r"both have shape \[B, C, 6\]"),
        "rejected of another shape": ((c, r[:, :1], m), r"both have shape \[B, C, 6\]"),
        "mask of another shape": ((c, r, m[:, :1]), r"mask must be a bool tensor of shape \[2, 2\]"),
        "float mask": ((c, r, m.float()), "mask must be a bool tensor"),
    }
    for name, (context, message) in bad.items():
        with pytest.raises(ShapeError, match=message):
            select_query(model, context, pool, pool)
        with pytest.raises(ShapeError, match=message):
            posterior_samples(model, context, 2)


def test_the_point_latent_is_the_eval_posterior_in_any_mode_and_the_mode_is_restored() -> None:
    model = tiny_model("spl", seed=1)
    context = random_context([2, 3], seed=2)
    model.train()
    point = active._point(model, context)
    assert model.training, "the caller's mode is restored"
    model.eval()
    assert torch.equal(point, model.posterior(*context).z)
    assert not model.training


def test_a_single_unasked_pair_is_still_a_target() -> None:
    asked = torch.tensor([[True, False, True, True]])
    assert active._targets(asked, 4).tolist() == [[1]]
    assert active._targets(torch.zeros(1, 3, dtype=torch.bool), 1).tolist() == [[0]]


def test_lookahead_with_a_single_target(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only pair 2 unanswered: it is the one target, and asking pair 1 (already answered, still
    scored) would settle it: ln 2 - H(sigmoid(3)) nats."""
    model = linear_model()
    scripted_lookahead(monkeypatch, model, [3.0, 0.0])
    pool_a, pool_b = lookahead_pool()
    asked = torch.tensor([True, True, False, True, True])
    scores, _ = lookahead_scores(model, one_user_context(), pool_a, pool_b, asked)
    h = lambda q: -q * math.log(q) - (1 - q) * math.log(1 - q)  # noqa: E731
    assert scores[0, 1] == pytest.approx(math.log(2) - h(torch.sigmoid(torch.tensor(3.0)).item()),
                                         abs=1e-5)
    assert scores[0, 2] == 0.0  # a pair is never its own target


def test_lookahead_stability_shapes_with_more_candidates_than_dimensions() -> None:
    """Eight candidates, more than D = 6: without ``sets`` they form one set of all eight;
    with no pair left the answer is 1 in the same shapes."""
    model = tiny_model("spl", seed=1).eval()
    context = random_context([2, 3], seed=2)
    g = torch.Generator().manual_seed(3)
    candidates = torch.randn(8, D, generator=g)  # the point latent's top is candidate 7
    pool_a, pool_b = torch.randn(4, D, generator=g), torch.randn(4, D, generator=g)
    assert model.reward(candidates.expand(2, 8, D), active._point(model, context)).argmax(1).tolist() == [7, 7]
    whole = lookahead_stability(model, context, candidates, pool_a, pool_b)
    one_set = lookahead_stability(model, context, candidates, pool_a, pool_b, sets=[slice(0, 8)])
    assert whole.shape == (2,) and torch.equal(whole, one_set[:, 0])
    first_six = lookahead_stability(model, context, candidates, pool_a, pool_b, sets=[slice(0, 6)])
    assert not torch.equal(whole, first_six[:, 0])
    none_left = lookahead_stability(model, context, candidates, pool_a[:0], pool_b[:0])
    assert none_left.shape == (2,) and none_left.eq(1).all()
    sets = lookahead_stability(model, context, candidates, pool_a[:0], pool_b[:0],
                               sets=[slice(0, 4), slice(4, 8)])
    assert sets.shape == (2, 2) and sets.eq(1).all()


def test_redundancy_penalty_by_hand() -> None:
    """score = BALD - lambda max over the user's real labelled pairs of |cos(a - b, c - r)|;
    a padded context slot never counts."""
    model = tiny_model("spl", seed=4).eval()
    g = torch.Generator().manual_seed(6)
    c, r = torch.randn(2, 3, D, generator=g), torch.randn(2, 3, D, generator=g)
    mask = torch.tensor([[True, True, False], [True, False, False]])
    pool_a, pool_b = torch.randn(2, 5, D, generator=g), torch.randn(2, 5, D, generator=g)
    plain = select_query(model, (c, r, mask), pool_a, pool_b, n_samples=8, seed=1)
    guarded = select_query(model, (c, r, mask), pool_a, pool_b, n_samples=8, seed=1,
                           redundancy=0.7)
    for b in range(2):
        done = (c[b] - r[b])[mask[b]]  # [C_b, D]
        cos = torch.nn.functional.cosine_similarity((pool_a[b] - pool_b[b])[:, None],
                                                    done[None], dim=-1).abs()  # [P, C_b]
        torch.testing.assert_close(guarded.scores[b], plain.scores[b] - 0.7 * cos.amax(1),
                                   rtol=0, atol=1e-5)


def test_stability_when_the_first_sides_answer_flips_the_top_and_when_all_were_asked(
        monkeypatch: pytest.MonkeyPatch) -> None:
    model = linear_model()
    scripted_lookahead(monkeypatch, model, [3.0, 0.5])
    candidates = torch.zeros(2, D)
    candidates[0, 1], candidates[1, 1] = 1.0, -1.0  # top: candidate 0
    pool_a, pool_b = lookahead_pool()
    # pair 1 with its sides exchanged: now "a wins" (probability sigmoid(-1)) flips the top
    stay = lookahead_stability(model, one_user_context(), candidates, pool_b[1:2], pool_a[1:2])
    assert stay.item() == pytest.approx(torch.sigmoid(torch.tensor(1.0)).item(), abs=1e-5)
    everything = torch.tensor([True, True])
    assert lookahead_stability(model, one_user_context(), candidates, pool_a[:2], pool_b[:2],
                               everything).item() == 1.0
