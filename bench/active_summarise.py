"""The active-querying simulation's statistics: labels needed, reductions with bootstrap
intervals over users, and what the stopping signal would have done (``bench/active_simulation.py``)."""

from __future__ import annotations

import math
from typing import Any

import torch

from bench.active_simulate import K_MAX
from spl_model.active import STOP_AT


def summarise_stopping(arm: dict[str, torch.Tensor]) -> dict[str, Any]:
    """The stopping signal in the active arm: its mean after k labels, and what a user who
    stops at the first k >= 1 where it reaches ``STOP_AT`` (else at K_MAX) gets there:
    labels used, held-out accuracy and the share whose top candidate is a best one, against
    the same users at K_MAX."""
    stab, acc, regret = arm["stability"], arm["accuracy"], arm["regret"]
    U = stab.shape[0]
    reached = stab[:, 1:] >= STOP_AT  # [U, K_MAX]
    stop = torch.where(reached.any(1), reached.float().argmax(1) + 1, torch.full((U,), K_MAX))
    users = torch.arange(U)
    return {
        "stop_at": STOP_AT,
        "mean_stability": [round(v, 4) for v in stab.mean(0).tolist()],
        "labels_at_stop": round(float(stop.float().mean()), 3),
        "stopped_before_12": round(float(reached.any(1).float().mean()), 4),
        "accuracy_at_stop": round(float(acc[users, stop].mean()), 4),
        "accuracy_at_12": round(float(acc[:, -1].mean()), 4),
        "top_right_at_stop": round(float((regret[users, stop] < 1e-6).float().mean()), 4),
        "top_right_at_12": round(float((regret[:, -1] < 1e-6).float().mean()), 4),
        "top_right": [round(v, 4) for v in (regret < 1e-6).float().mean(0).tolist()],
    }


def target_of(reference: torch.Tensor, share: float = 0.9, gain: bool = False) -> float:
    """``share`` of the reference curve's accuracy at K_MAX (``gain``: of the way from its
    k = 0 to its K_MAX value). The reference is the RANDOM arm for both arms: a per-arm
    target would reward an arm for ending lower."""
    return float(reference[0] + share * (reference[-1] - reference[0]) if gain
                 else share * reference[-1])


def labels_needed(curve: torch.Tensor, target: float) -> float:
    """Fractional k at which ``curve [K_MAX + 1]`` first reaches ``target``, interpolating
    linearly between integers; K_MAX when it never does."""
    values = curve.tolist()
    if values[0] >= target:
        return 0.0
    for k in range(1, len(values)):
        if values[k] >= target:
            lo, hi = values[k - 1], values[k]
            return k - 1 + (float(target) - lo) / (hi - lo)
    return float(len(values) - 1)


def _ci(values: list[float]) -> list[float]:
    ordered = sorted(values)
    n = len(ordered)
    return [round(ordered[int(0.025 * (n - 1))], 4), round(ordered[int(math.ceil(0.975 * (n - 1)))], 4)]


def summarise(active: torch.Tensor, rand: torch.Tensor, n_boot: int,
              seed: int) -> dict[str, Any]:
    """Curves with intervals, labels needed and the reduction, with bootstrap intervals."""
    U = active.shape[0]
    gen = torch.Generator().manual_seed(seed)
    boots = [torch.randint(0, U, (U,), generator=gen) for _ in range(n_boot)]
    out: dict[str, Any] = {"n_users": U, "k": list(range(K_MAX + 1))}
    for name, acc in (("active", active), ("random", rand)):
        means = torch.stack([acc[i].mean(0) for i in boots])  # [n_boot, K+1]
        out[name] = {
            "mean": [round(v, 4) for v in acc.mean(0).tolist()],
            "ci95": [_ci(means[:, k].tolist()) for k in range(K_MAX + 1)],
        }
    for tag, gain in (("", False), ("_gain", True)):
        target = target_of(rand.mean(0), gain=gain)
        need_a = labels_needed(active.mean(0), target)
        need_r = labels_needed(rand.mean(0), target)
        reds, na, nr = [], [], []
        for i in boots:
            t = target_of(rand[i].mean(0), gain=gain)
            a, r = labels_needed(active[i].mean(0), t), labels_needed(rand[i].mean(0), t)
            na.append(a)
            nr.append(r)
            reds.append(1 - a / r if r > 0 else 0.0)
        out[f"labels_needed{tag}"] = {
            "target_accuracy": round(target, 4),
            "active": round(need_a, 3), "random": round(need_r, 3),
            "active_ci95": _ci(na), "random_ci95": _ci(nr)}
        out[f"reduction{tag}"] = round(1 - need_a / need_r, 4) if need_r > 0 else 0.0
        out[f"reduction{tag}_ci95"] = _ci(reds)
    diff = active - rand  # [U, K+1] paired per user
    diffs = torch.stack([diff[i].mean(0) for i in boots])
    out["accuracy_gain"] = {"mean": [round(v, 4) for v in diff.mean(0).tolist()],
                            "ci95": [_ci(diffs[:, k].tolist()) for k in range(K_MAX + 1)]}
    return out
