"""Evaluation metrics as pure functions: accuracy, active units, per-group accuracy, swap flips.

They take *margins* ``r(chosen) - r(rejected)``; a pair is predicted correctly when its
margin is strictly positive (a tie counts as an error).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import torch
from torch import Tensor

__all__ = ["COLLAPSE_SHARE", "ActiveUnits", "accuracy", "active_units",
           "expected_calibration_error", "latent_collapsed", "per_group_accuracy",
           "swap_flip_rate"]

COLLAPSE_SHARE = 0.1
"""A latent is collapsed when fewer than this share of the units of z vary across users."""


def accuracy(margins: Tensor, mask: Tensor | None = None) -> float:
    """Share of pairs with ``margin > 0``, a tie (``margin == 0``) counting half: a predictor
    with no preference is a coin flip (the Bayes ceiling before any answer ties on every pair).
    ``mask`` (same shape, bool) selects real pairs.

    >>> accuracy(torch.tensor([2.0, 0.0, -1.0, 0.5]))
    0.625
    """
    correct = (margins > 0).float() + 0.5 * (margins == 0).float()
    if mask is None:
        return correct.mean().item() if correct.numel() else float("nan")
    n = mask.sum().item()
    return (correct * mask).sum().item() / n if n else float("nan")


class ActiveUnits(NamedTuple):
    """``count`` of latent units whose variance across the evaluation set exceeds
    ``threshold``; ``share = count / Z``; ``variances`` ``[Z]`` for plots."""

    count: int
    share: float
    threshold: float
    variances: Tensor


def active_units(vectors: Tensor, threshold: float = 0.005) -> ActiveUnits:
    """Active units [Burda et al. 2016] of ``vectors`` ``[N, Z]`` (one row per evaluated user).

    Which vector to pass is the caller's statement: SPL measures the last flow layer's shift
    ``m_K``, VPL the posterior mean. A collapsed latent (ignored by the decoder) has ~0.
    """
    if vectors.ndim != 2:
        raise ValueError(f"active_units expects [N, Z], got shape {tuple(vectors.shape)}.")
    if vectors.shape[1] == 0:
        return ActiveUnits(0, 0.0, threshold, vectors.new_zeros(0))
    variances = vectors.float().var(dim=0, unbiased=False)  # [Z]
    count = int((variances > threshold).sum().item())
    return ActiveUnits(count, count / vectors.shape[1], threshold, variances)


def per_group_accuracy(margins: Tensor, groups: Sequence[str]) -> dict[str, float]:
    """Accuracy per group label (user, user type, context size...), sorted by group name.

    Args: margins ``[N]``; groups: one label per margin.
    """
    if margins.ndim != 1 or len(groups) != margins.shape[0]:
        raise ValueError(
            f"per_group_accuracy needs margins [N] and N group labels; got margins "
            f"{tuple(margins.shape)} and {len(groups)} labels."
        )
    hits: dict[str, list[float]] = defaultdict(list)
    for group, margin in zip(groups, margins.tolist()):
        hits[str(group)].append(1.0 if margin > 0 else 0.0)
    return {group: sum(v) / len(v) for group, v in sorted(hits.items())}


def swap_flip_rate(margins: Tensor, margins_swapped: Tensor) -> float:
    """Share of target pairs whose predicted preference flips when every context pair is swapped.

    A latent that carries *which way* the user leans should flip it; a collapsed one cannot.
    Args: margins and margins_swapped of the same shape (the same targets, original vs swapped
    context).
    """
    if margins.shape != margins_swapped.shape:
        raise ValueError(
            f"margins {tuple(margins.shape)} and margins_swapped "
            f"{tuple(margins_swapped.shape)} must have the same shape."
        )
    flipped = (margins > 0) != (margins_swapped > 0)
    return flipped.float().mean().item() if flipped.numel() else float("nan")


def expected_calibration_error(probs: Tensor, outcomes: Tensor, n_bins: int = 10) -> float:
    """ECE: ``sum_b (n_b / n) |mean(outcome in b) - mean(prob in b)|`` over ``n_bins`` equal-width
    bins of the stated probability (the last bin includes 1.0). ``outcomes`` are 0/1.

    >>> expected_calibration_error(torch.tensor([0.9, 0.9, 0.1, 0.1]), torch.tensor([1, 0, 0, 0]))
    0.25
    """
    if probs.shape != outcomes.shape or probs.ndim != 1:
        raise ValueError(f"probs and outcomes must be 1-D of one length; got {list(probs.shape)} "
                         f"and {list(outcomes.shape)}.")
    if not len(probs):
        return float("nan")
    bins = (probs.double() * n_bins).long().clamp(0, n_bins - 1)  # [n]
    total = 0.0
    for b in range(n_bins):
        inside = bins == b
        if bool(inside.any()):
            gap = outcomes[inside].double().mean() - probs[inside].double().mean()
            total += inside.sum().item() / len(probs) * abs(gap.item())
    return round(total, 6)


def latent_collapsed(report: Mapping[str, Any]) -> bool | None:
    """The project's one definition of a collapsed latent, read from a report's metrics.

    Collapsed: ``active_units_z_share < COLLAPSE_SHARE``, i.e. fewer than 10% of the units of
    the z the decoder reads (eval mode) vary across users, so nearly every user gets the same
    z. It is measured on z, not on the paper's vector (``active_units``: SPL's last flow shift
    m_K, VPL's posterior mean), because m_K reads SPL as collapsed while its z is in use
    (docs/results/study/README.md, finding 5). ``None`` when the report has no z measure: a
    latent-free model, or a report written before z was measured.
    """
    share = report.get("active_units_z_share")
    return None if share is None else bool(share < COLLAPSE_SHARE)
