"""``python -m train study``: the posterior-collapse study as one command.

A grid of short fits on cached embeddings (see :mod:`train.study`), then one table with
intervals over seeds and the plots (see :mod:`train.study_report`). Re-running the same
command skips finished cells; adding betas, seeds or variants only computes the new cells.
"""

from __future__ import annotations

import functools
import json
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import click

from train.cli_embed import backbone_options
from train.study import VARIANTS, StudyConfig

__all__ = ["study"]

EXAMPLE = ("Example: python -m train study --data datasets/synthetic --cache cache "
           "--out runs/study-synthetic --jobs 2")
_DEFAULT = StudyConfig()


def _floats(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError as err:
        raise click.BadParameter(f"{text!r} is not a comma-separated list of numbers.") from err


def _ints(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError as err:
        raise click.BadParameter(f"{text!r} is not a comma-separated list of integers.") from err


def _capacities(text: str) -> tuple[tuple[str, int], ...]:
    """``small=64,large=512`` -> ``(("small", 64), ("large", 512))``."""
    out = []
    for item in (v.strip() for v in text.split(",") if v.strip()):
        name, sep, width = item.partition("=")
        if not sep or not name.strip() or not width.strip().isdigit():
            raise click.BadParameter(f"{item!r} is not NAME=WIDTH (for example small=64,large=512).")
        out.append((name.strip(), int(width)))
    return tuple(out)


def _help(name: str) -> str:
    f = StudyConfig.__dataclass_fields__[name]
    return f.metadata["help"][:1].upper() + f.metadata["help"][1:] + "."


def _list(values: tuple[Any, ...]) -> str:
    return ",".join(f"{v:g}" if isinstance(v, float) else str(v) for v in values)


@click.command("study", epilog="\b\n" + EXAMPLE)
@click.option("--data", "data_dir", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Dataset folder (python -m train data ...).")
@click.option("--cache", "cache_dir", default="cache", show_default=True, type=click.Path(file_okay=False, path_type=Path),
              help="Embedding cache folder; missing texts are embedded first.")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Study folder: cells/, study.json, study.md, plots/.")
@click.option("--variants", default=_list(_DEFAULT.variants), show_default=True,
              help=f"{_help('variants')} " + "; ".join(f"{k}: {v.about}" for k, v in VARIANTS.items()))
@click.option("--betas", default=_list(_DEFAULT.betas), show_default=True, help=_help("betas"))
@click.option("--capacities", default=",".join(f"{k}={v}" for k, v in _DEFAULT.capacities),
              show_default=True, help=_help("capacities"))
@click.option("--seeds", default=_list(_DEFAULT.seeds), show_default=True, help=_help("seeds"))
@click.option("--latent-dim", type=click.IntRange(min=2), default=_DEFAULT.latent_dim, show_default=True,
              help=_help("latent_dim"))
@click.option("--n-flows", type=click.IntRange(min=0), default=_DEFAULT.n_flows, show_default=True,
              help=_help("n_flows"))
@click.option("--guide-weight", type=float, default=_DEFAULT.guide_weight, show_default=True,
              help=_help("guide_weight"))
@click.option("--epochs", type=float, default=_DEFAULT.epochs, show_default=True, help=_help("epochs"))
@click.option("--lr", type=float, default=_DEFAULT.lr, show_default=True, help=_help("lr"))
@click.option("--batch-size", type=click.IntRange(min=1), default=_DEFAULT.batch_size, show_default=True,
              help=_help("batch_size"))
@click.option("--train-rows", type=click.IntRange(min=0), default=_DEFAULT.train_rows, show_default=True,
              help=_help("train_rows"))
@click.option("--jobs", type=click.IntRange(min=1), default=1, show_default=True,
              help="Cells fitted at once in separate processes (2 on a 2-core machine; 1 under "
                   "accelerate launch).")
@click.option("--keep-weights", is_flag=True, help="Also save each cell's model.safetensors.")
@click.option("--title", default=None, help="Title of study.md. [default: 'Collapse study: <dataset>']")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@backbone_options
def study(data_dir: Path, cache_dir: Path, out: Path, variants: str, betas: str, capacities: str,
          seeds: str, jobs: int, keep_weights: bool, title: str | None, quiet: bool, backbone: str,
          quantize: str, max_length: int | None, device: str | None, **values: Any) -> None:
    """Run the VPL vs SPL collapse study: a grid of fits -> study.json, study.md, plots.

    The grid is variants x betas x capacities x seeds (BTL, having no KL, runs once per
    capacity and seed). Every cell trains on frozen cached embeddings; finished cells are not
    recomputed when the command is run again.
    """
    from accelerate import PartialState

    from spl_model import CheckpointError
    from train.data.schema import DatasetError
    from train.fit import prepare_data
    from train.resume import ResumeMismatch
    from train.study import StudyMismatch, run_study
    from train.study_report import write_study

    started = time.perf_counter()
    try:
        cfg = StudyConfig(variants=tuple(v.strip() for v in variants.split(",") if v.strip()),
                          betas=_floats(betas), capacities=_capacities(capacities), seeds=_ints(seeds),
                          **values)
        state = PartialState()
        if jobs > 1 and state.num_processes > 1:
            raise ValueError("--jobs > 1 cannot be combined with accelerate launch on several "
                             "processes: each cell is already spread over them; use --jobs 1.")
        load = functools.partial(prepare_data, data_dir, cache_dir, backbone, quantize, device, max_length)
        with state.main_process_first():  # the main process embeds what the cache lacks, once
            data = load()
        before = _finished_cells(out)
        reports = run_study(load, cfg, out, jobs=jobs, keep_weights=keep_weights, progress=not quiet,
                            data=data)
        fitted = len(_finished_cells(out) - before)
    except (ValueError, DatasetError, CheckpointError, ResumeMismatch, StudyMismatch, OSError) as err:
        raise click.ClickException(str(err)) from err
    if not state.is_main_process:
        return
    data_card = json.loads((data_dir / "dataset.json").read_text())
    command = ("python -m train " + shlex.join(sys.argv[1:]) if sys.argv[1:2] == ["study"]
               else "python -m train study ...")
    runs = _log_invocation(out, command, time.perf_counter() - started, fitted)
    meta = {"command": command, "dataset": data_card.get("name", data_dir.name), "backbone": backbone,
            "train_rows": cfg.train_rows or data_card.get("counts", {}).get("train"),
            "wall_minutes": sum(r["wall_seconds"] for r in runs) / 60, "invocations": runs,
            "processes": state.num_processes,  # --batch-size is per process under accelerate
            "title": title}
    summary = write_study(out, cfg, reports, meta)
    collapsed = [f"{r['variant']}/{r['capacity']}/beta={r['beta']:g}" for r in summary["rows"]
                 if r["collapsed"] and r["beta"] is not None]
    click.echo(f"Wrote {out / 'study.md'}, {out / 'study.json'} and {out / 'plots'}/ "
               f"({len(reports)} cells, {meta['wall_minutes']:.1f} min).")
    click.echo(f"Collapsed (AU share on z < {summary['collapse_share']:g}): "
               + (", ".join(collapsed) or "none"))


def _finished_cells(out: Path) -> set[str]:
    return {p.parent.name for p in (out / "cells").glob("*/cell.json")}


def _log_invocation(out: Path, command: str, seconds: float, fitted: int) -> list[dict[str, Any]]:
    """Append this run to ``invocations.json`` and return the runs that fitted cells.

    The study's wall time is the sum over those runs, so resuming after an interruption (or
    re-drawing the table, which fits nothing) does not hide or inflate the cost.
    """
    from train.report import write_json

    path = out / "invocations.json"
    runs = json.loads(path.read_text()) if path.exists() else []
    runs.append({"command": command, "finished": time.strftime("%Y-%m-%d %H:%M:%S"),
                 "wall_seconds": round(seconds, 1), "cells_fitted": fitted})
    write_json(path, runs)
    return [r for r in runs if r["cells_fitted"] > 0]
