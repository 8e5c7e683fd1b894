"""The active-querying simulation's report: ``NAME.md`` (with the variants table and the
hand-written findings of ``bench/active_notes/NAME.md``) and ``NAME.png``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.active_simulate import K_MAX

NOTES_DIR = Path(__file__).resolve().parent / "active_notes"


def notes(name: str) -> list[str]:
    """The hand-written findings appended to ``NAME.md`` (written after the runs they cite;
    rerun the variants with --seen-per-type 25 --unseen 100 to reproduce the numbers), or none."""
    path = NOTES_DIR / f"{name}.md"
    return path.read_text(encoding="utf-8").split("\n") if path.is_file() else []


def plot(result: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["svg.hashsalt"] = "spl"
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for ax, group in zip(axes, ("seen", "unseen")):
        res = result["groups"][group]
        for arm, color in (("active", "tab:blue"), ("random", "tab:gray")):
            k = res["k"]
            lo = [c[0] for c in res[arm]["ci95"]]
            hi = [c[1] for c in res[arm]["ci95"]]
            ax.plot(k, res[arm]["mean"], marker="o", ms=3, color=color, label=f"{arm} order")
            ax.fill_between(k, lo, hi, color=color, alpha=0.2, lw=0)
            ax.axvline(res["labels_needed"][arm], color=color, ls=":", lw=1)
        ax.axhline(res["labels_needed"]["target_accuracy"], color="k", ls="--", lw=0.7)
        ax.set_title(f"{group} users (n={res['n_users']}): reduction "
                     f"{100 * res['reduction']:.0f}%")
        ax.set_xlabel("labels answered (k)")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("held-out pair accuracy")
    axes[0].text(0.02, 0.96, "dashed: 90% of random's accuracy at 12; dotted: labels needed",
                 transform=axes[0].transAxes, fontsize=7, va="top")
    axes[0].legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)


VARIANTS = (
    ("active", "demo model, 2-vs-2 pool (64), BALD (the app's selector)"),
    ("active_lookahead", "demo model, 2-vs-2 pool (64), look-ahead"),
    ("active_app", "demo model, 2-vs-2 pool (64), BALD, shared first question (as the app)"),
    ("active_rows", "demo model, any-pair pool (64), BALD"),
    ("active_rows_lookahead", "demo model, any-pair pool (64), look-ahead"),
    ("active_b3", "beta = 1e-3 model, 2-vs-2 pool (64), BALD"),
    ("active_b3_lookahead", "beta = 1e-3 model, 2-vs-2 pool (64), look-ahead"),
    ("active_b3_rows", "beta = 1e-3 model, any-pair pool (64), BALD"),
    ("active_b3_rows_lookahead", "beta = 1e-3 model, any-pair pool (64), look-ahead"),
    ("active_survey16", "survey-16 model (before), 2-vs-2 pool (64), BALD"),
    ("active_survey16_redundancy_first", "survey-16 model (before), 2-vs-2 pool, BALD + penalty 1, app's first"),
    ("active_survey16_survey", "survey-16 model (before), its 16 survey pairs, BALD"),
    ("active_survey16_survey_redundancy_first",
     "survey-16 model (before), its 16 survey pairs, BALD + penalty 1, app's first"),
)


def variants_table(folder: Path) -> list[str]:
    """One row per variant whose JSON exists in ``folder``: both label-count metrics."""
    lines = ["| variant | group | labels to 90% of acc@12: active / random | reduction [95% CI] "
             "| labels to 90% of the gain: active / random | reduction [95% CI] |",
             "|---|---|---|---|---|---|"]
    for stem, title in VARIANTS:
        path = folder / f"{stem}.json"
        if not path.is_file():
            continue
        result = json.loads(path.read_text())
        for group in ("seen", "unseen"):
            r = result["groups"][group]
            ln, lg = r["labels_needed"], r["labels_needed_gain"]
            lines.append(
                f"| {title} (`{stem}.json`) | {group} | {ln['active']:.2f} / {ln['random']:.2f} "
                f"| {100 * r['reduction']:.0f}% [{100 * r['reduction_ci95'][0]:.0f}, "
                f"{100 * r['reduction_ci95'][1]:.0f}] | {lg['active']:.2f} / {lg['random']:.2f} "
                f"| {100 * r['reduction_gain']:.0f}% [{100 * r['reduction_gain_ci95'][0]:.0f}, "
                f"{100 * r['reduction_gain_ci95'][1]:.0f}] |")
    return lines


def markdown(result: dict[str, Any], name: str = "active", folder: Path | None = None) -> str:
    """``NAME.md``: the setup and the labels-needed table, the accuracy curves, the
    diagnostics, the stopping signal, the verdict, the variants (``active`` only), the notes."""
    lines = _setup(result, name) + _curves(result) + _diagnostics(result) + _stopping(result)
    lines += ["", f"![accuracy vs labels]({name}.png)", "",
              f"Target (>= 30% fewer labels on both groups): "
              f"{'met' if result['target_met'] else 'NOT met'} "
              f"(seen {100 * result['reduction_seen']:.0f}%, unseen "
              f"{100 * result['reduction_unseen']:.0f}%).", ""]
    if name == "active" and folder is not None:
        lines += ["## All variants", "", *variants_table(folder), ""]
    return "\n".join(lines + notes(name))


def _setup(result: dict[str, Any], name: str) -> list[str]:
    cfg = result["config"]
    lines = [
        "# Active querying: labels saved by the selector over random order (issue #6)",
        "",
        "Generated by `bench/active_simulation.py` (see its docstring for the protocol); "
        f"numbers from `{name}.json`, plot `{name}.png`.",
        "",
        f"- Model: `{cfg['run']}` ({cfg['model']}); selector: "
        + (f"look-ahead EPIG on the pool (`method=\"lookahead\"`, redundancy penalty "
           f"{cfg.get('redundancy', 0.0):g})" if cfg.get("method") == "lookahead" else
           f"BALD under {cfg['samples']} posterior samples (spread {cfg.get('spread', 1.0):g}, "
           f"redundancy penalty {cfg.get('redundancy', 0.0):g})")
        + " with `spl_model.active.select_query`; first "
        + ("question: the random arm's (as the app asks the pack's first pair)."
           if cfg.get("first") == "random" else "question: the selector's, from z = 0 / the prior."),
        f"- Participants: {result['groups']['seen']['n_users']} seen-type users "
        f"({cfg['seen_per_type']} per type), {result['groups']['unseen']['n_users']} unseen "
        f"continuous users (Dirichlet weights of `test_unseen.jsonl`); answers: {cfg['answers']}"
        + (" (a tie, a pair the user does not care about, is a coin flip)." if cfg['answers'] ==
           "noiseless" else "."),
        f"- Pool ({cfg['pool_source']}): {cfg['pool']} pairs per user from TRAIN prompts, "
        + ({"rows": f"any two responses of a prompt, {100 * cfg.get('controversial_share', 0.7):.0f}% "
                    "of them pairs the user types disagree on (like the dataset's rows)",
            "survey": "the dataset's survey pairs",
            "train": "each splitting the types 2 vs 2 like a balanced survey"}[cfg["pool_source"]])
        + f"; held-out: {cfg['eval_pairs']} TEST-prompt pairs per user (noiseless labels).",
        "- Labels needed: smallest k (interpolated) where the arm's mean accuracy reaches 90% "
        "of the RANDOM arm's accuracy at k = 12 (one target for both arms); 90%-of-gain: "
        "90% of the way from k = 0 to random's k = 12. Reduction = 1 - active / random. 95% "
        "intervals: bootstrap over users (the same resample for both arms).",
        "",
        "| group | labels needed: active | random | **reduction** | 90%-of-gain: active | "
        "random | reduction | acc@12 active | acc@12 random |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for group in ("seen", "unseen"):
        r = result["groups"][group]
        ln, lg = r["labels_needed"], r["labels_needed_gain"]
        lines.append(
            f"| {group} | {ln['active']:.2f} [{ln['active_ci95'][0]:.2f}, {ln['active_ci95'][1]:.2f}] "
            f"| {ln['random']:.2f} [{ln['random_ci95'][0]:.2f}, {ln['random_ci95'][1]:.2f}] "
            f"| **{100 * r['reduction']:.0f}%** [{100 * r['reduction_ci95'][0]:.0f}, "
            f"{100 * r['reduction_ci95'][1]:.0f}] "
            f"| {lg['active']:.2f} | {lg['random']:.2f} | {100 * r['reduction_gain']:.0f}% "
            f"[{100 * r['reduction_gain_ci95'][0]:.0f}, {100 * r['reduction_gain_ci95'][1]:.0f}] "
            f"| {r['active']['mean'][-1]:.3f} | {r['random']['mean'][-1]:.3f} |")
    return lines


def _curves(result: dict[str, Any]) -> list[str]:
    lines = ["", "Accuracy after k labels (mean [95% CI]):", "",
              "| k | seen active | seen random | unseen active | unseen random |",
              "|---|---|---|---|---|"]
    for k in range(K_MAX + 1):
        cells = []
        for group in ("seen", "unseen"):
            for arm in ("active", "random"):
                r = result["groups"][group][arm]
                cells.append(f"{r['mean'][k]:.3f} [{r['ci95'][k][0]:.3f}, {r['ci95'][k][1]:.3f}]")
        lines.append(f"| {k} | " + " | ".join(cells) + " |")
    return lines


def _diagnostics(result: dict[str, Any]) -> list[str]:
    lines = ["", "Diagnostics: distinct 2-vs-2 splits asked after k labels (of 3), and the "
              "mean score of the active pick (BALD in nats, max ln 2 = 0.693, minus the redundancy "
              "penalty when on):", "",
              "| k | seen active | seen random | unseen active | unseen random | score seen | "
              "score unseen |", "|---|---|---|---|---|---|---|"]
    for k in range(1, K_MAX + 1):
        g = result["groups"]
        lines.append(
            f"| {k} | {g['seen']['distinct_splits_asked']['active'][k]:.2f} "
            f"| {g['seen']['distinct_splits_asked']['random'][k]:.2f} "
            f"| {g['unseen']['distinct_splits_asked']['active'][k]:.2f} "
            f"| {g['unseen']['distinct_splits_asked']['random'][k]:.2f} "
            f"| {g['seen']['active_bald_of_pick'][k - 1]:.3f} "
            f"| {g['unseen']['active_bald_of_pick'][k - 1]:.3f} |")
    return lines


def _stopping(result: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    if "stopping" in result["groups"]["seen"]:
        st = {g: result["groups"][g]["stopping"] for g in ("seen", "unseen")}
        lines += ["", "Stopping signal (active arm; `lookahead_stability` on one test prompt's "
                  "16 responses, the unasked pool pairs as the possible next questions): its "
                  "mean after k labels, and the share of users whose top response is a best one "
                  "for them:", "",
                  "| k | stability seen | top right seen | stability unseen | top right unseen |",
                  "|---|---|---|---|---|"]
        for k in range(K_MAX + 1):
            lines.append(f"| {k} | {st['seen']['mean_stability'][k]:.3f} | "
                         f"{st['seen']['top_right'][k]:.3f} | {st['unseen']['mean_stability'][k]:.3f} "
                         f"| {st['unseen']['top_right'][k]:.3f} |")
        lines += ["", f"A user who stops when the signal first reaches {st['seen']['stop_at']} "
                  "(else at 12):", "",
                  "| group | labels at stop | stopped before 12 | accuracy at stop | at 12 "
                  "| top right at stop | at 12 |", "|---|---|---|---|---|---|---|"]
        for g in ("seen", "unseen"):
            x = st[g]
            lines.append(f"| {g} | {x['labels_at_stop']:.2f} | {100 * x['stopped_before_12']:.0f}% "
                         f"| {x['accuracy_at_stop']:.3f} | {x['accuracy_at_12']:.3f} "
                         f"| {x['top_right_at_stop']:.3f} | {x['top_right_at_12']:.3f} |")
    return lines
