"""A run's report: ``report.json``, ``latent_map.json`` and ``plots/``.

``report.json`` carries the keys other parts rely on (the README's run-folder section): model,
backbone, dataset, n_eval_pairs, accuracy (all, controversial, unseen users, by user, by
context size), active units (count, share, vector, threshold), latent_dim, kl, swap_flip_rate,
train_seconds and seed; latent-free models report null for the latent metrics.

Plots: the latent map (users' z, PCA, coloured by user type), KL and active units over
training, and accuracy vs the number of context pairs. Written with matplotlib's Agg backend.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from spl_model import RewardModel, latent_collapsed
from spl_model.atomic import atomic_write
from train.evaluate import evaluate_split, latent_map

__all__ = ["learned_nothing", "wilson_interval", "write_report", "write_json"]

TRAIN_EVAL_ROWS = 2048  # training rows scored for ``accuracy_train`` (a fixed, seeded subset)




def wilson_interval(accuracy: float, n: int, z: float = 1.96) -> tuple[float, float]:
    """The 95% Wilson score interval of a binomial proportion ``accuracy`` over ``n`` trials."""
    if n <= 0:
        return 0.0, 1.0
    centre = (accuracy + z * z / (2 * n)) / (1 + z * z / n)
    half = z * ((accuracy * (1 - accuracy) / n + z * z / (4 * n * n)) ** 0.5) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def learned_nothing(train: tuple[float, int] | None, test: tuple[float, int] | None,
                    has_latent: bool = True, controversial_share: float | None = None
                    ) -> dict[str, Any] | None:
    """None when the model beats chance, else what was measured and what to try.

    ``train`` and ``test`` are (accuracy, pairs). A split counts as "within noise of 0.5" when
    the 95% Wilson interval of its accuracy holds 0.5, or when the accuracy is at or below it
    (a model worse than a coin has learned nothing useful either). A model without a user
    latent (BTL) on data where users disagree on most pairs (``controversial_share`` >= 0.5)
    is expected to sit there, and the advice says so.
    """
    found: dict[str, Any] = {}
    for name, value in (("train", train), ("test", test)):
        if value is None or value[0] is None:
            continue
        acc, n = value
        low, high = wilson_interval(acc, n)
        if low <= 0.5 or acc <= 0.5:
            found[name] = {"accuracy": round(acc, 4), "pairs": n,
                           "interval_95": [round(low, 4), round(high, 4)]}
    if not found:
        return None
    if not has_latent and controversial_share is not None and controversial_share >= 0.5:
        why = (f"This model has no user latent, and users disagree on "
               f"{controversial_share:.0%} of the held-out pairs: one reward for everyone "
               "cannot beat chance there. That is the reference point, not a failure; read "
               "SPL and VPL beside it.")
        tries = ["compare SPL and VPL on the same split (python -m train fit --model spl)",
                 "accuracy on the pairs users agree on is in report.json (accuracy_agreed)"]
        return {"splits": found, "why": why, "try": tries}
    if "train" in found:
        why = ("The model did not even fit its training pairs, so the inputs or the optimiser "
               "are at fault before the data is.")
        tries = ["a larger learning rate or more epochs (e.g. --lr 1e-3 --epochs 6; the defaults "
                 "are the paper's, tuned for tens of thousands of rows)",
                 "check that chosen and rejected differ in what the backbone reads: long "
                 "prompts are cut in their middle so the response survives (README, 'Long "
                 "dialogues'); a response past 3/4 of --max-length is cut at its end",
                 "check that the labels carry a signal: BTL and the oracle on the same split, "
                 "or a probe on the response embeddings alone"]
    else:
        why = ("The model fits its training pairs but does no better than chance on held-out "
               "pairs: it memorised rather than generalised, or the preferences are not "
               "predictable from these texts.")
        tries = ["more rows, or fewer epochs / a smaller --hidden-dim (overfitting)",
                 "compare with BTL and the oracle on the same split: if they sit at 0.5 too, the "
                 "labels are not predictable from the embeddings",
                 "for a study export: more answers per participant, and check the session "
                 "quality flags (too fast, all skips, failed attention checks)"]
    return {"splits": found, "why": why, "try": tries}


def write_json(path: Path, payload: Any) -> None:
    """Write JSON atomically (``spl_model.atomic``), keys sorted: byte-stable on re-runs."""
    atomic_write(path, json.dumps(payload, indent=2, sort_keys=True) + "\n")


def _target_embeddings(data: Any, backbone: Any) -> torch.Tensor | None:
    """LoRA mode: re-embed every text with the tuned backbone (the targets read these)."""
    if backbone is None:
        return None
    return backbone.embed(data.texts).float()


def require_test_split(data: Any) -> None:
    """Raise a plain ValueError when ``data`` (a ``PreparedData``) has no test rows: every
    report number is measured on them."""
    if "test" not in data.splits:
        raise ValueError(
            f"{data.dataset.folder}: the test split is empty, and the report is measured on it. "
            "Give it test rows (`python -m train data import --test-fraction`, or rows in "
            "test.jsonl) and run again.")


def evaluate_run(model: RewardModel, data: Any, backbone: Any = None,
                 targets: torch.Tensor | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Metrics on ``test`` (and ``test_unseen``); returns (report fields, per-split results).
    ``targets``: the tuned backbone's embeddings of ``data.texts``, when already computed."""
    require_test_split(data)
    if targets is None:
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
def _share(flags: torch.Tensor) -> float | None:
    return float(flags.float().mean()) if len(flags) else None


def _train_accuracy(model: RewardModel, data: Any, targets: torch.Tensor | None) -> tuple[float | None, int]:
    """Accuracy on up to ``TRAIN_EVAL_ROWS`` training rows (a seeded subset), and how many."""
    split = data.splits.get("train")
    if split is None or not len(split):
        return None, 0
    rows = torch.randperm(len(split), generator=torch.Generator().manual_seed(0))[:TRAIN_EVAL_ROWS]
    subset = split.select(rows.sort().values)
    metrics = evaluate_split(model, subset, data.embeddings, targets, context_curve=False).metrics
    return metrics["accuracy"], len(subset)


def write_report(out: Path, model: RewardModel, data: Any, history: list[dict[str, Any]],
                 train_seconds: float, seed: int, backbone: Any = None,
                 plots: bool = True) -> dict[str, Any]:
    """Evaluate, then write ``report.json``, ``history.json``, ``latent_map.json``, plots."""
    targets = _target_embeddings(data, backbone)
    fields, results = evaluate_run(model, data, backbone, targets)
    train_acc, n_train = _train_accuracy(model, data, targets)
    report = {
        **fields,
        "accuracy_train": train_acc,
        "n_train_eval_pairs": n_train,
        "learned_nothing": learned_nothing(
            (train_acc, n_train), (fields.get("accuracy"), fields.get("n_eval_pairs", 0)),
            has_latent=model.cfg.has_latent,
            controversial_share=_share(data.splits["test"].controversial)),
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
        if len(types) <= 12:  # a study's users are its participants: too many to name
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
