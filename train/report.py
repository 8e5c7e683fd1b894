"""A run's report: ``report.json`` (every DESIGN.md key), ``latent_map.json`` and ``plots/``.

Plots: the latent map (users' z, PCA, coloured by user type), KL and active units over
training, and accuracy vs the number of context pairs. Written with matplotlib's Agg backend.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch

from spl_model import RewardModel, latent_collapsed
from train.evaluate import evaluate_split, latent_map

__all__ = ["write_report", "write_json"]


def write_json(path: Path, payload: Any) -> None:
    """Write JSON atomically (temp file + rename), keys sorted: byte-stable on re-runs."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)


def _target_embeddings(data: Any, backbone: Any) -> torch.Tensor | None:
    """LoRA mode: re-embed every text with the tuned backbone (the targets read these)."""
    if backbone is None:
        return None
    return backbone.embed(data.texts).float()


def evaluate_run(model: RewardModel, data: Any, backbone: Any = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Metrics on ``test`` (and ``test_unseen``); returns (report fields, per-split results)."""
    targets = _target_embeddings(data, backbone)
    results = {name: evaluate_split(model, data.splits[name], data.embeddings, targets)
               for name in ("test", "test_unseen") if name in data.splits}
    test = results["test"].metrics
    fields = {
        "model": model.cfg.kind,
        "n_eval_pairs": test["n_pairs"],
        **{k: v for k, v in test.items() if k != "n_pairs"},
        "accuracy_unseen": results["test_unseen"].metrics["accuracy"] if "test_unseen" in results else None,
        "accuracy_unseen_controversial": results["test_unseen"].metrics["accuracy_controversial"]
        if "test_unseen" in results else None,
    }
    if (data.dataset.card.get("world") or {}).get("kind") == "population" and targets is None:
        fields["fewshot"] = fewshot_fields(model, data)
    return fields, results


def fewshot_fields(model: RewardModel, data: Any) -> dict[str, Any]:
    """Few-shot accuracy on a population world's held-out users and personas after k answers,
    in random and (latent models) active order (``train.fewshot``)."""
    from train.fewshot import KS
    from train.personalize import model_curves

    curves = model_curves(model, data, KS)
    return {"k": list(KS), **curves,
            "note": "accuracy on held-out users' held-out pairs after their first k answers "
                    "(random: the order asked; active: BALD over their 12 answered pairs)"}


def write_report(out: Path, model: RewardModel, data: Any, history: list[dict[str, Any]],
                 train_seconds: float, seed: int, backbone: Any = None,
                 plots: bool = True) -> dict[str, Any]:
    """Evaluate, then write ``report.json``, ``history.json``, ``latent_map.json``, plots."""
    fields, results = evaluate_run(model, data, backbone)
    report = {
        **fields,
        "backbone": data.backbone.get("name"),
        "dataset": data.dataset.card.get("name"),
        "train_seconds": round(train_seconds, 2),
        "seed": seed,
        "collapsed": latent_collapsed(fields),  # the one definition, in spl_model.metrics
    }
    write_json(out / "report.json", report)
    write_json(out / "history.json", history)
    test = results["test"]
    lmap = latent_map(test.latents, data.splits["test"].user_types) if model.cfg.has_latent else None
    if lmap is not None:
        write_json(out / "latent_map.json", lmap)
    if plots:
        draw_plots(out / "plots", report, history, lmap)
    return report


def draw_plots(folder: Path, report: dict[str, Any], history: list[dict[str, Any]],
               lmap: dict[str, Any] | None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    kind = report["model"]
    if lmap is not None:
        fig, ax = plt.subplots(figsize=(4.5, 4), dpi=100)
        types = sorted({p["user_type"] for p in lmap["points"]})
        for t in types:
            pts = [p for p in lmap["points"] if p["user_type"] == t]
            ax.scatter([p["x"] for p in pts], [p["y"] for p in pts], s=10, alpha=0.7, label=t)
        ax.set_title(f"{kind}: user latents (PCA)")
        ax.legend(fontsize=7, title="user type", title_fontsize=7)
        fig.tight_layout()
        fig.savefig(folder / "latent_map.png", metadata={"Software": None})
        plt.close(fig)
    if history and history[0].get("kl") is not None:
        fig, ax1 = plt.subplots(figsize=(5, 3.2), dpi=100)
        steps = [h["step"] for h in history]
        ax1.plot(steps, [h["kl"] for h in history], color="tab:blue", label="KL")
        ax1.set_xlabel("training step")
        ax1.set_ylabel("KL (nats)", color="tab:blue")
        ax2 = ax1.twinx()
        ax2.plot(steps, [h["active_units_share"] for h in history], color="tab:red", label="active units")
        ax2.set_ylabel("active units share", color="tab:red")
        ax2.set_ylim(-0.02, 1.02)
        ax1.set_title(f"{kind}: KL and active units during training")
        fig.tight_layout()
        fig.savefig(folder / "kl_active_units.png", metadata={"Software": None})
        plt.close(fig)
    curve = report.get("accuracy_by_context_size") or {}
    if curve:
        fig, ax = plt.subplots(figsize=(4.5, 3.2), dpi=100)
        ks = sorted(curve, key=int)
        ax.plot([int(k) for k in ks], [curve[k] for k in ks], marker="o")
        ax.set_xlabel("context pairs (at most k)")
        ax.set_ylabel("test accuracy")
        ax.set_title(f"{kind}: accuracy vs context size")
        ax.grid(alpha=0.3)
        fig.tight_layout()
        fig.savefig(folder / "accuracy_vs_context.png", metadata={"Software": None})
        plt.close(fig)
