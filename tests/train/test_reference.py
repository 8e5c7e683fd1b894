"""The reference points: the Bayes ceiling against brute-force enumeration, the low-rank
baseline on a planted low-rank world, and the few-shot helpers."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from spl_model import accuracy
from train.fewshot import labels_to_reach
from train.reference import (LowRankBaseline, bayes_active_order, bayes_margins, gaussian_points,
                             user_pairs)

# a tiny world: three users over two attributes, a non-uniform prior, two answerable pairs
POINTS = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.5]])
PRIOR = [0.5, 0.3, 0.2]
T = 1.5
PAIRS = [torch.tensor([2.0, 0.0]), torch.tensor([2.0, -2.0])]  # attr(a) - attr(b)
TARGET = torch.tensor([0.0, 2.0])


def sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def brute_predictive(answers: list[int]) -> float:
    """P(target's a wins | answers) by Bayes' rule with plain loops (answer 1 = a won)."""
    joint, evidence = 0.0, 0.0
    for w, prior in zip(POINTS.tolist(), PRIOR):
        like = prior
        for pair, won in zip(PAIRS, answers):
            p = sigmoid(T * sum(wi * d for wi, d in zip(w, pair.tolist())))
            like *= p if won else 1 - p
        evidence += like
        joint += like * sigmoid(T * sum(wi * d for wi, d in zip(w, TARGET.tolist())))
    return joint / evidence


def test_bayes_margins_equal_brute_force_enumeration() -> None:
    log_prior = torch.tensor(PRIOR).log()
    for answers in itertools.product([0, 1], repeat=2):
        for k in range(3):
            # an answer "b won" is the pair with chosen = b: its delta is negated
            given = [PAIRS[i] if answers[i] else -PAIRS[i] for i in range(k)]
            answered = torch.stack(given) if given else torch.zeros(0, 2)
            m = bayes_margins(POINTS, log_prior, [answered], [TARGET[None]], T)[0]
            assert m.item() == pytest.approx(brute_predictive(list(answers[:k])) - 0.5, abs=1e-6)


def test_no_decision_rule_beats_the_ceiling_in_expectation() -> None:
    """Expected accuracy over users and their random answers, for every deterministic rule
    mapping two answers to a prediction: the ceiling's rule attains the maximum."""
    log_prior = torch.tensor(PRIOR).log()
    outcomes = list(itertools.product([0, 1], repeat=2))

    def expected_accuracy(rule: dict[tuple[int, int], int]) -> float:
        total = 0.0
        for w, prior in zip(POINTS.tolist(), PRIOR):
            p_target = sigmoid(T * sum(wi * d for wi, d in zip(w, TARGET.tolist())))
            for ans in outcomes:
                p_ans = prior
                for pair, won in zip(PAIRS, ans):
                    p = sigmoid(T * sum(wi * d for wi, d in zip(w, pair.tolist())))
                    p_ans *= p if won else 1 - p
                total += p_ans * (p_target if rule[ans] else 1 - p_target)
        return total

    best = max(expected_accuracy(dict(zip(outcomes, bits)))
               for bits in itertools.product([0, 1], repeat=len(outcomes)))
    ceiling_rule = {}
    for ans in outcomes:
        answered = torch.stack([PAIRS[i] if ans[i] else -PAIRS[i] for i in range(2)])
        m = bayes_margins(POINTS, log_prior, [answered], [TARGET[None]], T)[0]
        ceiling_rule[ans] = int(m.item() > 0)
    assert expected_accuracy(ceiling_rule) == pytest.approx(best, abs=1e-12)


def test_monte_carlo_ceiling_matches_quadrature_in_one_dimension() -> None:
    """A continuous N(0.3, 0.5^2) prior on one weight: prior draws vs a fine grid."""
    points = gaussian_points([0.3], [[0.25]], 200_000, seed=1)
    assert points.mean().item() == pytest.approx(0.3, abs=0.01)
    assert points.std().item() == pytest.approx(0.5, abs=0.01)
    answered = torch.tensor([[2.0], [-2.0], [2.0]])  # a won, b won, a won
    grid = torch.linspace(-4, 4, 20_001, dtype=torch.float64)[:, None]
    log_prior = -((grid[:, 0] - 0.3) ** 2) / (2 * 0.25)
    exact = bayes_margins(grid, log_prior, [answered], [torch.tensor([[2.0]])], 2.0)[0]
    mc = bayes_margins(points, torch.zeros(len(points)), [answered], [torch.tensor([[2.0]])], 2.0)[0]
    assert mc.item() == pytest.approx(exact.item(), abs=5e-3)


def test_a_symmetric_prior_ties_before_any_answer() -> None:
    points = gaussian_points([0.0, 0.0], [[1.0, 0.3], [0.3, 1.0]], 10_000)
    m = bayes_margins(points, torch.zeros(len(points)), [torch.zeros(0, 2)],
                      [torch.tensor([[2.0, 0.0], [0.0, -2.0]])], 1.0)[0]
    assert m.abs().max() < 0.01
    assert accuracy(torch.zeros(4)) == 0.5  # a tie is a coin flip, not a loss


def planted_world(n_users: int, seed: int = 0):
    """Embeddings whose first 2 coordinates carry two attributes; users weigh them around a
    shared taste (+2 on the first attribute), so even the prior alone predicts something."""
    g = torch.Generator().manual_seed(seed)
    n_texts, D = 400, 12
    emb = torch.randn(n_texts, D, generator=g)
    users = torch.randn(n_users, 2, generator=g) * 2 + torch.tensor([2.0, 0.0])
    pairs = {}
    for u in range(n_users):
        c = torch.randint(0, n_texts, (30,), generator=g)
        r = torch.randint(0, n_texts, (30,), generator=g)
        better = (emb[c, :2] - emb[r, :2]) @ users[u] > 0
        pairs[f"u{u}"] = (torch.where(better, c, r), torch.where(better, r, c))
    return emb, users, pairs, g


def test_low_rank_baseline_learns_a_planted_two_dimensional_world() -> None:
    emb, _, pairs, g = planted_world(150)
    base = LowRankBaseline.fit(emb, pairs, rank=2, epochs=60, lr=2e-2, seed=0)
    assert base.basis.shape == (2, 12) and base.prior_cov.shape == (2, 2)
    # a new user: 8 answers, then 200 held-out pairs
    w = torch.tensor([1.5, -2.0])
    c, r = torch.randint(0, 400, (208,), generator=g), torch.randint(0, 400, (208,), generator=g)
    better = (emb[c, :2] - emb[r, :2]) @ w > 0
    chosen, rejected = torch.where(better, c, r), torch.where(better, r, c)
    answered = emb[chosen[:8]] - emb[rejected[:8]]
    after = accuracy(base.margins(answered, emb[chosen[8:]], emb[rejected[8:]]))
    before = accuracy(base.margins(answered[:0], emb[chosen[8:]], emb[rejected[8:]]))
    assert after > 0.85 and after > before + 0.1
    # the prior mean is the training users' shared taste: it gets the sign of attribute 0
    shared = torch.tensor([1.0, 0.0])
    agree = ((emb[chosen[8:], :2] - emb[rejected[8:], :2]) @ shared > 0).float()
    prior_says = (base.margins(answered[:0], emb[chosen[8:]], emb[rejected[8:]]) > 0).float()
    assert (prior_says == agree).float().mean() > 0.8


def test_low_rank_map_is_the_minimum_of_its_objective() -> None:
    torch.manual_seed(0)
    base = LowRankBaseline(torch.randn(3, 5), torch.tensor([0.2, -0.1, 0.0]),
                           torch.tensor([[1.0, 0.2, 0.0], [0.2, 0.5, 0.0], [0.0, 0.0, 2.0]]))
    answered = torch.randn(6, 5)
    u = base.user_weights(answered)
    precision = torch.linalg.inv(base.prior_cov)

    def objective(v: torch.Tensor) -> torch.Tensor:
        d = v - base.prior_mean
        return -torch.nn.functional.logsigmoid(answered @ base.basis.T @ v).sum() + d @ precision @ d / 2

    for _ in range(20):
        assert objective(u) <= objective(u + 0.01 * torch.randn(3)) + 1e-9
    assert torch.equal(base.user_weights(answered[:0]), base.prior_mean)


def test_user_pairs_gathers_context_and_targets_once() -> None:
    from types import SimpleNamespace

    split = SimpleNamespace(
        users=["a", "a", "b"], chosen=torch.tensor([1, 2, 3]), rejected=torch.tensor([4, 5, 6]),
        ctx_chosen=torch.tensor([[7, 8], [7, 8], [9, 0]]), ctx_rejected=torch.tensor([[10, 11], [10, 11], [12, 0]]),
        ctx_mask=torch.tensor([[True, True], [True, True], [True, False]]))
    pairs = user_pairs(split)
    assert sorted(zip(pairs["a"][0].tolist(), pairs["a"][1].tolist())) == [(1, 4), (2, 5), (7, 10), (8, 11)]
    assert sorted(zip(pairs["b"][0].tolist(), pairs["b"][1].tolist())) == [(3, 6), (9, 12)]
    assert len(user_pairs(split, max_context=0)["a"][0]) == 2


def test_labels_to_reach() -> None:
    assert labels_to_reach([0.5, 0.7, 0.8, 0.9]) == pytest.approx(2.6)
    assert labels_to_reach([0.5, 0.9, 0.9, 0.9]) == pytest.approx(0.9)
    assert labels_to_reach([0.6, 0.6, 0.6]) == pytest.approx(1.0)


# -- the ceiling's and the baseline's numbers written out --------------------------------------


@pytest.mark.parametrize("n", [5, 6])
def test_gaussian_points_are_seeded_antithetic_draws(n: int) -> None:
    mean, cov = [1.0, -2.0], [[2.0, 0.5], [0.5, 1.0]]
    points = gaussian_points(mean, cov, n)  # seed 0 by default
    assert torch.equal(points, gaussian_points(mean, cov, n, seed=0))
    chol = torch.linalg.cholesky(torch.tensor(cov, dtype=torch.float64))
    g = torch.Generator().manual_seed(0)
    half = torch.randn((n + 1) // 2, 2, generator=g, dtype=torch.float64) @ chol.T
    expected = torch.tensor(mean, dtype=torch.float64) + torch.cat([half, -half])[:n]
    torch.testing.assert_close(points, expected, rtol=0, atol=0)


def test_bayes_margins_of_users_with_different_counts_equal_each_user_alone() -> None:
    g = torch.Generator().manual_seed(1)
    points = torch.randn(64, 3, generator=g, dtype=torch.float64)
    answered = [torch.randn(k, 3, generator=g) for k in (0, 2, 2, 3, 2)]
    targets = [torch.randn(r, 3, generator=g) for r in (4, 4, 5, 4, 4)]
    log_prior = torch.randn(64, generator=g, dtype=torch.float64)
    together = bayes_margins(points, log_prior, answered, targets, 2.0)
    small_chunks = bayes_margins(points, log_prior, answered, targets, 2.0, chunk=1)
    for i in range(5):
        alone = bayes_margins(points, log_prior, answered[i:i + 1], targets[i:i + 1], 2.0)[0]
        torch.testing.assert_close(together[i], alone, rtol=0, atol=1e-7)
        torch.testing.assert_close(small_chunks[i], alone, rtol=0, atol=1e-7)
        w = torch.softmax(log_prior + torch.nn.functional.logsigmoid(
            2.0 * points @ answered[i].double().T).sum(1), 0)
        by_hand = w @ torch.sigmoid(2.0 * points @ targets[i].double().T) - 0.5
        torch.testing.assert_close(alone, by_hand.float(), rtol=0, atol=1e-7)


def test_low_rank_map_zeroes_the_objectives_gradient_from_the_first_answer() -> None:
    torch.manual_seed(0)
    base = LowRankBaseline(torch.randn(3, 5), torch.tensor([0.2, -0.1, 0.0]),
                           torch.tensor([[1.0, 0.2, 0.0], [0.2, 0.5, 0.0], [0.0, 0.0, 2.0]]))
    precision = torch.linalg.inv(base.prior_cov)
    for k in (1, 6):
        answered = torch.randn(k, 5) * 2
        u = base.user_weights(answered).requires_grad_()
        d = u - base.prior_mean
        objective = -torch.nn.functional.logsigmoid(answered @ base.basis.T @ u).sum() \
            + d @ precision @ d / 2
        (grad,) = torch.autograd.grad(objective, u)
        assert grad.abs().max() < 1e-5, k
        assert (u.detach() - base.prior_mean).abs().max() > 1e-2, "an answer moves u"


def test_low_rank_fit_is_the_written_out_joint_fit_with_the_published_defaults() -> None:
    """Adam on the mean Bradley-Terry loss + user_l2 |u|^2 / (2 n), batches of 16 * batch_users
    rows, basis ~ N(0, 1/D), u ~ N(0, 0.01); the prior is the users' mean and covariance + 1e-4 I.
    The defaults (rank 8, 30 epochs, lr 5e-3, user_l2 1e-2, 256 users a batch, seed 0) are
    the baseline of docs/results."""
    import torch.nn.functional as F

    emb, _, pairs, _ = planted_world(12)
    default = LowRankBaseline.fit(emb, pairs)
    explicit = LowRankBaseline.fit(emb, pairs, rank=8, epochs=30, lr=5e-3, user_l2=1e-2,
                                   batch_users=256, seed=0)
    # not bit-equal: with several threads the backward's scatter-add sums in any order
    for name in ("basis", "prior_mean", "prior_cov"):
        torch.testing.assert_close(getattr(default, name), getattr(explicit, name),
                                   rtol=0, atol=1e-5, msg=name)
    assert default.basis.shape == (8, 12)
    many_emb, _, many, _ = planted_world(150)  # 4,500 pairs: more than 16 x 256 a batch
    one_epoch = LowRankBaseline.fit(many_emb, many, epochs=1)
    torch.testing.assert_close(one_epoch.basis, LowRankBaseline.fit(many_emb, many, epochs=1,
                                                                   batch_users=256).basis,
                               rtol=0, atol=1e-5)

    fitted = LowRankBaseline.fit(emb, pairs, rank=2, epochs=3, lr=1e-2, user_l2=0.5,
                                 batch_users=4, seed=3)
    g = torch.Generator().manual_seed(3)
    users = sorted(pairs)
    diffs = [emb[pairs[u][0]] - emb[pairs[u][1]] for u in users]
    owner = torch.cat([torch.full((len(d),), i) for i, d in enumerate(diffs)])
    diff = torch.cat(diffs)
    basis = (torch.randn(2, 12, generator=g) / math.sqrt(12)).requires_grad_()
    u = (torch.randn(len(users), 2, generator=g) * 0.1).requires_grad_()
    opt = torch.optim.Adam([basis, u], lr=1e-2)
    n = len(diff)
    n_batches = 0
    for _ in range(3):
        for rows in torch.randperm(n, generator=g).split(64):
            margin = ((diff[rows] @ basis.T) * u[owner[rows]]).sum(1)
            loss = -F.logsigmoid(margin).mean() + 0.5 * (u ** 2).sum() / (2 * n)
            opt.zero_grad()
            loss.backward()
            opt.step()
            n_batches += 1
    assert n_batches == 3 * math.ceil(n / 64) > 3
    u = u.detach()
    torch.testing.assert_close(fitted.basis, basis.detach(), rtol=0, atol=1e-6)
    torch.testing.assert_close(fitted.prior_mean, u.mean(0), rtol=0, atol=1e-6)
    torch.testing.assert_close(fitted.prior_cov, torch.cov(u.T) + 1e-4 * torch.eye(2),
                               rtol=0, atol=1e-6)


def _brute_bald_order(points: list[list[float]], prior: list[float], deltas: list[list[float]],
                      real: list[bool], temperature: float) -> list[int]:
    """Greedy BALD with the posterior recomputed from scratch by loops at every step."""
    def p_win(w: list[float], d: list[float]) -> float:
        return sigmoid(temperature * sum(a * b for a, b in zip(w, d)))

    def h(p: float) -> float:
        return -sum(q * math.log(q) for q in (p, 1 - p) if q > 0)

    order: list[int] = []
    for _ in range(len(deltas)):
        post = [pr * math.prod(p_win(w, deltas[c]) for c in order if real[c])
                for w, pr in zip(points, prior)]
        post = [q / sum(post) for q in post]
        scores = {c: h(sum(q * p_win(w, deltas[c]) for q, w in zip(post, points)))
                  - sum(q * h(p_win(w, deltas[c])) for q, w in zip(post, points))
                  for c in range(len(deltas)) if real[c] and c not in order}
        if scores:
            top = max(scores.values())
            order.append(min(c for c, v in scores.items() if v == top))
        else:
            order.append(min(c for c in range(len(deltas)) if c not in order))
    return order


@pytest.mark.parametrize("seed", range(6))
def test_bayes_active_order_is_greedy_bald_by_brute_force(seed: int) -> None:
    """Every pick, for users with and without padding, against loops over a discrete prior."""
    g = torch.Generator().manual_seed(seed)
    points = torch.randn(5, 3, generator=g)
    prior = torch.rand(5, generator=g) + 0.1
    ctx = torch.randn(3, 5, 3, generator=g) * 2  # three users, five columns
    mask = torch.tensor([[True] * 5, [True, True, True, False, False], [False] * 5])
    order = bayes_active_order(points, prior.log(), ctx, mask, temperature=1.3)
    for u in range(3):
        expected = _brute_bald_order(points.tolist(), (prior / prior.sum()).tolist(),
                                     ctx[u].tolist(), mask[u].tolist(), 1.3)
        assert order[u].tolist() == expected, u
        assert sorted(order[u].tolist()) == list(range(5))  # a permutation
    assert order[1, 3:].tolist() == [3, 4] and order[2].tolist() == [0, 1, 2, 3, 4]


def test_bayes_active_order_does_not_peek_at_the_first_answer() -> None:
    """A pair's information is the same whichever side the user chose: flipping every
    recorded answer leaves the first question unchanged (later ones follow the answers)."""
    g = torch.Generator().manual_seed(3)
    points, ctx = torch.randn(50, 4, generator=g), torch.randn(8, 6, 4, generator=g)
    mask = torch.ones(8, 6, dtype=torch.bool)
    kept = bayes_active_order(points, torch.zeros(50), ctx, mask, 1.0)
    flipped = bayes_active_order(points, torch.zeros(50), -ctx, mask, 1.0)
    assert torch.equal(kept[:, 0], flipped[:, 0])


def test_fit_readout_is_the_ridge_solution_by_hand() -> None:
    """W = (X'X + l2 I)^-1 X'Y in float64, l2 = 1e-2 by default, no intercept."""
    from train.reference import fit_readout

    X = torch.tensor([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
    Y = torch.tensor([[1.0, 0.0, 2.0], [0.0, 1.0, -1.0], [2.0, 2.0, 0.0]])
    xtx = torch.tensor([[2.0, 1.0], [1.0, 5.0]], dtype=torch.float64)
    xty = torch.tensor([[3.0, 2.0, 2.0], [2.0, 4.0, -2.0]], dtype=torch.float64)
    for l2 in (1e-2, 0.5):
        expected = torch.linalg.inv(xtx + l2 * torch.eye(2, dtype=torch.float64)) @ xty
        got = fit_readout(X, Y) if l2 == 1e-2 else fit_readout(X, Y, l2=l2)
        assert got.dtype == torch.float64
        torch.testing.assert_close(got, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize(("diffs", "deltas"), [
    (torch.zeros(3, 4), torch.zeros(2, 6)),  # rows differ
    (torch.zeros(3), torch.zeros(3, 2)),  # diffs not 2-D
    (torch.zeros(3, 4), torch.zeros(3)),  # deltas not 2-D
])
def test_fit_readout_refuses_inputs_that_are_not_two_tables_of_one_length(diffs, deltas) -> None:
    from train.reference import fit_readout

    with pytest.raises(ValueError, match="must share N"):
        fit_readout(diffs, deltas)
