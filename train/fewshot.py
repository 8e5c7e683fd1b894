"""Few-shot curves: accuracy on held-out users' held-out pairs after k of their answers.

A population-world test split (``train.data.synthetic``, ``world="population"``) gives every
held-out user the same 12 answered survey pairs on each of their rows, in the order they were
asked. Truncating that context to its first k pairs is "the user has answered k questions in
random order"; :func:`active_order` re-orders each user's 12 pairs greedily by the selector
(BALD on the model's own posterior), which is "the app chose which of these to ask first".
The pool is the user's own 12 answered pairs, so at k = 12 both orders see the same answers.

Groups: ``heldout`` (users drawn from the population prior) and ``personas`` (the four named
probe users, each attribute alone). Accuracy is :func:`spl_model.accuracy` everywhere.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor

from spl_model import RewardModel, accuracy
from spl_model.active import select_query
from spl_model.refine import RefineSettings, refine_latent
from train.batching import EncodedSplit

__all__ = ["KS", "active_order", "attribute_deltas", "curve", "groups", "labels_to_reach",
           "model_margins", "reorder"]

KS: tuple[int, ...] = (0, 1, 2, 4, 8, 12)


def groups(split: EncodedSplit) -> dict[str, Tensor]:
    """Row masks ``[R]`` of the held-out users and of the personas (empty groups left out)."""
    kinds = split.user_types
    out = {"heldout": torch.tensor([t == "heldout" for t in kinds]),
           "personas": torch.tensor([t.startswith("persona") for t in kinds])}
    return {name: mask for name, mask in out.items() if bool(mask.any())}


def reorder(split: EncodedSplit, order: Tensor) -> EncodedSplit:
    """The split with each row's context columns permuted by ``order [R, C]``."""
    def take(x: Tensor) -> Tensor:
        return x.gather(1, order)

    return dataclasses.replace(split, ctx_chosen=take(split.ctx_chosen),
                               ctx_rejected=take(split.ctx_rejected), ctx_mask=take(split.ctx_mask))


def _first_rows(users: Sequence[str]) -> tuple[list[int], Tensor]:
    """One representative row per user, and each row's index into that list."""
    first: dict[str, int] = {}
    for i, u in enumerate(users):
        first.setdefault(u, i)
    index = {u: j for j, u in enumerate(first)}
    return list(first.values()), torch.tensor([index[u] for u in users])


@torch.no_grad()
def model_margins(model: RewardModel, split: EncodedSplit, embeddings: Tensor, k: int,
                  batch_size: int = 512, refine: RefineSettings | None = None) -> Tensor:
    """Margins ``[R]`` of every row with its context cut to the first ``k`` answers; with
    ``refine``, the encoder's ``z`` is refined on those answers first (:mod:`spl_model.refine`)."""
    was_training = model.training
    model.eval()
    out = []
    for rows in torch.arange(len(split)).split(batch_size):
        batch = split.batch(rows, embeddings, max_context=k)
        if refine is None:
            out.append(model.margins(batch)[:, 0])
            continue
        ctx = (batch.ctx_chosen, batch.ctx_rejected, batch.ctx_mask)
        z = refine_latent(model, *ctx, model.posterior(*ctx).z, refine)
        rewards = model.reward(torch.stack([batch.chosen[:, 0], batch.rejected[:, 0]], 1), z)
        out.append(rewards[:, 0] - rewards[:, 1])
    model.train(was_training)
    return torch.cat(out)


