"""The demo's figures and HTML views: latent map, confidence, ranking table (no Gradio here).

Figures use matplotlib's object API (``Figure`` without pyplot), which is safe to call from
Gradio's worker threads. The ranking table escapes every text it shows.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["confidence_figure", "latent_figure", "ranking_html"]

_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f"]
_LABELS = {"spl": "SPL", "vpl": "VPL", "ivpl": "IAF-VPL", "btl": "BTL"}


def _figure(width: float, height: float, ncols: int = 1):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    axes = fig.subplots(1, ncols, squeeze=False)[0]
    return fig, list(axes)


def latent_figure(maps: Mapping[str, Mapping[str, Any]], visitor: Mapping[str, Any] | None,
                  n_context: int = 0):
    """One panel per latent model: the training users' z (2-D PCA) coloured by type, the
    visitor's posterior point with its samples and a 1-sd box."""
    names = list(maps) or ["spl"]
    fig, axes = _figure(4.2 * len(names), 3.6, len(names))
    for ax, name in zip(axes, names):
        points = (maps.get(name) or {}).get("points") or []
        types = sorted({str(p.get("user_type")) for p in points})
        for i, t in enumerate(types):
            xs = [p["x"] for p in points if str(p.get("user_type")) == t]
            ys = [p["y"] for p in points if str(p.get("user_type")) == t]
            ax.scatter(xs, ys, s=10, alpha=0.45, color=_COLORS[i % len(_COLORS)], label=t)
        you = (visitor or {}).get(name)
        if you:
            cloud = you.get("samples") or []
            if cloud:
                ax.scatter([c[0] for c in cloud], [c[1] for c in cloud], s=6, color="black",
                           alpha=0.25, label="you (samples)")
            sx, sy = you.get("sd", [0.0, 0.0])
            ax.errorbar([you["x"]], [you["y"]], xerr=[sx], yerr=[sy], fmt="*", color="black",
                        markersize=14, capsize=3, label="you")
        ax.set_title(f"{_LABELS.get(name, name)} latent map"
                     + (" (prior: no answers yet)" if n_context == 0 else f" ({n_context} answers)"),
                     fontsize=10)
        ax.set_xlabel("PC 1", fontsize=8)
        ax.set_ylabel("PC 2", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=7, loc="best", markerscale=1.0)
    return fig


def confidence_figure(history: Sequence[Mapping[str, Any]]):
    """Confidence (see ``app.service``) after each answer, one line per latent model."""
    fig, (ax,) = _figure(4.2, 2.6)
    models = sorted({m for h in history for m in h.get("confidence", {})})
    for i, name in enumerate(models):
        xs = [h["n_labels"] for h in history if name in h.get("confidence", {})]
        ys = [h["confidence"][name] for h in history if name in h.get("confidence", {})]
        ax.plot(xs, ys, marker="o", color=_COLORS[i], label=_LABELS.get(name, name))
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("answers so far", fontsize=8)
    ax.set_ylabel("top pick stable", fontsize=8)
    ax.set_title("Confidence: share of posterior samples keeping the top pick", fontsize=9)
    ax.tick_params(labelsize=7)
    if models:
        ax.legend(fontsize=7, loc="lower right")
    return fig


def _text(value: str, limit: int = 600) -> str:
    short = value if len(value) <= limit else value[:limit] + " …"
    return html.escape(short).replace("\n", "<br>")


def ranking_html(results: Mapping[str, Sequence[Mapping[str, Any]]]) -> str:
    """Side-by-side rankings; a response placed differently by another model is highlighted,
    and a banner says when the models disagree on the top response."""
    names = [n for n in ("spl", "vpl", "ivpl", "btl") if n in results] + \
        [n for n in results if n not in ("spl", "vpl", "ivpl", "btl")]
    if not names:
        return "<p>No ranking yet.</p>"
    position = {n: {item["response"]: i for i, item in enumerate(results[n])} for n in names}
    tops = {n: results[n][0]["response"] for n in names if results[n]}
    parts = []
    if len(set(tops.values())) > 1:
        groups = ", ".join(f"{_LABELS.get(n, n)} picks #{list(position[names[0]]).index(t) + 1}"
                           if t in position[names[0]] else _LABELS.get(n, n)
                           for n, t in tops.items())
        parts.append(f'<p class="spl-disagree" role="status"><strong>The models disagree on '
                     f'the best response</strong> ({html.escape(groups)}, numbered by '
                     f'{_LABELS.get(names[0], names[0])}\'s order).</p>')
    else:
        parts.append('<p class="spl-agree" role="status">All models agree on the best '
                     'response.</p>')
    parts.append('<div class="spl-ranking">')
    for name in names:
        parts.append(f'<div class="spl-col"><h4>{_LABELS.get(name, name)}</h4><ol>')
        for i, item in enumerate(results[name]):
            differs = any(position[o].get(item["response"]) != i for o in names if o != name)
            cls = ' class="spl-differs"' if differs else ""
            parts.append(f'<li{cls}><span class="spl-score">{float(item["score"]):+.3f}</span> '
                         f'{_text(item["response"])}</li>')
        parts.append("</ol></div>")
    parts.append("</div>")
    return "".join(parts)
