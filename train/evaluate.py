"""Evaluate a model on an encoded split: every number of ``report.json`` is computed here.

Accuracy (all, controversial, per user type, vs context size), active units on the vector the
model kind calls for, KL, swap-flip rate, and the latent points for the latent map.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from spl_model import RewardModel, accuracy, active_units, per_group_accuracy, swap_flip_rate
from train.batching import EncodedSplit

__all__ = ["SplitResult", "evaluate_split", "latent_map"]


@dataclass(frozen=True)
class SplitResult:
    """Everything measured on one split; ``metrics`` is JSON-ready."""

    metrics: dict[str, Any]
    margins: Tensor  # [R]
    latents: Tensor  # [R, Z] (z in eval mode; [R, 0] for latent-free models)
    au_vectors: Tensor  # [R, Z]


def _chunks(n: int, size: int) -> list[Tensor]:
    return list(torch.arange(n).split(size))


@torch.no_grad()
def _margins(
    model: RewardModel, split: EncodedSplit, emb: Tensor, targets: Tensor | None, batch_size: int, **kw: Any
) -> tuple[Tensor, Tensor, Tensor]:
    """Margins ``[R]``, eval-mode latents ``[R, Z]`` and AU vectors ``[R, Z]``."""
    margins, latents, au = [], [], []
    for rows in _chunks(len(split), batch_size):
        batch = split.batch(rows, emb, target_embeddings=targets, **kw).to(emb.device)
        if model.cfg.kind == "oracle":
            z = batch.user_features
            au_vec = z
        else:
            post = model.posterior(batch.ctx_chosen, batch.ctx_rejected, batch.ctx_mask)
            z, au_vec = post.z, post.au_vector
        rewards = model.reward(torch.cat([batch.chosen, batch.rejected], 1), z)  # [B, 2]
        margins.append(rewards[:, 0] - rewards[:, 1])
        latents.append(z.float())
        au.append(au_vec.float())
    return torch.cat(margins).cpu(), torch.cat(latents).cpu(), torch.cat(au).cpu()


@torch.no_grad()
def _mean_kl(model: RewardModel, split: EncodedSplit, emb: Tensor, batch_size: int) -> float | None:
    """Mean KL(q || prior) per user: closed form (VPL) or a one-sample estimate (flows)."""
    if not model.cfg.has_latent:
        return None
    from train.rng import fixed_noise

    was_training = model.training
    model.train()  # sample eps so the flow KL estimate is unbiased; nothing else changes
    total, n = 0.0, 0
    with fixed_noise(0, emb.device):  # the same eps every evaluation; training noise untouched
        for rows in _chunks(len(split), batch_size):
            total += model.loss(split.batch(rows, emb).to(emb.device))["kl"].item() * len(rows)
            n += len(rows)
    model.train(was_training)
    return total / n


def evaluate_split(
    model: RewardModel,
    split: EncodedSplit,
    embeddings: Tensor,
    target_embeddings: Tensor | None = None,
    batch_size: int = 256,
    context_curve: bool = True,
) -> SplitResult:
    """All metrics of one split (model in eval mode; restored afterwards)."""
    was_training = model.training
    model.eval()
    margins, latents, au_vectors = _margins(model, split, embeddings, target_embeddings, batch_size)
    has_latent = model.cfg.has_latent
    metrics: dict[str, Any] = {
        "n_pairs": len(split),
        "accuracy": accuracy(margins),
        "accuracy_controversial": accuracy(margins[split.controversial])
        if bool(split.controversial.any()) else None,
        "accuracy_agreed": accuracy(margins[~split.controversial])
        if bool((~split.controversial).any()) else None,
        "accuracy_by_user": per_group_accuracy(margins, split.user_types),
    }
    if has_latent:
        au = active_units(au_vectors, model.cfg.au_threshold)
        au_z = active_units(latents, model.cfg.au_threshold)
        swapped, *_ = _margins(model, split, embeddings, target_embeddings, batch_size, swap=True)
        metrics.update(
            active_units=au.count,
            active_units_share=au.share,
            au_vector="last flow shift m_K" if model.cfg.uses_flow else "posterior mean",
            latent_dim=model.cfg.latent_dim,
            au_threshold=model.cfg.au_threshold,
            # on the latent the decoder reads (eval mode: z_K of the posterior mean; VPL: mu),
            # the same quantity for every kind, so VPL and SPL compare like with like
            active_units_z=au_z.count,
            active_units_z_share=au_z.share,
            kl=_mean_kl(model, split, embeddings, batch_size),
            swap_flip_rate=swap_flip_rate(margins, swapped),
        )
    else:
        metrics.update(active_units=None, active_units_share=None, au_vector=None,
                       latent_dim=model.cfg.z_dim or None, au_threshold=None, kl=None,
                       active_units_z=None, active_units_z_share=None,
                       swap_flip_rate=None)
    if context_curve and has_latent:
        curve = {}
        for k in range(1, split.ctx_mask.shape[1] + 1):
            m, *_ = _margins(model, split, embeddings, target_embeddings, batch_size, max_context=k)
            curve[str(k)] = accuracy(m)
        metrics["accuracy_by_context_size"] = curve
        metrics["accuracy_by_context_size_note"] = (
            "each user's context truncated to its first k pairs (users with fewer keep all)"
        )
    else:
        metrics["accuracy_by_context_size"] = {}
    model.train(was_training)
    return SplitResult(metrics, margins, latents, au_vectors)


def latent_map(latents: Tensor, user_types: list[str], max_points: int = 400, seed: int = 0) -> dict[str, Any] | None:
    """2-D PCA of the users' latents: ``{"method", "mean", "components", "points"}``.

    The app projects a visitor's z with the same ``mean`` and ``components``.
    """
    if latents.shape[1] < 2 or latents.shape[0] < 3:
        return None
    mean = latents.mean(0)
    centered = latents - mean
    _, _, v = torch.linalg.svd(centered, full_matrices=False)  # v: [Z, Z] rows = components
    components = v[:2]  # [2, Z]
    xy = centered @ components.T  # [R, 2]
    pick = torch.randperm(latents.shape[0], generator=torch.Generator().manual_seed(seed))[:max_points]
    return {
        "method": "pca",
        "mean": [round(x, 6) for x in mean.tolist()],
        "components": [[round(x, 6) for x in row] for row in components.tolist()],
        "points": [
            {"x": round(xy[i, 0].item(), 5), "y": round(xy[i, 1].item(), 5), "user_type": user_types[i]}
            for i in sorted(pick.tolist())
        ],
    }
