"""The app's confidence: a calibrated probability that the model's top pick is the user's best.

What the number claims: for a new prompt and a set of candidate responses, the probability
that the response the model ranks first (under the point latent from the user's answers so
far) is the one this user truly likes best. In a population world that is checkable: the
user's true weights say which candidate is best (``argmax w . attr``).

How it is computed: three features of the model's own state, mapped by a logistic calibrator
fitted on simulated *training* users (train prompts) and measured on held-out users (test
prompts, :func:`measure`):

- ``stability``: the share of S posterior samples under which the point latent's top
  candidate stays on top (``spl_model.active.top_stability``, seeded so it is a function of
  the answers alone);
- ``gap``: the reward margin between the point latent's first and second candidate;
- ``k``: the number of real answers (skips and ties are not answers: they never enter the
  context, so they cannot move the confidence).

``p = sigmoid(w0 + w1 logit(stability) + w2 gap + w3 log(1 + k))``. The fitted weights are
saved as ``calibration.json`` in the run folder; the app reads them.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from spl_model import RewardModel, expected_calibration_error
from spl_model.active import posterior_samples

__all__ = ["Calibrator", "confidence_features", "measure", "simulate"]

FILE = "calibration.json"
N_SAMPLES = 32
SET_SIZE = 4


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
    def load(cls, folder: str | Path) -> Calibrator | None:
        """The run's calibrator, or None when the run has none."""
        path = Path(folder) / FILE
        if not path.is_file():
            return None
        try:
            weights = json.loads(path.read_text())["weights"]
            if len(weights) != 4 or not all(isinstance(v, (int, float)) for v in weights):
                raise ValueError("weights must be 4 numbers")
        except (ValueError, KeyError, TypeError) as err:
            raise ValueError(f"{path}: not a calibration file ({err}).") from err
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


def _catalogue(data: Any, split: str) -> dict[str, list[tuple[int, tuple[float, ...]]]]:
    """Per prompt of a split: every response text id seen there, with its attribute vector."""
    from train.backbones import render

    ids = {t: i for i, t in enumerate(data.texts)}
    out: dict[str, dict[int, tuple[float, ...]]] = {}
    for row in getattr(data.dataset, split):
        for side in ("chosen", "rejected"):
            text_id = ids[render(row["prompt"], row[side])]
            out.setdefault(row["prompt"], {})[text_id] = tuple(row[f"attributes_{side}"])
    return {p: sorted(v.items()) for p, v in out.items() if len(v) >= SET_SIZE}


@torch.no_grad()
def simulate(model: RewardModel, data: Any, split: str, ks: tuple[int, ...] | None,
             max_rows: int = 4000, sets_per_row: int = 1, seed: int = 0,
             batch_size: int = 256) -> dict[str, Tensor]:
    """Features and outcomes on simulated users of ``split``.

    Each sampled row's user answers ``k`` of their context (each k of ``ks``; ``None`` = the
    row's own context as drawn), then sees a random set of ``SET_SIZE`` responses to a random
    prompt of the same split; the outcome is whether the model's top pick is the user's true
    best (``argmax w . attr`` with the row's ``user_weights``).
    """
    enc = data.splits[split]
    cat = _catalogue(data, split)
    prompts = sorted(cat)
    rng = random.Random(seed)
    rows = list(range(len(enc)))
    if split != "train":  # one row per user: every row of a user shares the context
        seen: dict[str, int] = {}
        rows = [seen.setdefault(u, i) for i, u in enumerate(enc.users) if u not in seen]
    rng.shuffle(rows)
    rows = rows[:max_rows]
    plan = [(r, k) for r in rows for k in (ks or (None,)) for _ in range(sets_per_row)]
    feats: dict[str, list[Tensor]] = {"stability": [], "gap": [], "k": [], "outcome": []}
    emb = data.embeddings
    for start in range(0, len(plan), batch_size):
        chunk = plan[start:start + batch_size]
        r = torch.tensor([p[0] for p in chunk])
        width = enc.ctx_mask.shape[1]
        keep = torch.tensor([[j < (k if k is not None else width) for j in range(width)]
                             for _, k in chunk])
        mask = enc.ctx_mask[r] & keep
        context = (emb[enc.ctx_chosen[r]], emb[enc.ctx_rejected[r]], mask)
        sets, truth = [], []
        for row, _ in chunk:
            options = cat[rng.choice(prompts)]
            pick = rng.sample(options, SET_SIZE)
            sets.append([text_id for text_id, _ in pick])
            w = enc.features[row].tolist()
            utility = [sum(a * b for a, b in zip(w, attrs)) for _, attrs in pick]
            truth.append(max(range(SET_SIZE), key=lambda i: utility[i]))
        candidates = emb[torch.tensor(sets)]  # [B, N, D]
        stability, gap, k, top = confidence_features(model, context, candidates, seed=start)
        feats["stability"].append(stability)
        feats["gap"].append(gap)
        feats["k"].append(k)
        feats["outcome"].append((top == torch.tensor(truth)).float())
    return {name: torch.cat(v) for name, v in feats.items()}


def reliability(probs: Tensor, outcome: Tensor, n_bins: int = 10) -> list[dict[str, float]]:
    """Per non-empty bin: mean stated probability, observed frequency and count."""
    bins = (probs.double() * n_bins).long().clamp(0, n_bins - 1)
    out = []
    for b in range(n_bins):
        inside = bins == b
        if bool(inside.any()):
            out.append({"bin": b, "confidence": round(probs[inside].mean().item(), 4),
                        "frequency": round(outcome[inside].mean().item(), 4),
                        "count": int(inside.sum())})
    return out


def measure(model: RewardModel, data: Any, ks: tuple[int, ...] = (0, 1, 2, 4, 8, 12),
            seed: int = 0) -> tuple[Calibrator, dict[str, Any]]:
    """Fit the calibrator on train users, measure it on held-out users: (calibrator, report)."""
    fit_on = simulate(model, data, "train", None, seed=seed)
    calib = Calibrator.fit(fit_on["stability"], fit_on["gap"], fit_on["k"], fit_on["outcome"])
    test = simulate(model, data, "test", ks, sets_per_row=2, seed=seed + 1)
    probs = calib(test["stability"], test["gap"], test["k"])
    raw_ece = expected_calibration_error(test["stability"], test["outcome"])
    by_k = {}
    for k in ks:
        at = test["k"] == k
        if bool(at.any()):
            by_k[str(k)] = {"confidence": round(probs[at].mean().item(), 4),
                            "top_pick_right": round(test["outcome"][at].mean().item(), 4)}
    report = {
        "claim": "probability that the model's top-ranked of 4 responses to a new prompt is the "
                 "user's truly best one",
        "ece": expected_calibration_error(probs, test["outcome"]),
        "ece_uncalibrated_stability": raw_ece,
        "n_test": len(probs), "n_fit": len(fit_on["outcome"]),
        "reliability": reliability(probs, test["outcome"]),
        "by_k": by_k,
        "calibrator": calib.to_dict(),
    }
    return calib, report


def write(folder: str | Path, calib: Calibrator, report: dict[str, Any]) -> None:
    """``calibration.json`` in a run folder: the weights the app reads, and the measurement."""
    from train.report import write_json

    write_json(Path(folder) / FILE, {**calib.to_dict(), "measured": report})

