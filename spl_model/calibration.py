"""The confidence a person is shown: a calibrated probability that the top pick is their best.

The claim: for a new prompt and a set of candidate responses, the probability that the
response the model ranks first (under the point latent from the user's answers so far) is the
one this user truly likes best. It is computed from three features of the model's own state,
mapped by a logistic :class:`Calibrator` (fitted by ``train.calibration`` on simulated
training users and measured on held-out ones, where the true best is known):

- ``stability``: the share of S posterior samples under which the point latent's top
  candidate stays on top (seeded, so it is a function of the answers alone);
- ``gap``: the reward margin between the point latent's first and second candidate;
- ``k``: the number of real answers. Skips and ties are not answers: they never enter the
  context, so they cannot move the confidence.

``p = sigmoid(w0 + w1 logit(stability) + w2 gap + w3 log(1 + k))``.

Example:
    >>> calib = Calibrator((0.0, 1.0, 0.0, 0.0))
    >>> round(float(calib(torch.tensor([0.8]), torch.tensor([0.3]), torch.tensor([2]))[0]), 3)
    0.8
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from spl_model.active import posterior_samples
from spl_model.models import RewardModel

__all__ = ["N_SAMPLES", "Calibrator", "confidence_features"]

N_SAMPLES = 32


@dataclass(frozen=True)
class Calibrator:
    """``p = sigmoid(weights . [1, logit(stability), gap, log1p(k)])``."""

    weights: tuple[float, float, float, float]

    @staticmethod
    def design(stability: Tensor, gap: Tensor, k: Tensor) -> Tensor:
        """The feature matrix ``[n, 4]``."""
        s = stability.double().clamp(0.02, 0.98)
        return torch.stack([torch.ones_like(s), torch.log(s / (1 - s)), gap.double(),
                            torch.log1p(k.double())], dim=1)

    def __call__(self, stability: Tensor, gap: Tensor, k: Tensor) -> Tensor:
        w = torch.tensor(self.weights, dtype=torch.float64)
        return torch.sigmoid(self.design(stability, gap, k) @ w).float()

    @classmethod
    def fit(cls, stability: Tensor, gap: Tensor, k: Tensor, outcome: Tensor,
            l2: float = 1e-3) -> Calibrator:
        """Logistic regression (Newton's method, a small ridge) of ``outcome`` on the features."""
        X, y = cls.design(stability, gap, k), outcome.double()
        w = torch.zeros(X.shape[1], dtype=torch.float64)
        for _ in range(50):
            p = torch.sigmoid(X @ w)
            grad = X.T @ (p - y) + l2 * w
            hess = (X * (p * (1 - p))[:, None]).T @ X + l2 * torch.eye(len(w), dtype=torch.float64)
            step = torch.linalg.solve(hess, grad)
            w = w - step
            if step.abs().max() < 1e-9:
                break
        return cls(tuple(round(v, 6) for v in w.tolist()))  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, Any]:
        return {"weights": list(self.weights),
                "features": ["1", "logit(stability)", "gap", "log1p(k)"],
                "claim": "probability that the model's top-ranked candidate is the user's best",
                "n_samples": N_SAMPLES}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Calibrator:
        """Rebuild from :meth:`to_dict`; a clear error for anything else."""
        weights = values.get("weights") if isinstance(values, dict) else None
        if (not isinstance(weights, list) or len(weights) != 4
                or not all(isinstance(v, (int, float)) and math.isfinite(v) for v in weights)):
            raise ValueError(f"a calibrator needs 'weights': 4 finite numbers, got {weights!r}.")
        return cls(tuple(float(v) for v in weights))  # type: ignore[arg-type]


@torch.no_grad()
def confidence_features(model: RewardModel, context: tuple[Tensor, Tensor, Tensor],
                        candidates: Tensor, seed: int = 0) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """``(stability [B], gap [B], k [B], top [B])`` for B users' contexts and candidate sets
    ``[B, N, D]`` (``top`` is the index of the point latent's first-ranked candidate)."""
    was_training = model.training
    model.eval()
    chosen, rejected, mask = context
    z = model.posterior(chosen, rejected, mask).z  # [B, Z]
    rewards = model.reward(candidates, z)  # [B, N]
    best2 = rewards.topk(2, dim=1)
    top = best2.indices[:, 0]
    gap = best2.values[:, 0] - best2.values[:, 1]
    samples = posterior_samples(model, context, N_SAMPLES, seed=seed)  # [B, S, Z]
    B, S = samples.shape[:2]
    x = candidates[:, None].expand(B, S, *candidates.shape[1:]).reshape(B * S, *candidates.shape[1:])
    sampled = model.reward(x, samples.reshape(B * S, -1)).view(B, S, -1).argmax(2)  # [B, S]
    stability = (sampled == top[:, None]).float().mean(1)
    model.train(was_training)
    return stability, gap, mask.sum(1), top
