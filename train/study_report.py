"""Turn a study's cells into ``study.json``, ``study.md`` and plots.

Every number is a mean over seeds with a 95% Student-t interval. SPL vs VPL differences are
paired by seed (the same seed gives both models the same data order), so their intervals are
tighter than the two separate intervals suggest.

Plots (``plots/``): active units vs beta, accuracy vs beta, accuracy vs the number of context
pairs, and the user latents of VPL, IAF-VPL and SPL side by side.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Any

from spl_model.metrics import COLLAPSE_SHARE, latent_collapsed
from train.report import write_json
from train.study import VARIANTS, Cell, StudyConfig, cells_of, interval

__all__ = ["METRICS", "cell_metrics", "summarize", "write_study"]

# report.json key -> column title; "user_spread" is derived (best minus worst user type)
METRICS: dict[str, str] = {
    "accuracy": "accuracy",
    "accuracy_controversial": "controversial",
    "accuracy_unseen": "unseen users",
    "active_units_share": "AU share",
    "active_units_z_share": "AU share on z",
    "kl": "KL (nats)",
    "swap_flip_rate": "swap-flip",
    "user_spread": "user spread",
}


def cell_metrics(report: dict[str, Any]) -> dict[str, Any]:
    """The study's numbers from one cell's report.json."""
    by_user = report.get("accuracy_by_user") or {}
    values = {k: report.get(k) for k in METRICS if k != "user_spread"}
    values["user_spread"] = (max(by_user.values()) - min(by_user.values())) if len(by_user) > 1 else None
    values["accuracy_by_context_size"] = report.get("accuracy_by_context_size") or {}
    values["train_seconds"] = report.get("train_seconds")
    return values


def _setting(cell: Cell) -> tuple[str, str, float | None]:
    return cell.variant, cell.capacity, cell.beta


def summarize(cfg: StudyConfig, reports: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Group the cells by (variant, capacity, beta) and put intervals on every metric."""
    cells = cells_of(cfg)
    groups: dict[tuple[str, str, float | None], list[Cell]] = {}
    for cell in cells:
        groups.setdefault(_setting(cell), []).append(cell)
    rows = []
    for (variant, capacity, beta), members in groups.items():
        metrics = [cell_metrics(reports[c.id]) for c in members if reports.get(c.id)]
        row: dict[str, Any] = {"variant": variant, "capacity": capacity,
                               "hidden_dim": members[0].hidden_dim, "beta": beta,
                               "seeds": [c.seed for c in members]}
        for key in METRICS:
            row[key] = interval([m[key] for m in metrics], None if key == "kl" else (0.0, 1.0))
        sizes = sorted({k for m in metrics for k in m["accuracy_by_context_size"]}, key=int)
        row["accuracy_by_context_size"] = {
            k: interval([m["accuracy_by_context_size"].get(k) for m in metrics], (0.0, 1.0))
            for k in sizes}
        verdicts = [latent_collapsed(m) for m in metrics]
        verdicts = [v for v in verdicts if v is not None]
        # seeds whose decoder got one z for every user; training either finds the latent or not
        row["collapsed_seeds"] = sum(verdicts) if verdicts else None
        row["collapsed"] = latent_collapsed({"active_units_z_share": row["active_units_z_share"]["mean"]})
        rows.append(row)
    return {"config": cfg.to_dict(), "rows": rows, "comparisons": _comparisons(cfg, reports),
            "cells": {c.id: cell_metrics(reports[c.id]) for c in cells if reports.get(c.id)},
            "collapse_share": COLLAPSE_SHARE}


