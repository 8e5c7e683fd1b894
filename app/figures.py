"""The demo's figures and HTML views: latent map, confidence, ranking table (no Gradio here).

Figures are data frames for Gradio's native (browser-rendered) plots: encoding a matplotlib
figure to PNG costs ~1 s on 2 cores, a data frame nothing. The ranking table escapes every
text it shows.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from typing import Any

from spl_model.config import MODEL_KINDS

__all__ = ["CONFIDENCE_LABEL", "confidence_frame", "latent_colors", "latent_frame", "latent_text",
           "legend_html", "ranking_html", "win_rates"]

_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f"]
_LABELS = {kind: info.label for kind, info in MODEL_KINDS.items() if kind != "oracle"}


TYPE_COLORS = _COLORS
YOU, SAMPLES = "you", "you: posterior samples"


def latent_frame(latent_map: Mapping[str, Any] | None, you: Mapping[str, Any] | None):
    """Rows ``x, y, group`` for a native scatter plot: the training users' z (2-D PCA of the
    run's ``latent_map.json``) grouped by type, the visitor's posterior samples (their spread
    is the uncertainty) and the visitor's posterior point."""
    import pandas as pd

    rows = [{"x": float(p["x"]), "y": float(p["y"]), "group": str(p.get("user_type"))}
            for p in (latent_map or {}).get("points") or []]
    if you:
        rows += [{"x": a, "y": b, "group": SAMPLES} for a, b in you.get("samples") or []]
        rows.append({"x": float(you["x"]), "y": float(you["y"]), "group": YOU})
    return pd.DataFrame(rows, columns=["x", "y", "group"])


def latent_colors(types: Sequence[str]) -> dict[str, str]:
    colors = {t: TYPE_COLORS[i % len(TYPE_COLORS)] for i, t in enumerate(types)}
    return {**colors, SAMPLES: "#9ca3af", YOU: "#000000"}


def legend_html(colors: Mapping[str, str]) -> str:
    """A colour key for the latent maps (the plots' own legend is clipped at small heights)."""
    items = "".join(f'<span class="spl-key"><span class="spl-dot" style="background:{c}">'
                    f'</span>{html.escape(name)}</span>' for name, c in colors.items())
    return f'<div class="spl-legend" aria-label="latent map colours">{items}</div>'


CONFIDENCE_LABEL = ("Confidence (SPL blue, VPL orange): the chance that the model's top pick "
                    "for a question like the Rank tab's is your favourite")
"""The confidence plot's title, in words a participant reads: the measure ``app.service``
documents (``Service.confidence``: the calibrated probability, from ``spl_model.calibration``
and the run's ``calibration.json``, that the model's first-ranked response of a ranking set
is the visitor's best one, averaged over the pack's sets). Change it with the measure."""


def latent_text(latent_by_model: Mapping[str, Any] | None,
                maps: Mapping[str, Mapping[str, Any]]) -> str:
    """A text alternative for the latent maps (screen readers, and anyone who cannot read a
    scatter plot): per map, who is on it and where the visitor is, in words."""
    lines = []
    for name, latent_map in maps.items():
        points = latent_map.get("points") or []
        types = sorted({str(p.get("user_type")) for p in points})
        line = (f"**{_LABELS.get(name, name.upper())} map**: {len(points)} training users of "
                f"{len(types)} types ({', '.join(types)}), placed by the first two principal "
                "components of their latent (PC 1 across, PC 2 up)")
        you = (latent_by_model or {}).get(name)
        if not you:
            line += "; you appear once you start answering."
        else:
            line += f"; you are at PC 1 = {you['x']:+.2f}, PC 2 = {you['y']:+.2f}"
            sd = you.get("sd")
            if sd:
                line += f" (posterior spread ±{sd[0]:.2f} across, ±{sd[1]:.2f} up)"
            shares = {k: v for k, v in (you.get("type_shares") or {}).items() if v > 0}
            if shares:
                ranked = sorted(shares.items(), key=lambda kv: (-kv[1], kv[0]))
                line += "; nearest type by share of your posterior samples: " + ", ".join(
                    f"{html.escape(t)} {v:.0%}" for t, v in ranked[:3])
            line += "."
        lines.append(line)
    return "\n\n".join(lines)


