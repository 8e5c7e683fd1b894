"""The personalization report: few-shot curves of every model beside its reference points.

``python -m train personalize --data D --cache C --run spl=runs/pop/spl --run vpl=... --out F``
measures, on the held-out users and personas of a population-world test split:

- every run's accuracy after k = 0..12 answers in random order (the order they were asked) and,
  for latent models, in active order (:func:`train.fewshot.active_order`);
- the world's Bayes ceiling (:func:`train.reference.bayes_margins`, Monte Carlo over the
  card's true prior), the same posterior on the backbone's linear read-out of the attributes
  (``bayes_readout``, :func:`train.reference.fit_readout`: how much of the ceiling survives
  the embeddings) and the low-rank baseline (:class:`train.reference.LowRankBaseline`) on
  the same rows;
- the labels active order saves (answers to reach 90% of the way from k = 0 to k = 12), for
  SPL and for the ceiling asking in its own BALD order (:func:`train.reference.bayes_active_order`);
- the calibration of the app's confidence (:mod:`train.calibration`), when a calibration file
  is given.

It writes ``personalize.json`` (``k``, ``accuracy``, ``personas_k2``, ``confidence_ece``,
``labels_saved_active`` and the full curves), ``personalize.md`` and a plot.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from spl_model import RewardModel
from spl_model.refine import RefineSettings
from train.fewshot import (KS, active_order, attribute_deltas, curve, groups, labels_to_reach,
                           model_margins, reorder)
from train.reference import (LowRankBaseline, bayes_active_order, bayes_margins, fit_readout,
                             gaussian_points, user_pairs)

__all__ = ["ALL_K", "bayes_curve", "lowrank_curve", "model_curves", "personalize", "readout_deltas",
           "recipe_differences", "write_outputs"]

REFERENCES = ("bayes", "bayes_readout", "lowrank", "spl", "spl+refine", "vpl", "vpl+refine",
              "btl", "oracle")
"""The rows every table starts with, in this order (the report's JSON sorts its keys)."""

ALL_K = tuple(range(13))  # every k 0..12: the curves labels_to_reach interpolates


def world_of(card: dict[str, Any]) -> dict[str, Any]:
    world = card.get("world")
    if not world or world.get("kind") != "population":
        raise ValueError("the personalization report needs a population-world dataset (python -m "
                         "train data synthetic --world population); this card has no such world.")
    return world


def _by_user(users: Sequence[str]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for i, u in enumerate(users):
        out.setdefault(u, []).append(i)
    return out


def readout_deltas(data: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """The test split's ``(context [R, C, A], targets [R, A])`` attribute differences as read
    from the embeddings by a ridge read-out fitted on the train split's target pairs."""
    train, test, emb = data.splits["train"], data.splits["test"], data.embeddings.double()
    readout = fit_readout(emb[train.chosen] - emb[train.rejected],
                          attribute_deltas(data.dataset, "train")[2])
    ctx = (emb[test.ctx_chosen] - emb[test.ctx_rejected]) @ readout  # [R, C, A]
    return ctx, (emb[test.chosen] - emb[test.rejected]) @ readout


def bayes_curve(data: Any, ks: Sequence[int] = ALL_K, n_points: int = 40_000,
                seed: int = 0, readout: bool = False, active: bool = False) -> dict[str, list[float]]:
    """The Bayes ceiling's accuracy per group at each k (held-out rows, random order);
    ``readout=True``: the same posterior on the embeddings' read-out (:func:`readout_deltas`);
    ``active=True``: each user's answers in the order the ceiling's own greedy BALD would ask
    them (:func:`train.reference.bayes_active_order`), the best any selector could hope for."""
    world = world_of(data.dataset.card)
    split = data.splits["test"]
    ctx, mask, targets = attribute_deltas(data.dataset, "test")
    if readout:
        ctx, targets = readout_deltas(data)
    points = gaussian_points(world["prior_mean"], world["prior_cov"], n_points, seed)
    log_prior = torch.zeros(len(points), dtype=torch.float64)
    rows_of = _by_user(split.users)
    if active:  # every row of a user carries the same answers: order the first, read the first
        firsts = torch.tensor([rows[0] for rows in rows_of.values()])
        for chunk in firsts.split(32):  # [32, S, C] at a time
            order = bayes_active_order(points, log_prior, ctx[chunk], mask[chunk], world["temperature"])
            ctx[chunk] = ctx[chunk].gather(1, order[..., None].expand(-1, -1, ctx.shape[2]))
            mask[chunk] = mask[chunk].gather(1, order)

    def margins_at(k: int) -> torch.Tensor:
        users = list(rows_of)
        answered = [ctx[rows_of[u][0], :k][mask[rows_of[u][0], :k]] for u in users]
        tgts = [targets[rows_of[u]] for u in users]
        per_user = bayes_margins(points, log_prior, answered, tgts, world["temperature"])
        out = torch.zeros(len(split))
        for u, m in zip(users, per_user):
            out[rows_of[u]] = m
        return out

    return curve(margins_at, ks, groups(split))


def lowrank_curve(data: Any, ks: Sequence[int] = ALL_K, rank: int = 8, epochs: int = 30,
                  seed: int = 0, progress: bool = False) -> dict[str, list[float]]:
    """The low-rank baseline, fitted on the train users, scored per group at each k."""
    emb = data.embeddings
    torch.manual_seed(seed)
    base = LowRankBaseline.fit(emb, user_pairs(data.splits["train"]), rank=rank, epochs=epochs,
                               seed=seed, progress=progress)
    split = data.splits["test"]
    rows_of = _by_user(split.users)

    def margins_at(k: int) -> torch.Tensor:
        out = torch.zeros(len(split))
        for rows in rows_of.values():
            first = rows[0]
            real = split.ctx_mask[first, :k]
            answered = emb[split.ctx_chosen[first, :k][real]] - emb[split.ctx_rejected[first, :k][real]]
            idx = torch.tensor(rows)
            out[idx] = base.margins(answered, emb[split.chosen[idx]], emb[split.rejected[idx]])
        return out

    return curve(margins_at, ks, groups(split))


def model_curves(model: RewardModel, data: Any, ks: Sequence[int] = ALL_K,
                 active: bool = True, refine: RefineSettings | None = None) -> dict[str, Any]:
    """``{"random": {group: [...]}, "active": {group: [...]}}`` for one model (active only for
    latent models; latent-free models are flat in k and their active curve is the random one).
    ``refine``: each user's ``z`` is refined on their k answers (the active order stays the
    encoder's selector's)."""
    split, emb = data.splits["test"], data.embeddings
    masks = groups(split)
    out: dict[str, Any] = {
        "random": curve(lambda k: model_margins(model, split, emb, k, refine=refine), ks, masks)}
    if active and model.cfg.has_latent:
        ordered = reorder(split, active_order(model, split, emb))
        out["active"] = curve(lambda k: model_margins(model, ordered, emb, k, refine=refine), ks, masks)
    else:
        out["active"] = out["random"]
    return out


def _at(values: list[float], ks: Sequence[int], want: Sequence[int]) -> list[float]:
    return [values[list(ks).index(k)] for k in want]


def personalize(data: Any, runs: dict[str, RewardModel], calibration: dict[str, Any] | None = None,
                n_points: int = 40_000, progress: bool = True,
                refine: Sequence[str] = ()) -> dict[str, Any]:
    """Every curve and figure of the report (see the module docstring) as one JSON object;
    each run named in ``refine`` is measured a second time, as ``NAME+refine``, with its
    latent refined on the answers (:mod:`spl_model.refine`, default settings)."""
    from tqdm.auto import tqdm

    for name in refine:
        if name not in runs or not runs[name].cfg.has_latent or f"{name}+refine" in runs:
            raise ValueError(f"--refine {name}: name a run given with --run that has a latent "
                             f"(spl, vpl or ivpl); runs: {sorted(runs)}.")
    steps = ["bayes", "bayes_readout", "lowrank", *runs, *(f"{n}+refine" for n in refine)]
    bar = tqdm(steps, desc="personalize", unit="model", disable=not progress)
    curves: dict[str, Any] = {}
    for name in bar:
        bar.set_postfix_str(name)
        if name == "bayes":
            curves[name] = {"random": bayes_curve(data, n_points=n_points),
                            "active": bayes_curve(data, n_points=n_points, active=True)}
        elif name == "bayes_readout":
            c = bayes_curve(data, n_points=n_points, readout=True)
            curves[name] = {"random": c, "active": c}
        elif name == "lowrank":
            c = lowrank_curve(data)
            curves[name] = {"random": c, "active": c}
        elif name.endswith("+refine") and name not in runs:
            curves[name] = model_curves(runs[name.removesuffix("+refine")], data,
                                        refine=RefineSettings())
        else:
            curves[name] = model_curves(runs[name], data)
    group = "heldout"
    report: dict[str, Any] = {
        "k": list(KS),
        "group": "held-out users drawn from the population prior, held-out prompts",
        "accuracy": {n: _at(c["random"][group], ALL_K, KS) for n, c in curves.items()},
        "accuracy_active": {n: _at(c["active"][group], ALL_K, KS) for n, c in curves.items()},
        "personas": {n: _at(c["random"]["personas"], ALL_K, KS) for n, c in curves.items()
                     if "personas" in c["random"]},
        "personas_k2": {n: c["random"]["personas"][2] for n, c in curves.items()
                        if "personas" in c["random"]},
        "curves_all_k": curves,
        "n_rows": {g: int(m.sum()) for g, m in groups(data.splits["test"]).items()},
        "n_users": {g: len({u for u, keep in zip(data.splits["test"].users, m.tolist()) if keep})
                    for g, m in groups(data.splits["test"]).items()},
        "world": world_of(data.dataset.card),
    }
    for name, prefix in (("spl", ""), ("bayes", "bayes_")):  # the model, and the ceiling's own
        if name in curves:
            random_k = labels_to_reach(curves[name]["random"][group])
            active_k = labels_to_reach(curves[name]["active"][group])
            report[f"{prefix}labels_to_90pct"] = {"random": random_k, "active": active_k}
            report[f"{prefix}labels_saved_active"] = (round(1 - active_k / random_k, 4)
                                                      if random_k else None)
    if calibration is not None:  # a run's calibration.json: the weights and "measured"
        measured = calibration.get("measured", calibration)
        report["confidence_ece"] = measured["ece"]
        report["confidence"] = measured
    return report


def recipe_differences(configs: dict[str, dict[str, Any]], base: str = "spl") -> dict[str, str]:
    """What each run's settings change from run ``base``'s (else the first run's), in words.

    ``configs`` maps a run name to its ``config.json``; its ``model`` and ``fit`` sections are
    compared field by field, so an ablation row says what it ablates.

    Example:
        >>> recipe_differences({"spl": {"model": {"kind": "spl", "film": True}, "fit": {"epochs": 6}},
        ...                     "spl-12ep": {"model": {"kind": "spl", "film": True}, "fit": {"epochs": 12}},
        ...                     "vpl": {"model": {"kind": "vpl", "film": True}, "fit": {"epochs": 6}}})
        {'spl': 'the reference recipe', 'spl-12ep': 'epochs=12', 'vpl': 'kind=vpl'}
    """
    if not configs:
        return {}
    ref_name = base if base in configs else next(iter(configs))

    def flat(config: dict[str, Any]) -> dict[str, Any]:
        return {**config.get("model", {}), **config.get("fit", {})}

    ref = flat(configs[ref_name])
    out = {}
    for name, config in configs.items():
        mine = flat(config)
        changed = [f"{key}={mine.get(key)}" for key in sorted(set(ref) | set(mine))
                   if mine.get(key) != ref.get(key)]
        out[name] = "the reference recipe" if name == ref_name else ", ".join(changed) or "same settings"
    return out


def write_outputs(report: dict[str, Any], out: Path) -> None:
    """``out.json``, ``out.md`` and ``out.png`` (one path stem, e.g. docs/results/personalize)."""
    from train.report import write_json

    out.parent.mkdir(parents=True, exist_ok=True)
    write_json(out.with_suffix(".json"), report)
    _plot(report, out.with_suffix(".png"))
    out.with_suffix(".md").write_text(_markdown(report, out.with_suffix(".png").name))


_STYLE = {"bayes": ("black", "--"), "bayes_readout": ("dimgrey", "--"), "oracle": ("grey", ":"), "btl": ("tab:brown", ":"),
          "lowrank": ("tab:green", "-."), "vpl": ("tab:blue", "-"), "spl": ("tab:red", "-"),
          "spl+refine": ("tab:red", (0, (4, 1))), "vpl+refine": ("tab:blue", (0, (4, 1)))}


def _plot(report: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    reliability = (report.get("confidence") or {}).get("reliability")
    fig, axes = plt.subplots(1, 3 if reliability else 2, figsize=(15 if reliability else 10, 3.8),
                             dpi=100)
    if reliability:
        ax = axes[2]
        ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="perfectly calibrated")
        ax.plot([b["confidence"] for b in reliability], [b["frequency"] for b in reliability],
                marker="o", color="tab:red", label="SPL confidence")
        for b in reliability:
            ax.annotate(str(b["count"]), (b["confidence"], b["frequency"]), fontsize=6,
                        textcoords="offset points", xytext=(3, -8))
        ax.set_xlabel("stated confidence (bin mean)")
        ax.set_ylabel("top pick was the user's best (share)")
        ax.set_title(f"confidence reliability, held-out users (ECE {report['confidence_ece']:.3f})")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    for ax, (title, key) in zip(axes, [("held-out users, random order", "accuracy"),
                                       ("four personas, random order", "personas")]):
        rows = report.get(key, {})
        ablations = [name for name in rows if name not in _STYLE]  # thin and grey, the table names them
        for i, name in enumerate(ablations):
            ax.plot(report["k"], rows[name], color="silver", linewidth=0.8, zorder=1,
                    label=f"{len(ablations)} ablations (table)" if i == 0 else None)
        for name in (n for n in REFERENCES if n in rows):
            color, style = _STYLE[name]
            ax.plot(report["k"], rows[name], marker="o", ms=3, label=name, color=color,
                    linestyle=style, linewidth=1.8, zorder=2)
        ax.set_xlabel("answers given (k)")
        ax.set_ylabel("accuracy on held-out pairs")
        ax.set_title(title)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=6, loc="lower right", ncol=2)
    fig.tight_layout()
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)


def _markdown(report: dict[str, Any], plot_name: str) -> str:
    ks = report["k"]
    head = "| model | " + " | ".join(f"k={k}" for k in ks) + " |\n|---|" + "---|" * len(ks) + "\n"

    def ordered(rows: dict[str, Any]) -> list[str]:  # the reference points first, then by name
        return [n for n in REFERENCES if n in rows] + sorted(n for n in rows if n not in REFERENCES)

    def table(key: str) -> str:
        rows = report.get(key, {})
        names = ordered(rows)
        return head + "".join(f"| {name} | " + " | ".join(f"{v:.3f}" for v in rows[name]) + " |\n"
                              for name in names)

    lines = [
        "# Personalization: few-shot accuracy against the Bayes ceiling\n",
        f"![few-shot curves]({plot_name})\n",
        "How to read it: every row is accuracy on the same held-out users' held-out pairs (test "
        "prompts) after their first k survey answers. `bayes` is the world's ceiling (the true "
        "prior, attributes and answer model: no model can beat it in expectation); "
        "`bayes_readout` is the same posterior with each pair's attributes read from its "
        "embeddings by a ridge read-out fitted on the train split (how much of the ceiling "
        "survives the backbone; the models see nothing else); `oracle` knows each user's true "
        "weights and learns the reward from the same embeddings (an MLP: it overfits the train "
        "prompts, so it is a reference, not a bound); `btl` is one reward for "
        "everyone; `lowrank` is the LoRe/PAL-style linear baseline; other names are runs "
        "(`python -m train personalize --run NAME=FOLDER`; each run's options are in its "
        "`config.json`, and the Makefile's `personalize` target lists them); `NAME+refine` is "
        "run NAME with each user's latent refined on their k answers (100 Adam steps on the "
        "MAP objective under N(0, 100 I), `spl_model/refine.py`; nothing retrained). In the "
        "active table, `bayes` asks in its own greedy BALD order. Written by `make personalize`.\n",
        f"Rows: {report['n_rows']}, users: {report['n_users']}. World: "
        f"{len(report['world']['attributes'])} attributes, Bradley-Terry temperature "
        f"{report['world']['temperature']:g}.\n",
        "## Held-out users, answers in random order\n", table("accuracy"),
        "## Held-out users, answers in active order (BALD over the user's 12 answered pairs)\n",
        table("accuracy_active"),
        "## The four personas, random order\n", table("personas"),
    ]
    if "labels_saved_active" in report:
        lines.append(f"Labels to reach 90% of the way from k = 0 to k = 12 (SPL): random "
                     f"{report['labels_to_90pct']['random']}, active "
                     f"{report['labels_to_90pct']['active']}; saved "
                     f"{report['labels_saved_active']:.1%}.\n")
    if "bayes_labels_saved_active" in report:
        lines.append(f"The same for the Bayes ceiling asking in its own BALD order (what any "
                     f"selector could hope for on these 12 pairs): random "
                     f"{report['bayes_labels_to_90pct']['random']}, active "
                     f"{report['bayes_labels_to_90pct']['active']}; saved "
                     f"{report['bayes_labels_saved_active']:.1%}.\n")
    if "confidence_ece" in report:
        lines.append(f"Confidence expected calibration error: {report['confidence_ece']:.3f}.\n")
    if report.get("recipes"):
        lines.append("## What each run changes from `spl`'s settings\n")
        lines.append("| run | settings that differ |\n|---|---|\n" + "".join(
            f"| {name} | {report['recipes'][name]} |\n" for name in ordered(report["recipes"])))
    return "\n".join(lines)


def load_runs(specs: Sequence[str], device: str | None = None) -> dict[str, RewardModel]:
    """``["spl=runs/pop/spl", ...]`` -> ``{"spl": model}`` (eval mode)."""
    from train.runs import load_run

    out = {}
    for spec in specs:
        name, sep, folder = spec.partition("=")
        if not sep or not name or not folder:
            raise ValueError(f"--run must look like NAME=FOLDER, got {spec!r}")
        out[name] = load_run(folder, device=device, load_lora=False).model.eval()
    return out