def _comparisons(cfg: StudyConfig, reports: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Paired by seed, per (capacity, beta): every flow model minus VPL, and every SPL
    variant minus IAF-VPL (what SPL adds beyond a flow posterior)."""
    pairs = []
    if "vpl" in cfg.variants:
        pairs += [(v, "vpl") for v in cfg.variants if VARIANTS[v].kind in ("spl", "ivpl")]
    if "ivpl" in cfg.variants:
        pairs += [(v, "ivpl") for v in cfg.variants if VARIANTS[v].kind in ("spl", "ivpl") and v != "ivpl"]
    out = []
    for capacity, hidden in cfg.capacities:
        for beta in cfg.betas:
            for variant, baseline in pairs:
                item: dict[str, Any] = {"variant": variant, "baseline": baseline,
                                        "capacity": capacity, "beta": beta}
                for key in ("accuracy", "accuracy_unseen", "active_units_z_share"):
                    diffs = []
                    for seed in cfg.seeds:
                        mine = reports.get(Cell(variant, beta, capacity, hidden, seed).id) or {}
                        base = reports.get(Cell(baseline, beta, capacity, hidden, seed).id) or {}
                        if mine.get(key) is not None and base.get(key) is not None:
                            diffs.append(mine[key] - base[key])
                    item[key] = interval(diffs, (-1.0, 1.0))
                out.append(item)
    return out


# --- markdown ----------------------------------------------------------------------------------
def _fmt(cell: dict[str, Any], percent: bool = True) -> str:
    if cell["mean"] is None:
        return "-"
    scale, digits = (100, 1) if percent else (1, 2)
    text = f"{cell['mean'] * scale:.{digits}f}"
    if cell["low"] is not None:
        text += f" [{cell['low'] * scale:.{digits}f}, {cell['high'] * scale:.{digits}f}]"
    return text


def _beta(beta: float | None) -> str:
    return "-" if beta is None else f"{beta:g}"


def render_markdown(summary: dict[str, Any], title: str, meta: dict[str, Any]) -> str:
    cfg = summary["config"]
    lines = [
        f"# {title}", "",
        f"Generated by `{meta['command']}` on {meta['date']}; {meta['n_cells']} cells "
        f"({len(cfg['seeds'])} seeds each); wall time {meta['wall_minutes']:.1f} min over "
        f"{max(len(meta.get('invocations') or []), 1)} run(s) that fitted cells "
        f"({meta['cell_minutes']:.1f} min of training steps, summed over cells).",
        "",
        f"- Data: `{meta['dataset']}` ({meta['train_rows']} training rows), backbone "
        f"`{meta['backbone']}`; Z = {cfg['latent_dim']}, K = {cfg['n_flows']}, "
        f"lambda = {cfg['guide_weight']:g}, {cfg['epochs']:g} epochs, lr {cfg['lr']:g}, "
        f"batch {cfg['batch_size']} per process x {meta.get('processes', 1)} process(es).",
        f"- Capacities (hidden width H of every MLP): "
        + ", ".join(f"{k} = {v}" for k, v in cfg["capacities"].items()) + ".",
        "- Each entry: mean over seeds [95% t-interval], in percent except KL (nats). "
        "AU share: active units (variance across test users > 0.005) on the vector the paper "
        "judges each model by (VPL: posterior mean mu; SPL / IAF-VPL: last flow shift m_K). "
        "AU share on z: the same count on the latent the decoder actually reads (eval mode: the "
        "posterior mean pushed through the flow; for VPL this is mu again), so every model is "
        "measured alike. Swap-flip: share of target predictions that flip when every context "
        "pair is swapped. User spread: best minus worst user type's accuracy. "
        f"Collapsed seeds: seeds whose AU share on z is below {summary['collapse_share']:g} (the "
        "decoder gets the same z for every user); bold when the mean is. Intervals of shares and "
        "accuracies are clipped to [0, 100].",
        "",
        "## SPL minus VPL, and SPL minus IAF-VPL (paired by seed)", "",
        "| model | minus | capacity | beta | accuracy (points) | unseen users (points) | AU share on z (points) |",
        "|---|---|---|---|---|---|---|",
    ]
    for c in sorted(summary["comparisons"], key=lambda c: c["baseline"] != "vpl"):
        lines.append(f"| {c['variant']} | {c['baseline']} | {c['capacity']} | {_beta(c['beta'])} | {_fmt(c['accuracy'])} | "
                     f"{_fmt(c['accuracy_unseen'])} | {_fmt(c['active_units_z_share'])} |")
    lines += ["", "## All settings", "",
              "| model | capacity | beta | " + " | ".join(METRICS.values()) + " | collapsed seeds |",
              "|---|---|---|" + "---|" * (len(METRICS) + 1)]
    order = {v: i for i, v in enumerate(cfg["variants"])}
    rows = sorted(summary["rows"], key=lambda r: (list(cfg["capacities"]).index(r["capacity"]),
                                                  order[r["variant"]], r["beta"] or 0))
    for r in rows:
        cells = [_fmt(r[k], percent=k != "kl") for k in METRICS]
        n = r["accuracy"]["n"]
        collapsed = "-" if r["collapsed_seeds"] is None else f"{r['collapsed_seeds']}/{n}"
        if r["collapsed"]:
            collapsed = f"**{collapsed}**"
        lines.append(f"| {r['variant']} | {r['capacity']} | {_beta(r['beta'])} | " + " | ".join(cells)
                     + f" | {collapsed} |")
    lines += ["", "## Plots", ""]
    for name, caption in PLOTS.items():
        lines.append(f"![{caption}](plots/{name})")
    lines += ["", "Variants: " + "; ".join(f"`{v}`: {VARIANTS[v].about}" for v in cfg["variants"]) + "."]
    return "\n".join(lines) + "\n"


# --- plots -----------------------------------------------------------------------------------
PLOTS = {
    "active_units_vs_beta.png": "active units vs beta",
    "accuracy_vs_beta.png": "accuracy vs beta",
    "accuracy_vs_context.png": "accuracy vs context pairs",
    "latent_maps.png": "user latents side by side",
}
_COLORS = {"btl": "0.4", "vpl": "tab:red", "ivpl": "tab:orange", "spl": "tab:blue",
           "spl-noguide": "tab:cyan", "spl-nosplit": "tab:purple", "spl-nofilm": "tab:green",
           "ivpl-nofreenats": "tab:brown", "spl-nofreenats": "tab:pink"}


def _errorbar(ax: Any, rows: list[dict[str, Any]], key: str, xs: list[float], variant: str,
              scale: float = 1.0) -> None:
    """One variant's line over beta with its 95% intervals as error bars (values x ``scale``)."""
    ys = [r[key]["mean"] for r in rows]
    if all(y is None for y in ys):
        return
    lows = [(r[key]["mean"] - r[key]["low"]) * scale if r[key]["low"] is not None else 0 for r in rows]
    highs = [(r[key]["high"] - r[key]["mean"]) * scale if r[key]["high"] is not None else 0 for r in rows]
    ax.errorbar(xs, [y * scale if y is not None else float("nan") for y in ys], yerr=[lows, highs],
                marker="o", ms=3, capsize=2, lw=1.2, color=_COLORS.get(variant), label=variant)


def draw_study_plots(summary: dict[str, Any], folder: Path, latent_maps: dict[str, Any]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    cfg = summary["config"]
    caps = list(cfg["capacities"])
    rows = summary["rows"]

    def select(variant: str, capacity: str) -> list[dict[str, Any]]:
        found = [r for r in rows if r["variant"] == variant and r["capacity"] == capacity]
        return sorted(found, key=lambda r: r["beta"] or 0)

    for name, panels in (
        ("active_units_vs_beta.png", [("active_units_share", "AU share (judged vector)"),
                                      ("active_units_z_share", "AU share on z (decoder input)")]),
        ("accuracy_vs_beta.png", [("accuracy", "test accuracy (%)"),
                                  ("accuracy_unseen", "unseen-user accuracy (%)")]),
    ):
        fig, axes = plt.subplots(len(panels), len(caps), figsize=(4.2 * len(caps), 3.1 * len(panels)),
                                 dpi=100, squeeze=False, sharex=True)
        for j, cap in enumerate(caps):
            for i, (key, ylabel) in enumerate(panels):
                ax = axes[i][j]
                scale = 100.0 if key.startswith("accuracy") else 1.0
                for variant in cfg["variants"]:
                    found = select(variant, cap)
                    if variant == "btl" and found:
                        mean = found[0][key]["mean"]
                        if mean is not None:
                            ax.axhline(mean * scale, color=_COLORS["btl"], ls="--", lw=1, label="btl")
                        continue
                    _errorbar(ax, found, key, [r["beta"] for r in found], variant, scale)
                ax.set_xscale("log")
                ax.grid(alpha=0.3)
                ax.set_ylabel(ylabel)
                if i == 0:
                    ax.set_title(f"{cap} decoder (H = {cfg['capacities'][cap]})")
                if i == len(panels) - 1:
                    ax.set_xlabel("beta (KL weight)")
        if axes[0][0].get_legend_handles_labels()[0]:
            axes[0][0].legend(fontsize=7, ncol=2)
        fig.tight_layout()
        fig.savefig(folder / name, metadata={"Software": None})
        plt.close(fig)

    _draw_context_curves(plt, summary, folder, select)
    _draw_latent_maps(plt, cfg, latent_maps, folder)


def _draw_context_curves(plt: Any, summary: dict[str, Any], folder: Path, select: Any) -> None:
    cfg = summary["config"]
    caps, betas = list(cfg["capacities"]), list(cfg["betas"])
    fig, axes = plt.subplots(len(caps), len(betas), figsize=(3.2 * len(betas), 2.8 * len(caps)),
                             dpi=100, squeeze=False, sharey=True)
    for i, cap in enumerate(caps):
        for j, beta in enumerate(betas):
            ax = axes[i][j]
            for variant in cfg["variants"]:
                found = [r for r in select(variant, cap) if r["beta"] in (beta, None)]
                if not found or not found[0]["accuracy_by_context_size"]:
                    continue
                curve = found[0]["accuracy_by_context_size"]
                ks = sorted(curve, key=int)
                ax.plot([int(k) for k in ks], [curve[k]["mean"] * 100 for k in ks], marker="o", ms=2,
                        lw=1.1, color=_COLORS.get(variant), label=variant)
            btl = select("btl", cap)
            if btl and btl[0]["accuracy"]["mean"] is not None:
                ax.axhline(btl[0]["accuracy"]["mean"] * 100, color=_COLORS["btl"], ls="--", lw=1, label="btl")
            ax.set_title(f"{cap}, beta = {beta:g}", fontsize=9)
            ax.grid(alpha=0.3)
            if j == 0:
                ax.set_ylabel("test accuracy (%)")
            if i == len(caps) - 1:
                ax.set_xlabel("context pairs (at most k)")
    if axes[0][0].get_legend_handles_labels()[0]:
        axes[0][0].legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(folder / "accuracy_vs_context.png", metadata={"Software": None})
    plt.close(fig)


def _draw_latent_maps(plt: Any, cfg: dict[str, Any], latent_maps: dict[str, Any], folder: Path) -> None:
    """Rows: betas; columns: VPL, IAF-VPL, SPL on the largest capacity, first seed."""
    variants = [v for v in ("vpl", "ivpl", "spl") if v in cfg["variants"]]
    betas = list(cfg["betas"])
    if not variants:
        return
    # one scale for every panel: a collapsed latent shows as the dot it is, not as a
    # PCA-magnified cloud; the title gives the spread (std of the users' z in the plane)
    fig, axes = plt.subplots(len(betas), len(variants), figsize=(3.0 * len(variants), 2.7 * len(betas)),
                             dpi=100, squeeze=False, sharex=True, sharey=True)
    for i, beta in enumerate(betas):
        for j, variant in enumerate(variants):
            ax = axes[i][j]
            lmap = latent_maps.get((variant, beta))
            spread = _spread(lmap["points"]) if lmap else 0.0
            ax.set_title(f"{variant}, beta = {beta:g} (spread {spread:.2g})", fontsize=8)
            if lmap is None:
                ax.text(0.5, 0.5, "no latent map\n(all latents equal)", ha="center", va="center",
                        transform=ax.transAxes, fontsize=8)
                continue
            types = sorted({p["user_type"] for p in lmap["points"]})
            for t in types:
                pts = [p for p in lmap["points"] if p["user_type"] == t]
                ax.scatter([p["x"] for p in pts], [p["y"] for p in pts], s=5, alpha=0.6, label=t)
    if axes[0][-1].get_legend_handles_labels()[0]:
        axes[0][-1].legend(fontsize=6, title="user type", title_fontsize=6)
    fig.suptitle(f"user latents (PCA), {list(cfg['capacities'])[-1]} decoder, seed {cfg['seeds'][0]}",
                 fontsize=10)
    fig.tight_layout()
    fig.savefig(folder / "latent_maps.png", metadata={"Software": None})
    plt.close(fig)


def _spread(points: list[dict[str, Any]]) -> float:
    """sqrt(var x + var y) of a latent map's points: how far apart the users' z are."""
    n = len(points)
    if n < 2:
        return 0.0
    mx = sum(p["x"] for p in points) / n
    my = sum(p["y"] for p in points) / n
    return (sum((p["x"] - mx) ** 2 + (p["y"] - my) ** 2 for p in points) / n) ** 0.5


def _load_latent_maps(cfg: StudyConfig, out: Path) -> dict[tuple[str, float], Any]:
    import json

    capacity, hidden = cfg.capacities[-1]
    maps = {}
    for variant in ("vpl", "ivpl", "spl"):
        for beta in cfg.betas:
            path = out / "cells" / Cell(variant, beta, capacity, hidden, cfg.seeds[0]).id / "latent_map.json"
            if path.exists():
                maps[(variant, beta)] = json.loads(path.read_text())
    return maps


def write_study(out: str | Path, cfg: StudyConfig, reports: dict[str, dict[str, Any]],
                meta: dict[str, Any]) -> dict[str, Any]:
    """Write ``study.json``, ``study.md`` and ``plots/*.png`` into ``out``; return the summary."""
    out = Path(out)
    summary = summarize(cfg, reports)
    meta = {"date": _dt.date.today().isoformat(), **meta,
            "n_cells": len(cells_of(cfg)),
            "cell_minutes": sum((r.get("train_seconds") or 0) for r in reports.values()) / 60}
    summary["meta"] = meta
    write_json(out / "study.json", summary)
    title = meta.get("title") or f"Collapse study: {meta['dataset']}"
    (out / "study.md").write_text(render_markdown(summary, title, meta))
    draw_study_plots(summary, out / "plots", _load_latent_maps(cfg, out))
    return summary
