"""Fitting and measuring the app's confidence (:mod:`spl_model.calibration`).

:func:`measure` simulates users of a population world: each answers k of their survey pairs,
then sees 4 responses to a new prompt; the outcome is whether the model's top pick is the
user's true best (``argmax w . attr``). The calibrator is fitted on *training* users (train
prompts) and its expected calibration error measured on *held-out* users (test prompts).
:func:`write` stores it as ``calibration.json`` in the run folder, where the app finds it.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from spl_model import RewardModel, expected_calibration_error
from spl_model.calibration import Calibrator, confidence_features

__all__ = ["FILE", "measure", "reliability", "simulate", "write"]

FILE = "calibration.json"  # in a run folder; the app reads its "weights"
SET_SIZE = 4


def _catalogue(data: Any, split: str) -> dict[str, list[tuple[int, tuple[float, ...]]]]:
    """Per prompt of a split: every response text id seen there, with its attribute vector."""
    from spl_model.render import render

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