@torch.no_grad()
def active_order(model: RewardModel, split: EncodedSplit, embeddings: Tensor,
                 method: str = "bald", n_samples: int = 32, seed: int = 0,
                 batch_size: int = 256) -> Tensor:
    """Per row, the order ``[R, C]`` in which the selector would ask that user's answered pairs.

    Greedy: at step j the selector scores the user's unasked pairs given the j answers chosen
    so far and takes the best. Real (masked) pairs come first; padding keeps its place at the
    end. Latent-free models keep the given order.
    """
    R, C = split.ctx_mask.shape
    identity = torch.arange(C).expand(R, C).clone()
    if not model.cfg.has_latent or C == 0:
        return identity
    was_training = model.training
    model.eval()
    firsts, row_user = _first_rows(split.users)
    orders = []
    for chunk in torch.tensor(firsts).split(batch_size):
        pool_a = embeddings[split.ctx_chosen[chunk]]  # [B, C, D] (orientation is irrelevant)
        pool_b = embeddings[split.ctx_rejected[chunk]]
        real = split.ctx_mask[chunk]  # [B, C]
        asked = ~real  # padding is never asked
        picked: list[Tensor] = []
        for step in range(C):
            if bool(asked.all()):
                break
            idx = torch.stack(picked, 1) if picked else torch.zeros(len(chunk), 0, dtype=torch.long)
            ctx = (pool_a.gather(1, idx[..., None].expand(-1, -1, pool_a.shape[2])),
                   pool_b.gather(1, idx[..., None].expand(-1, -1, pool_b.shape[2])),
                   real.gather(1, idx))  # [B, j, D], [B, j, D], [B, j]
            choice = select_query(model, ctx, pool_a, pool_b, asked=asked, n_samples=n_samples,
                                  seed=seed + step, method=method)
            # a user out of real pairs takes the next padding column, so each row stays a
            # permutation (padding is masked out of every context anyway)
            best = torch.where(choice.best < 0, _next_unpicked(idx, C), choice.best)
            picked.append(best)
            asked = asked.clone()
            asked[torch.arange(len(chunk)), best] = True
        # [B, n_real_max]; [B, 0] when no user of the chunk has a real pair (all padding)
        idx = torch.stack(picked, 1) if picked else torch.zeros(len(chunk), 0, dtype=torch.long)
        orders.append(_complete(idx, C))
    model.train(was_training)
    per_user = torch.cat(orders)  # [n_users, C]
    return per_user[row_user]


def _next_unpicked(idx: Tensor, C: int) -> Tensor:
    """For each row of already-picked columns ``[B, j]``, the lowest column not yet picked."""
    taken = torch.zeros(idx.shape[0], C, dtype=torch.bool)
    if idx.shape[1]:
        taken.scatter_(1, idx, True)
    return (~taken).float().argmax(1)


def _complete(idx: Tensor, C: int) -> Tensor:
    """Append the columns a row has not picked (in order) so each row is a permutation of C."""
    rows = []
    for picked in idx.tolist():
        rest = [c for c in range(C) if c not in picked]
        rows.append(picked + rest)
    return torch.tensor(rows, dtype=torch.long)


def curve(margins_at: Callable[[int], Tensor], ks: Sequence[int],
          masks: dict[str, Tensor]) -> dict[str, list[float]]:
    """``{group: [accuracy at k for k in ks]}`` from a function ``k -> margins [R]``."""
    out: dict[str, list[float]] = {name: [] for name in masks}
    for k in ks:
        m = margins_at(k)
        for name, mask in masks.items():
            out[name].append(round(accuracy(m[mask]), 4))
    return out


def labels_to_reach(accuracies: Sequence[float], share: float = 0.9) -> float:
    """Answers needed (linearly interpolated) to go ``share`` of the way from the k = 0 to the
    last accuracy of a curve over k = 0, 1, 2, ... (one entry per k).

    >>> labels_to_reach([0.5, 0.7, 0.8, 0.9])
    2.6
    """
    goal = accuracies[0] + share * (accuracies[-1] - accuracies[0])
    rising = accuracies[-1] >= accuracies[0]
    for k in range(1, len(accuracies)):
        a, b = accuracies[k - 1], accuracies[k]
        if (b >= goal) if rising else (b <= goal):
            return round(k - 1 + ((goal - a) / (b - a) if b != a else 1.0), 3)
    return float(len(accuracies) - 1)


def attribute_deltas(dataset: Any, split: str) -> tuple[Tensor, Tensor, Tensor]:
    """The world's view of a split, row-aligned with :func:`train.batching.encode_split`.

    Returns ``(context [R, C, A], context_mask [R, C], targets [R, A])``: for each context
    answer and each target pair, ``attr(chosen) - attr(rejected)``.
    """
    rows = getattr(dataset, split)
    width = max(len(r["context"]) for r in rows)
    A = len(rows[0]["attributes_chosen"])
    ctx = torch.zeros(len(rows), width, A, dtype=torch.float64)
    mask = torch.zeros(len(rows), width, dtype=torch.bool)
    targets = torch.zeros(len(rows), A, dtype=torch.float64)
    for i, row in enumerate(rows):
        targets[i] = torch.tensor(row["attributes_chosen"]) - torch.tensor(row["attributes_rejected"])
        for j, item in enumerate(row["context"]):
            pair = dataset.survey[item["id"]]
            a, b = torch.tensor(pair["attributes_a"]), torch.tensor(pair["attributes_b"])
            ctx[i, j] = a - b if item["chosen"] == "a" else b - a
            mask[i, j] = True
    return ctx, mask, targets
