"""Reference points for personalization: the world's Bayes ceiling and a low-rank baseline.

A personalized reward model is only read beside what is possible on the same split:

- **Bayes ceiling** (:func:`bayes_margins`): the posterior predictive of a user's next answer
  under the world's *true* prior over user weights ``w``, its attribute vectors and its
  Bradley-Terry answer model ``P(a > b | w) = sigmoid(T w . (attr_a - attr_b))``. No model can
  beat it in expectation with the same k answers. Exact for a discrete prior (every point
  weighed), Monte Carlo for a continuous one (S prior draws, self-normalised importance
  weights: the draws are the points, each of weight 1/S).
- **Low-rank baseline** (:class:`LowRankBaseline`, in the style of LoRe / PAL): a shared basis
  of B linear reward heads on the frozen embeddings, ``r_u(x) = u . (V phi(x))``, fitted with
  one weight vector per training user; a new user's ``u`` is the MAP estimate from their k
  answers under a Gaussian prior fitted to the training users' vectors. No encoder, no latent
  model: what a careful linear method gets from the same answers.
- **Read-out Bayes** (:func:`fit_readout` + :func:`bayes_margins`): the same posterior
  predictive, with each pair's attribute difference replaced by a ridge read-out of it from
  the pair's *embedding* difference (fitted on the train split's labelled attributes). It
  asks how much of the world's ceiling survives the backbone: the models see responses only
  through these embeddings, so the gap between ``bayes`` and this curve is the backbone's,
  the gap below it the model's. It is a reference, not a bound: a non-linear reading of the
  same embeddings could do a little better.

Both return *margins* (positive = the label's side is predicted), so accuracy has one
definition, :func:`spl_model.accuracy` (a tie counts half).

Example (the exact ceiling of a two-point world after one answer):
    >>> import torch
    >>> points = torch.tensor([[1.0, 0.0], [0.0, 1.0]])  # two users, uniform prior
    >>> answered = [torch.tensor([[2.0, 0.0]])]  # one answer: preferred attribute 0
    >>> targets = [torch.tensor([[2.0, 0.0], [0.0, 2.0]])]
    >>> m = bayes_margins(points, torch.zeros(2), answered, targets, temperature=1.0)
    >>> [round(v, 3) for v in m[0].tolist()]
    [0.243, 0.138]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from spl_model.active import _entropy
from train.fewshot import _next_unpicked

__all__ = ["LowRankBaseline", "TIE", "bayes_active_order", "bayes_margins", "fit_readout",
           "gaussian_points", "stacked_differences", "user_pairs"]

TIE = 1e-9  # |P(chosen wins) - 1/2| below this is a tie (float rounding)


def gaussian_points(mean: Sequence[float], cov: Sequence[Sequence[float]], n: int,
                    seed: int = 0) -> Tensor:
    """``n`` draws ``[n, A]`` from ``N(mean, cov)`` (float64, seeded): a continuous prior's points.

    Antithetic: the second half mirrors the first through the mean, so the draws are exactly
    as symmetric as the prior (before any answer, every pair ties, as it should).
    """
    mean_t = torch.tensor(mean, dtype=torch.float64)
    chol = torch.linalg.cholesky(torch.tensor(cov, dtype=torch.float64))
    g = torch.Generator().manual_seed(seed)
    half = torch.randn((n + 1) // 2, len(mean_t), generator=g, dtype=torch.float64) @ chol.T
    return mean_t + torch.cat([half, -half])[:n]


def fit_readout(diffs: Tensor, deltas: Tensor, l2: float = 1e-2) -> Tensor:
    """Ridge read-out ``W [D, A]`` with ``deltas ~ diffs @ W`` (float64, no intercept).

    Args:
        diffs: ``[N, D]`` embedding differences ``phi(chosen) - phi(rejected)`` of labelled pairs.
        deltas: ``[N, A]`` their attribute differences ``attr(chosen) - attr(rejected)``.
        l2: ridge penalty (``W = (X'X + l2 I)^-1 X'Y``).

    A pair and its swap give opposite differences, so no intercept is needed (or wanted).

    Example (an exact linear world is read back exactly, up to the ridge):
        >>> X = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
        >>> W = fit_readout(X, X @ torch.tensor([[2.0], [-1.0]]), l2=1e-9)
        >>> [round(v, 4) for v in W[:, 0].tolist()]
        [2.0, -1.0]
    """
    if diffs.ndim != 2 or deltas.ndim != 2 or len(diffs) != len(deltas):
        raise ValueError(f"diffs [N, D] and deltas [N, A] must share N; got "
                         f"{list(diffs.shape)} and {list(deltas.shape)}.")
    X, Y = diffs.double(), deltas.double()
    eye = torch.eye(X.shape[1], dtype=torch.float64)
    return torch.linalg.solve(X.T @ X + l2 * eye, X.T @ Y)


@torch.no_grad()
def bayes_margins(points: Tensor, log_prior: Tensor, answered: Sequence[Tensor],
                  targets: Sequence[Tensor], temperature: float,
                  chunk: int = 16) -> list[Tensor]:
    """Posterior-predictive margins ``P(target's chosen wins | answers) - 1/2`` per user.

    Args:
        points: ``[S, A]`` candidate user weights (a discrete prior's support, or prior draws).
        log_prior: ``[S]`` their log prior weights (unnormalised; zeros for prior draws).
        answered: per user ``[k, A]``: ``attr(chosen) - attr(rejected)`` of each answer given.
        targets: per user ``[R, A]``: ``attr(chosen) - attr(rejected)`` of each held-out pair.
        temperature: T of the Bradley-Terry answer model.
        chunk: users computed together (users with the same k and R share one batched product).
    Returns:
        per user ``[R]`` margins in ``[-1/2, 1/2]``: positive when the ceiling predicts the
        chosen side, 0 when it cannot tell (every pair before any answer, under a symmetric
        prior).
    """
    if len(answered) != len(targets):
        raise ValueError(f"{len(answered)} users' answers but {len(targets)} users' targets.")
    points = points.double()
    log_prior = log_prior.double()
    out: list[Tensor | None] = [None] * len(answered)
    shapes: dict[tuple[int, int], list[int]] = {}
    for i, (ans, tgt) in enumerate(zip(answered, targets)):
        shapes.setdefault((ans.shape[0], tgt.shape[0]), []).append(i)
    for users in shapes.values():
        for start in range(0, len(users), chunk):
            group = users[start:start + chunk]
            ans = torch.stack([answered[i] for i in group]).double()  # [U, k, A]
            tgt = torch.stack([targets[i] for i in group]).double()  # [U, R, A]
            logits = temperature * torch.einsum("sa,uka->usk", points, ans)  # [U, S, k]
            log_w = log_prior + F.logsigmoid(logits).sum(dim=2)  # [U, S]
            weights = torch.softmax(log_w, dim=1)  # [U, S]
            p_chosen = torch.sigmoid(temperature * torch.einsum("sa,ura->usr", points, tgt))
            margin = torch.einsum("us,usr->ur", weights, p_chosen) - 0.5  # [U, R]
            # below TIE the difference is rounding, not evidence: call it a tie
            margin = torch.where(margin.abs() < TIE, torch.zeros_like(margin), margin).float()
            for row, i in enumerate(group):
                out[i] = margin[row]
    return out  # type: ignore[return-value]


def bayes_active_order(points: Tensor, log_prior: Tensor, context: Tensor, mask: Tensor,
                       temperature: float) -> Tensor:
    """The order ``[U, C]`` in which the exact posterior would ask each user's answered pairs.

    Greedy BALD, the selector the models use (:func:`spl_model.active.select_query`), on the
    ceiling's own posterior: at each step the unasked pair with the largest mutual information
    ``H(E[p]) - E[H(p)]`` between its answer and ``w`` (``p = sigmoid(T w . delta)``, expectation
    over the posterior) is asked, and the user's recorded answer to it updates the weights. A
    pair's information does not depend on which side was chosen, so the choice never peeks at
    the answer. Real pairs come first (ties: the lower column), padding keeps its place.

    Args:
        points, log_prior, temperature: the prior and answer model, as in :func:`bayes_margins`.
        context: ``[U, C, A]`` each answered pair's ``attr(chosen) - attr(rejected)``.
        mask: ``[U, C]`` which columns are real answers.

    Example (the first answer says nothing about attribute 1, so it is asked last):
        >>> points = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])
        >>> ctx = torch.tensor([[[0.0, 0.0], [2.0, 0.0], [0.0, 0.5]]])
        >>> bayes_active_order(points, torch.zeros(4), ctx, torch.ones(1, 3, dtype=torch.bool), 1.0)
        tensor([[1, 2, 0]])
    """
    points, context = points.double(), context.double()
    U, C, _ = context.shape
    log_w = log_prior.double().expand(U, -1).clone()  # [U, S]
    logits = temperature * torch.einsum("sa,uca->usc", points, context)  # [U, S, C]
    p = torch.sigmoid(logits)
    asked = ~mask.clone()
    order = torch.zeros(U, C, dtype=torch.long)
    users = torch.arange(U)
    for step in range(C):
        w = torch.softmax(log_w, dim=1)  # [U, S]
        p_mean = torch.einsum("us,usc->uc", w, p)
        bald = _entropy(p_mean) - torch.einsum("us,usc->uc", w, _entropy(p))  # [U, C]
        bald = bald.masked_fill(asked, -math.inf)
        # a user out of real pairs takes the lowest unasked column (padding keeps its place)
        lowest = _next_unpicked(order[:, :step], C)
        best = torch.where(torch.isinf(bald).all(1), lowest, bald.argmax(1))
        order[:, step] = best
        real = mask[users, best]
        log_w = log_w + torch.where(real[:, None], F.logsigmoid(logits[users, :, best]), 0.0)
        asked = asked.clone()
        asked[users, best] = True
    return order


def user_pairs(split: Any, max_context: int | None = None) -> dict[str, tuple[Tensor, Tensor]]:
    """Every distinct labelled pair of each user of an ``EncodedSplit``: context and targets.

    Returns ``{user: (chosen ids [n], rejected ids [n])}`` (text ids into the embedding
    matrix), the user's context answers (first ``max_context`` of each row) and target pairs.
    """
    seen: dict[str, dict[tuple[int, int], None]] = {}
    ctx_c, ctx_r, mask = split.ctx_chosen, split.ctx_rejected, split.ctx_mask
    if max_context is not None:
        ctx_c, ctx_r, mask = ctx_c[:, :max_context], ctx_r[:, :max_context], mask[:, :max_context]
    for i, user in enumerate(split.users):
        pairs = seen.setdefault(user, {})
        pairs[(int(split.chosen[i]), int(split.rejected[i]))] = None
        for c, r in zip(ctx_c[i][mask[i]].tolist(), ctx_r[i][mask[i]].tolist()):
            pairs[(c, r)] = None
    return {u: (torch.tensor([c for c, _ in p]), torch.tensor([r for _, r in p]))
            for u, p in seen.items()}


def stacked_differences(embeddings: Tensor, pairs: dict[str, tuple[Tensor, Tensor]],
                        users: list[str]) -> tuple[Tensor, Tensor]:
    """``(owner [P], diff [P, D])``: every pair of ``users`` (in that order) as
    ``phi(chosen) - phi(rejected)``, with the index into ``users`` of the user who answered it.

    Example:
        >>> emb = torch.eye(3)
        >>> owner, diff = stacked_differences(emb, {"a": (torch.tensor([0, 1]), torch.tensor([2, 2])),
        ...                                         "b": (torch.tensor([2]), torch.tensor([0]))}, ["b", "a"])
        >>> owner.tolist(), diff.tolist()
        ([0, 1, 1], [[-1.0, 0.0, 1.0], [1.0, 0.0, -1.0], [0.0, 1.0, -1.0]])
    """
    diffs = [embeddings[pairs[u][0]] - embeddings[pairs[u][1]] for u in users]  # [n_u, D] each
    owner = torch.cat([torch.full((len(d),), i) for i, d in enumerate(diffs)])
    return owner, torch.cat(diffs)


@dataclass
class LowRankBaseline:
    """``r_u(x) = u . (V phi(x))``: B shared linear heads ``V [B, D]``, per-user ``u [B]``.

    Fit with :meth:`fit` on the training users; :meth:`margins` scores a new user's pairs with
    the MAP ``u`` from their answers under ``N(prior_mean, prior_cov)``, the Gaussian fitted
    to the training users' vectors (the prior mean alone for a user with no answers).
    """

    basis: Tensor  # [B, D]
    prior_mean: Tensor  # [B]
    prior_cov: Tensor  # [B, B]

    @classmethod
    def fit(cls, embeddings: Tensor, pairs: dict[str, tuple[Tensor, Tensor]], rank: int = 8,
            epochs: int = 30, lr: float = 5e-3, user_l2: float = 1e-2, batch_users: int = 256,
            seed: int = 0, progress: bool = False) -> LowRankBaseline:
        """Jointly fit the basis and one ``u`` per training user by Bradley-Terry likelihood.

        Args:
            embeddings: ``[U, D]`` every text's embedding.
            pairs: ``{user: (chosen ids, rejected ids)}`` of the training users (:func:`user_pairs`).
            rank: B, the number of reward heads.
            user_l2: weight of ``|u|^2 / 2`` per user (a unit Gaussian prior, scaled).
        """
        g = torch.Generator().manual_seed(seed)
        users = sorted(pairs)
        owner, diff = stacked_differences(embeddings, pairs, users)  # [P], [P, D]
        D = embeddings.shape[1]
        basis = (torch.randn(rank, D, generator=g) / math.sqrt(D)).requires_grad_()
        u = (torch.randn(len(users), rank, generator=g) * 0.1).requires_grad_()
        opt = torch.optim.Adam([basis, u], lr=lr)
        steps = range(epochs)
        if progress:
            from tqdm.auto import tqdm

            steps = tqdm(steps, desc="low-rank baseline", unit="epoch")
        n = len(diff)
        for _ in steps:
            for rows in torch.randperm(n, generator=g).split(batch_users * 16):
                margin = (u[owner[rows]] * (diff[rows] @ basis.T)).sum(-1)  # [b]
                loss = -F.logsigmoid(margin).mean() + user_l2 * u.pow(2).sum() / (2 * n)
                opt.zero_grad()
                loss.backward()
                opt.step()
        u = u.detach()
        cov = torch.cov(u.T) + 1e-4 * torch.eye(rank)
        return cls(basis.detach(), u.mean(0), cov)

    @torch.no_grad()
    def user_weights(self, answered: Tensor, steps: int = 25) -> Tensor:
        """MAP ``u [B]`` from answers ``[k, D]`` (``phi(chosen) - phi(rejected)``): Newton on
        ``-sum log sigmoid(u . V d_i) + (u - m)^T S^-1 (u - m) / 2``."""
        u = self.prior_mean.clone()
        if answered.shape[0] == 0:
            return u
        a = answered @ self.basis.T  # [k, B]
        precision = torch.linalg.inv(self.prior_cov)  # [B, B]
        for _ in range(steps):
            p = torch.sigmoid(a @ u)  # [k]
            grad = -(a * (1 - p)[:, None]).sum(0) + precision @ (u - self.prior_mean)
            hess = (a * (p * (1 - p))[:, None]).T @ a + precision
            u = u - torch.linalg.solve(hess, grad)
        return u

    @torch.no_grad()
    def margins(self, answered: Tensor, chosen: Tensor, rejected: Tensor) -> Tensor:
        """``r_u(chosen) - r_u(rejected)`` ``[R]`` for one user with answers ``[k, D]``
        (differences ``phi(chosen) - phi(rejected)``) and target embeddings ``[R, D]`` each."""
        u = self.user_weights(answered)
        return ((chosen - rejected) @ self.basis.T) @ u
