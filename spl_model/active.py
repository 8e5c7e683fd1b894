"""Active querying: which pair to ask a user next (BALD, or a look-ahead), and when to stop.

Query selection [1]: for a candidate pair (a, b) and posterior samples ``z_s ~ q(z | D_h)``,
``s = 1..S``, let ``p_s = sigmoid(r(a, z_s) - r(b, z_s))`` be each sample's probability that
``a`` is preferred. The expected information gain about the user's latent from the answer is
estimated by BALD (Bayesian Active Learning by Disagreement, Houlsby et al. 2011, eq. 3)::

    I(y; z | a, b, D_h) ~= H[ mean_s p_s ] - mean_s H[p_s],     H[p] = -p ln p - (1-p) ln(1-p)

in nats, in [0, ln 2]. It is high when the samples are each confident but *disagree* (the
answer would rule some of them out) and zero when every sample predicts the same outcome,
however uncertain that outcome is (an answer that is a coin flip for everyone teaches
nothing). The next query is the pool pair with the highest score among those not yet asked.

Look-ahead (``method="lookahead"``): BALD needs posterior samples that disagree where the
answers are still open. An amortised posterior trained with a small KL weight does not give
them: its samples collapse onto the point latent and the remaining uncertainty shows up as
*hedged predictions* of that point instead (``p ~ 1/2`` on the pairs the answers so far leave
open). The look-ahead score asks the encoder itself what each answer would change. For
candidate ``q = (a, b)`` with ``p_q = sigmoid(r(a, z*) - r(b, z*))`` under the point latent
``z*``, let ``z+`` and ``z-`` be the point latents of ``D_h`` plus "a wins" and plus "b wins",
and ``pi+(t), pi-(t)`` their predictions on each other pool pair ``t``. Then::

    I(y_q; y_t) = H[p_q pi+(t) + (1 - p_q) pi-(t)] - p_q H[pi+(t)] - (1 - p_q) H[pi-(t)]

is the information the answer to ``q`` carries about the answer to ``t``, with the encoder's
update as the belief update; the score averages it over ``t`` (the expected predictive
information gain, EPIG [2], on the pool as target set). It is 0 for a pair whose answer the
model already predicts (``p_q`` near 0 or 1) and for a pair whose answer, either way, moves no
other prediction; it is highest for an open pair whose answer settles many others.

Stopping signals: ``top_stability`` is the probability, under the posterior, that the response
ranked first with the posterior's point latent (eval-mode ``posterior(...).z``: the base mean
pushed through the flow) stays first, estimated as the share of S samples under which it does.
It is only as good as the samples' spread: when they collapse it reads ~1 before any answer.
``lookahead_stability`` asks the encoder instead: the chance that the top response survives
the answer to the most unsettling pool pair still to ask (what the app shows). Near 1, more
labels are unlikely to change the user's top pick; the app suggests finishing at ``STOP_AT``
= 0.9.

Empty context (no labels yet): the model itself gives a user with no labels the prior as base
posterior (``RewardModel._base_from_tokens``): samples are ``N(0, I)`` pushed through the flow
with zero contexts, and the point latent is the flow's image of 0, the same latent the
decoder was trained on for k = 0 rows. Nothing here special-cases it.

Dimensions (see :mod:`spl_model`): B users, C context pairs, P pool pairs, N candidates,
S posterior samples, D embedding width, Z latent width. Pools and candidates may be shared by
every user (``[P, D]``) or given per user (``[B, P, D]``).

References:
    [1] N. Houlsby, F. Huszar, Z. Ghahramani, M. Lengyel. Bayesian Active Learning for
        Classification and Preference Learning. arXiv:1112.5745, 2011.
    [2] F. Bickford Smith, A. Kirsch, S. Farquhar, Y. Gal, A. Foster, T. Rainforth.
        Prediction-oriented Bayesian Active Learning. AISTATS 2023.

Example:
    >>> from spl_model import ModelConfig, build_model
    >>> model = build_model(ModelConfig(kind="spl", embed_dim=8, latent_dim=4, hidden_dim=16))
    >>> model = model.eval()
    >>> context = (torch.randn(1, 2, 8), torch.randn(1, 2, 8), torch.ones(1, 2, dtype=torch.bool))
    >>> pool_a, pool_b = torch.randn(5, 8), torch.randn(5, 8)
    >>> choice = select_query(model, context, pool_a, pool_b, n_samples=16, seed=0)
    >>> choice.scores.shape, choice.best.shape
    (torch.Size([1, 5]), torch.Size([1]))
    >>> top_stability(model, context, torch.randn(4, 8), n=16, seed=0).shape
    torch.Size([1])
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import NamedTuple

import torch
from torch import Tensor

from spl_model.errors import ShapeError
from spl_model.models import RewardModel

__all__ = [
    "STOP_AT",
    "Context",
    "QueryChoice",
    "bald_scores",
    "lookahead_scores",
    "lookahead_stability",
    "posterior_samples",
    "select_query",
    "top_stability",
]

STOP_AT = 0.9  # top_stability at or above which the app suggests finishing

# the labels so far: (ctx_chosen [B, C, D], ctx_rejected [B, C, D], mask [B, C] bool)
Context = tuple[Tensor, Tensor, Tensor]


class QueryChoice(NamedTuple):
    """The selector's answer for B users.

    Attributes:
        scores: ``[B, P]`` BALD information gain in nats; ``-inf`` where the pair was asked.
        best: ``[B]`` long, index of the highest-scoring pair not asked yet; ``-1`` when every
            pair was asked.
        p_first: ``[B, S, P]`` each sample's probability that the pair's first side wins.
    """

    scores: Tensor
    best: Tensor
    p_first: Tensor


@contextmanager
def _seeded(seed: int | None) -> Iterator[None]:
    """Fork the global CPU RNG and seed it (``sample_z`` draws from it); a no-op for None.

    Forking restores the caller's RNG state afterwards, but threads share the global RNG:
    callers running this from several threads must serialise the calls to stay deterministic.
    """
    if seed is None:
        yield
        return
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def _check_context(model: RewardModel, context: Context) -> tuple[Tensor, Tensor, Tensor]:
    if not isinstance(context, (tuple, list)) or len(context) != 3:
        raise ShapeError("context must be a tuple (ctx_chosen [B, C, D], ctx_rejected [B, C, D], "
                         f"mask [B, C]); got {type(context).__name__} of length "
                         f"{len(context) if isinstance(context, (tuple, list)) else '?'}.")
    chosen, rejected, mask = context
    D = model.cfg.embed_dim
    if chosen.ndim != 3 or chosen.shape[-1] != D or rejected.shape != chosen.shape:
        raise ShapeError(f"ctx_chosen and ctx_rejected must both have shape [B, C, {D}]; got "
                         f"{list(chosen.shape)} and {list(rejected.shape)}.")
    if mask.dtype != torch.bool or tuple(mask.shape) != tuple(chosen.shape[:2]):
        raise ShapeError(f"mask must be a bool tensor of shape {list(chosen.shape[:2])}; got "
                         f"{mask.dtype} {list(mask.shape)}.")
    return chosen, rejected, mask


def _per_user(name: str, x: Tensor, B: int, D: int) -> Tensor:
    """``[K, D]`` (shared) or ``[B, K, D]`` -> ``[B, K, D]``."""
    if x.ndim == 2 and x.shape[1] == D:
        return x[None].expand(B, -1, -1)
    if x.ndim == 3 and x.shape[0] == B and x.shape[2] == D:
        return x
    raise ShapeError(f"{name} must have shape [P, {D}] (shared) or [{B}, P, {D}] (per user); "
                     f"got {list(x.shape)}.")


def posterior_samples(model: RewardModel, context: Context, n: int,
                      seed: int | None = None) -> Tensor:
    """``n`` latent samples per user ``[B, n, Z]`` (``model.sample_z``; an empty context
    samples the prior, see the module docstring).

    ``seed`` makes the draw reproducible (it forks and seeds torch's global CPU RNG).
    """
    chosen, rejected, mask = _check_context(model, context)
    with _seeded(seed):
        return model.sample_z(chosen, rejected, mask, n).float()


def _point(model: RewardModel, context: Context) -> Tensor:
    """The point latent ``[B, Z]``: eval-mode ``posterior(...).z`` (any mode)."""
    chosen, rejected, mask = context
    if not model.cfg.has_latent:
        return chosen.new_zeros(chosen.shape[0], 0, dtype=torch.float32)
    was_training = model.training
    model.eval()
    try:
        return model.posterior(chosen, rejected, mask).z.float()
    finally:
        model.train(was_training)


def _sample_rewards(model: RewardModel, x: Tensor, z: Tensor) -> Tensor:
    """Rewards of ``x [B, N, D]`` under every sample ``z [B, S, Z]``: ``[B, S, N]`` (one
    decoder call per user; the responses' half of its first layer runs once)."""
    return torch.stack([model.reward_grid(x[i], z[i]) for i in range(x.shape[0])])


def bald_scores(p_first: Tensor) -> Tensor:
    """BALD ``H[mean_s p_s] - mean_s H[p_s]`` in nats: ``p_first [..., S, P]`` -> ``[..., P]``.

    Example:
        >>> bald_scores(torch.tensor([[0.99, 0.5], [0.01, 0.5]]))  # samples disagree | agree
        tensor([0.6371, 0.0000])
    """
    gain = _entropy(p_first.mean(dim=-2)) - _entropy(p_first).mean(dim=-2)
    return gain.clamp_min(0.0)  # >= 0 by Jensen; clamp float round-off


def _entropy(p: Tensor) -> Tensor:
    """Binary entropy in nats, elementwise."""
    return torch.special.entr(p) + torch.special.entr(1 - p)


def _lookahead(model: RewardModel, context: Context, a: Tensor, b: Tensor,
               point: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """For pool ``a, b [B, P, D]``: the point latents after each possible next answer,
    ``z_after [B, P, 2, Z]`` (answer 0 = "a wins", 1 = "b wins", by ``model.lookahead_z``),
    and the point latent's probability that ``a`` wins now, ``p_first [B, P]``."""
    chosen, rejected, mask = context
    B, P = a.shape[:2]
    point = _point(model, context) if point is None else point  # [B, Z]
    now = model.reward(torch.cat([a, b], dim=1), point)  # [B, 2P]
    p_first = torch.sigmoid(now[:, :P] - now[:, P:])  # [B, P]
    D = a.shape[-1]
    new_c = torch.stack([a, b], dim=2).reshape(B, 2 * P, D)  # [B, 2P, D]: a0 b0 a1 b1 ...
    new_r = torch.stack([b, a], dim=2).reshape(B, 2 * P, D)
    z_after = model.lookahead_z(chosen, rejected, mask, new_c, new_r)  # [B, 2P, Z]
    return z_after.view(B, P, 2, model.cfg.z_dim), p_first


def _pool(model: RewardModel, context: Context, pool_a: Tensor,
          pool_b: Tensor) -> tuple[Tensor, Tensor]:
    """Checked context and pool, the pool as ``[B, P, D]`` per user (see ``_per_user``)."""
    chosen, _, _ = _check_context(model, context)
    B, D = chosen.shape[0], model.cfg.embed_dim
    a, b = _per_user("pool_a", pool_a, B, D), _per_user("pool_b", pool_b, B, D)  # [B, P, D]
    if a.shape != b.shape:
        raise ShapeError(f"pool_a and pool_b must have the same shape; got {list(pool_a.shape)} "
                         f"and {list(pool_b.shape)}.")
    return a, b


def _targets(asked: Tensor, n: int) -> Tensor:
    """Up to ``n`` target pairs per user among those not asked yet, evenly spread over the
    pool: ``[B, T]`` indices, ``T = min(n, fewest unasked pairs of any user)``."""
    B, P = asked.shape
    T = min(n, int((~asked).sum(dim=1).min()))
    if T <= 0:
        return asked.new_zeros(B, 0, dtype=torch.long)
    out = []
    for row in asked:
        free = (~row).nonzero().flatten()  # [F]
        pick = torch.linspace(0, len(free) - 1, T, device=row.device).round().long()
        out.append(free[pick])
    return torch.stack(out)


@torch.no_grad()
def lookahead_scores(model: RewardModel, context: Context, pool_a: Tensor, pool_b: Tensor,
                     asked: Tensor | None = None, max_targets: int = 32) -> tuple[Tensor, Tensor]:
    """Look-ahead EPIG of every pool pair (see the module docstring): ``([B, P], [B, P])``.

    Args:
        model: a latent model in eval mode.
        context: the labels so far (as in :func:`select_query`).
        pool_a, pool_b: ``[P, D]`` or ``[B, P, D]``: the candidates.
        asked: ``[P]`` or ``[B, P]`` bool, pairs already asked: never targets (their answer is
            known), but still scored.
        max_targets: the target set is up to this many unasked pool pairs, evenly spread
            over the pool (the expectation over targets is an average, so a sample of them
            serves; this bounds the cost for big pools).
    Returns:
        ``scores [B, P]`` in nats: the mean over targets ``t != q`` of the mutual information
        between the answers to ``q`` and ``t`` (0 with no target), and ``p_first [B, P]``,
        the point latent's probability that the first side wins.

    Cost: one tokenisation of the ``C + 2 P`` pairs, ``2 P`` set-encoder passes on ``C + 1``
    tokens, and the decoder on ``2 P`` latents x ``2 T`` responses per user.
    """
    a, b = _pool(model, context, pool_a, pool_b)
    B, P, D = a.shape
    done = a.new_zeros(B, P, dtype=torch.bool) if asked is None else asked.expand(B, P)
    z_after, p_first = _lookahead(model, context, a, b)  # [B, P, 2, Z], [B, P]
    idx = _targets(done, max_targets)  # [B, T]
    T = idx.shape[1]
    if T == 0:
        return a.new_zeros(B, P), p_first
    rows = torch.arange(B, device=a.device)[:, None]
    x = torch.cat([a[rows, idx], b[rows, idx]], dim=1)  # [B, 2T, D]
    after = _sample_rewards(model, x, z_after.reshape(B, P * 2, -1)).view(B, P, 2, 2 * T)
    pi = torch.sigmoid(after[..., :T] - after[..., T:])  # [B, P(query), 2(answer), T(target)]
    plus, minus = pi[:, :, 0], pi[:, :, 1]  # [B, P, T]
    w = p_first[:, :, None]  # [B, P, 1]
    mixed = w * plus + (1 - w) * minus
    mi = (_entropy(mixed) - w * _entropy(plus) - (1 - w) * _entropy(minus)).clamp_min(0.0)
    other = idx[:, None, :] != torch.arange(P, device=a.device)[None, :, None]  # [B, P, T]
    scores = (mi * other).sum(dim=2) / other.sum(dim=2).clamp_min(1)  # [B, P]
    return scores, p_first


@torch.no_grad()
def lookahead_stability(model: RewardModel, context: Context, candidates_emb: Tensor,
                        pool_a: Tensor, pool_b: Tensor, asked: Tensor | None = None,
                        sets: Sequence[slice] | None = None,
                        point: Tensor | None = None) -> Tensor:
    """Probability that the top candidate stays on top whatever the next answer: ``[B]``.

    For each pool pair ``q`` not asked yet, the chance that answering it keeps the point
    latent's top candidate on top is ``p_q [top(z+) = top] + (1 - p_q) [top(z-) = top]`` (the
    look-ahead latents of the module docstring); the signal is the smallest over ``q``: even
    the most unsettling next question leaves the top pick in place with this probability.
    1 when no pair is left to ask.

    Args:
        model: a latent model in eval mode.
        context: the labels so far (as in :func:`select_query`).
        candidates_emb: ``[N, D]`` or ``[B, N, D]`` responses to one prompt, or to several
            (see ``sets``).
        pool_a, pool_b: ``[P, D]`` or ``[B, P, D]``: the questions that could come next.
        asked: ``[P]`` or ``[B, P]`` bool, True for pairs already asked (ignored).
        sets: slices of the N candidates, each one prompt's responses, scored separately
            with one look-ahead for all (what the app's probe sets need).
        point: ``[B, Z]`` the point latent of ``context`` when the caller has it already
            (eval-mode ``posterior(...).z``, 0 for an empty context); else computed here.
    Returns:
        ``[B]`` in [0, 1]; ``[B, len(sets)]`` with ``sets``.
    """
    a, b = _pool(model, context, pool_a, pool_b)
    B, P, D = a.shape
    x = _per_user("candidates_emb", candidates_emb, B, D)  # [B, N, D]
    groups = [slice(0, x.shape[1])] if sets is None else list(sets)
    if P == 0:
        ones = x.new_ones(B, len(groups))
        return ones[:, 0] if sets is None else ones
    point = _point(model, context) if point is None else point  # [B, Z]
    now = model.reward(x, point)  # [B, N]
    z_after, p_first = _lookahead(model, context, a, b, point)  # [B, P, 2, Z], [B, P]
    after = _sample_rewards(model, x, z_after.reshape(B, P * 2, -1)).view(B, P, 2, -1)
    out = []
    for g in groups:
        top = now[:, g].argmax(dim=1)  # [B]
        same = (after[..., g].argmax(dim=3) == top[:, None, None]).float()  # [B, P, 2]
        stay = p_first * same[..., 0] + (1 - p_first) * same[..., 1]  # [B, P]
        if asked is not None:
            stay = stay.masked_fill(asked.expand(B, P), 1.0)
        out.append(stay.amin(dim=1))
    stacked = torch.stack(out, dim=1)  # [B, G]
    return stacked[:, 0] if sets is None else stacked


@torch.no_grad()
def select_query(model: RewardModel, context: Context, pool_a: Tensor, pool_b: Tensor,
                 asked: Tensor | None = None, n_samples: int = 32,
                 seed: int | None = None, spread: float = 1.0,
                 redundancy: float = 0.0, method: str = "bald") -> QueryChoice:
    """Score every pool pair (BALD, or the look-ahead EPIG) and pick the best one not asked yet.

    Args:
        model: a latent model in eval mode (BTL has no latent: every score is 0).
        context: the labels so far, ``(ctx_chosen [B, C, D], ctx_rejected [B, C, D],
            mask [B, C])``; ``C`` may be 0, and all-False rows use the prior.
        pool_a, pool_b: ``[P, D]`` or ``[B, P, D]`` the two sides of each candidate pair.
        asked: ``[P]`` or ``[B, P]`` bool, True for pairs already asked (excluded).
        n_samples: S posterior samples per user.
        seed: makes the samples reproducible (see :func:`posterior_samples`).
        spread: tempering ``tau``: each sample becomes ``z* + tau (z_s - z*)`` around the
            point latent ``z*`` (1 = the posterior as is; > 1 widens an overconfident
            amortized posterior so its samples disagree where the answers are still open).
        redundancy: ``lambda`` of an optional penalty (0 = pure BALD): the score becomes
            ``BALD - lambda * max_i |cos(a - b, c_i - r_i)|`` over the user's labelled pairs
            ``(c_i, r_i)``, so a pair whose embedding difference repeats an answered one
            ranks lower (a guard for posteriors that do not carry an answer over to similar
            pairs; not part of BALD).
        method: ``"bald"`` (posterior samples; ``n_samples``, ``seed`` and ``spread`` apply)
            or ``"lookahead"`` (:func:`lookahead_scores`; deterministic, ``p_first`` is then
            the point latent's ``[B, 1, P]``).
    Returns:
        :class:`QueryChoice` (scores ``[B, P]``, best ``[B]``, p_first ``[B, S, P]``).
    """
    if method not in ("bald", "lookahead"):
        raise ValueError(f"method must be 'bald' or 'lookahead', got {method!r}")
    a, b = _pool(model, context, pool_a, pool_b)  # [B, P, D] each
    B, P = a.shape[:2]
    excluded = torch.zeros(B, P, dtype=torch.bool, device=a.device) if asked is None else asked
    if excluded.dtype != torch.bool or excluded.shape[-1] != P or excluded.ndim not in (1, 2):
        raise ShapeError(f"asked must be a bool tensor of shape [{P}] or [{B}, {P}]; got "
                         f"{excluded.dtype} {list(excluded.shape)}.")
    excluded = excluded.expand(B, P)
    if method == "lookahead":
        scores, p_point = lookahead_scores(model, context, a, b, excluded)  # [B, P] each
        p_first = p_point[:, None]  # [B, 1, P]
    else:
        z = posterior_samples(model, context, n_samples, seed)  # [B, S, Z]
        if spread != 1.0:
            point = _point(model, context)[:, None]  # [B, 1, Z]
            z = point + spread * (z - point)
        rewards = _sample_rewards(model, torch.cat([a, b], dim=1), z)  # [B, S, 2P]
        p_first = torch.sigmoid(rewards[..., :P] - rewards[..., P:])  # [B, S, P]
        scores = bald_scores(p_first)  # [B, P]
    if redundancy:
        ctx_c, ctx_r, mask = context
        done = torch.nn.functional.normalize(ctx_c - ctx_r, dim=-1)  # [B, C, D]
        todo = torch.nn.functional.normalize(a - b, dim=-1)  # [B, P, D]
        cos = torch.einsum("bpd,bcd->bpc", todo, done).abs().masked_fill(~mask[:, None], 0.0)
        if cos.shape[2]:  # no labelled pair: no penalty
            scores = scores - redundancy * cos.amax(dim=2)  # [B, P]
    scores = scores.masked_fill(excluded, float("-inf"))  # [B, P]
    best = scores.argmax(dim=1)  # [B]
    best = torch.where(excluded.all(dim=1), torch.full_like(best, -1), best)
    return QueryChoice(scores, best, p_first)


@torch.no_grad()
def top_stability(model: RewardModel, context: Context, candidates_emb: Tensor, n: int = 32,
                  seed: int | None = None) -> Tensor:
    """Probability that the top candidate (by the point latent) stays on top: ``[B]`` in [0, 1].

    Args:
        model: a latent model in eval mode.
        context: the labels so far (as in :func:`select_query`).
        candidates_emb: ``[N, D]`` or ``[B, N, D]`` responses to one prompt.
        n: S posterior samples.
        seed: makes the samples reproducible.
    Returns:
        ``[B]``: the share of samples whose best candidate is the point latent's best.
    """
    chosen, _, _ = _check_context(model, context)
    B, D = chosen.shape[0], model.cfg.embed_dim
    x = _per_user("candidates_emb", candidates_emb, B, D)  # [B, N, D]
    top = model.reward(x, _point(model, context)).argmax(dim=1)  # [B]
    z = posterior_samples(model, context, n, seed)  # [B, S, Z]
    sampled = _sample_rewards(model, x, z).argmax(dim=2)  # [B, S]
    return (sampled == top[:, None]).float().mean(dim=1)