def confidence_frame(history: Sequence[Mapping[str, Any]]):
    """Rows ``answers, confidence, model`` for a native line plot: the confidence (see
    ``app.service``) after each answer, one line per latent model."""
    import pandas as pd

    rows = [{"answers": str(h["n_labels"]), "confidence": float(v),
             "model": _LABELS.get(name, name)}
            for h in history for name, v in sorted(h.get("confidence", {}).items())]
    return pd.DataFrame(rows, columns=["answers", "confidence", "model"])


def _text(value: str, limit: int = 600) -> str:
    short = value if len(value) <= limit else value[:limit] + " …"
    return html.escape(short).replace("\n", "<br>")


def win_rates(scores: Sequence[float]) -> list[float]:
    """Per response, the model's probability that it is preferred over another candidate of
    the list, averaged over the others: ``mean_j sigmoid(r_i - r_j)`` (the Bradley-Terry
    preference the models are trained on). Unlike the raw rewards, whose scale differs between
    models and visitors, it reads the same everywhere: 50% is a coin flip."""
    n = len(scores)
    if n < 2:
        return [0.5] * n

    def sigmoid(d: float) -> float:
        return 1 / (1 + math.exp(-d)) if d >= 0 else math.exp(d) / (1 + math.exp(d))

    return [sum(sigmoid(float(r) - float(o)) for j, o in enumerate(scores) if j != i) / (n - 1)
            for i, r in enumerate(scores)]


RANK_NOTE = ("<p class=\"spl-how\">The percentage next to each response is the model's "
             "probability that you prefer it to another candidate of this list, averaged over "
             "the others (50% is a coin flip). Hover it for the raw reward, whose scale differs "
             "between models and visitors.</p>")


def ranking_html(results: Mapping[str, Sequence[Mapping[str, Any]]]) -> str:
    """Side-by-side rankings. In each personalized column, a response that the unified BTL
    model places elsewhere is highlighted with its BTL place; a banner says whether the models
    agree on the best response. Each response shows its ``win_rates`` share (the raw reward
    in its tooltip) and a sentence says what that share means."""
    names = [n for n in ("spl", "vpl", "ivpl", "btl") if n in results] + \
        [n for n in results if n not in ("spl", "vpl", "ivpl", "btl")]
    if not names:
        return "<p>No ranking yet.</p>"
    base = "btl" if "btl" in results else names[-1]
    place = {item["response"]: i for i, item in enumerate(results[base])}
    tops = {n: results[n][0]["response"] for n in names if results[n]}
    parts = []
    if len(set(tops.values())) > 1:
        splits = "; ".join(
            " and ".join(_LABELS.get(n, n) for n in names if tops.get(n) == t) + " pick "
            + f"\u201c{_text(t, 60)}\u201d" for t in dict.fromkeys(tops.values()))
        parts.append(f'<p class="spl-disagree" role="status"><strong>The models disagree on '
                     f'the best response:</strong> {splits}.</p>')
    else:
        parts.append('<p class="spl-agree" role="status">All models agree on the best '
                     'response.</p>')
    parts.append('<div class="spl-ranking">')
    for name in names:
        parts.append(f'<div class="spl-col"><h4>{_LABELS.get(name, name)}</h4><ol>')
        wins = win_rates([item["score"] for item in results[name]])
        for i, item in enumerate(results[name]):
            other = place.get(item["response"])
            differs = name != base and other is not None and other != i
            cls = ' class="spl-differs"' if differs else ""
            note = (f' <span class="spl-note">({_LABELS.get(base, base)}: #{other + 1})</span>'
                    if differs else "")
            parts.append(f'<li{cls}><span class="spl-score" title="raw reward '
                         f'{float(item["score"]):+.3f}">{wins[i]:.0%}</span>'
                         f'{note} {_text(item["response"], 320)}</li>')
        parts.append("</ol></div>")
    parts.append("</div>")
    parts.append(RANK_NOTE)
    return "".join(parts)
