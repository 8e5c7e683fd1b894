"""The collapse study: model variants x KL weights x decoder capacities x seeds -> one table.

The paper's diagnosis is that VPL's latent collapses (active units -> 0, z ignored) when the
decoder is strong and the KL weight beta is high enough, while SPL keeps its units active. The
study re-runs that diagnosis as a grid of short fits on frozen (cached) embeddings:

    cells = variants x betas x capacities x seeds        (BTL has no KL: one beta only)

Each cell is one :func:`train.fit.fit` into ``<out>/cells/<cell id>/`` (report, history and
latent map; weights only with ``keep_weights``). A cell whose ``report.json`` exists is not
recomputed, so an interrupted study picks up where it stopped; a finished cell written with
other settings is refused rather than silently mixed in. ``train.study_report`` turns the
cells into ``study.json``, ``study.md`` and plots.

Ablations are configuration flags on the one SPL implementation (``ModelConfig.guide``,
``split_context``, ``film``), never copies of the model.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from train.fit_config import FitConfig

if TYPE_CHECKING:
    from train.fit import PreparedData

__all__ = ["VARIANTS", "Cell", "StudyConfig", "StudyMismatch", "Variant", "cells_of",
           "run_study", "subsample_train"]


@dataclass(frozen=True)
class Variant:
    """A named model of the grid: a kind plus ModelConfig overrides (the ablation flags)."""

    name: str
    kind: str
    flags: tuple[tuple[str, Any], ...] = ()
    about: str = ""

    @property
    def has_kl(self) -> bool:
        return self.kind != "btl"


VARIANTS: dict[str, Variant] = {v.name: v for v in (
    Variant("btl", "btl", about="unified Bradley-Terry reward, no latent"),
    Variant("vpl", "vpl", about="VPL: Gaussian posterior, closed-form KL, concat decoder"),
    Variant("ivpl", "ivpl", about="IAF-VPL: VPL's posterior through affine IAF layers"),
    Variant("spl", "spl", about="SPL: P-IAF (shift <- c_d, scale <- c_s), guide loss, FiLM"),
    Variant("spl-noguide", "spl", (("guide", False),), "SPL without the swap-guided loss"),
    Variant("spl-nosplit", "spl", (("split_context", False),),
            "SPL with shift and scale both conditioned on the pooled context"),
    Variant("spl-nofilm", "spl", (("film", False),), "SPL with an MLP decoder on [x; z]"),
    # not in the default grid: do the flow models survive a high beta because of free nats?
    Variant("ivpl-nofreenats", "ivpl", (("free_nats", 0.0),), "IAF-VPL without free nats"),
    Variant("spl-nofreenats", "spl", (("free_nats", 0.0),), "SPL without free nats"),
)}
DEFAULT_VARIANTS = ("btl", "vpl", "ivpl", "spl", "spl-noguide", "spl-nosplit", "spl-nofilm")


@dataclass(frozen=True)
class StudyConfig:
    """The grid and the settings every cell shares (trl-style: one typed place for all of it)."""

    variants: tuple[str, ...] = field(
        default=DEFAULT_VARIANTS, metadata={"help": f"models of the grid, from {list(VARIANTS)}"})
    betas: tuple[float, ...] = field(
        default=(1e-3, 1e-2, 1e-1, 1.0), metadata={"help": "KL weights (BTL ignores them)"})
    capacities: tuple[tuple[str, int], ...] = field(
        default=(("small", 64), ("large", 256)),
        metadata={"help": "decoder capacities as name=hidden width (H of every MLP)"})
    seeds: tuple[int, ...] = field(default=(0, 1, 2), metadata={"help": "seeds per setting (>= 2 for intervals)"})
    latent_dim: int = field(default=16, metadata={"help": "Z: latent width of every latent model"})
    n_flows: int = field(default=2, metadata={"help": "K: flow layers of spl / ivpl"})
    guide_weight: float = field(default=1e-2, metadata={"help": "lambda of the guide loss (spl)"})
    epochs: float = field(default=4.0, metadata={"help": "passes over the training rows per cell"})
    lr: float = field(default=1e-3, metadata={"help": "AdamW learning rate"})
    batch_size: int = field(default=64, metadata={"help": "users per step"})
    train_rows: int = field(default=0, metadata={"help": "keep this many training rows (0 = all): data sparsity"})

    def __post_init__(self) -> None:
        unknown = [v for v in self.variants if v not in VARIANTS]
        if unknown:
            raise ValueError(f"unknown variants {unknown}; choose from {list(VARIANTS)}.")
        if not self.variants or not self.betas or not self.capacities or not self.seeds:
            raise ValueError("variants, betas, capacities and seeds each need at least one value.")
        if any(b < 0 for b in self.betas):
            raise ValueError(f"betas must be >= 0, got {list(self.betas)}.")
        if any(h < 1 for _, h in self.capacities):
            raise ValueError(f"capacity widths must be positive, got {dict(self.capacities)}.")
        for name in ("variants", "betas", "seeds"):
            values = getattr(self, name)
            if len(set(values)) != len(values):
                raise ValueError(f"{name} has repeated values: {list(values)}.")
        if len({n for n, _ in self.capacities}) != len(self.capacities):
            raise ValueError(f"capacity names repeat: {[n for n, _ in self.capacities]}.")
        if self.train_rows < 0:
            raise ValueError(f"train_rows={self.train_rows} must be >= 0.")

    def to_dict(self) -> dict[str, Any]:
        values = dataclasses.asdict(self)
        values["capacities"] = dict(self.capacities)
        return values


@dataclass(frozen=True)
class Cell:
    """One fit of the grid. ``beta`` is None for BTL (no KL term)."""

    variant: str
    beta: float | None
    capacity: str
    hidden_dim: int
    seed: int

    @property
    def id(self) -> str:
        beta = "none" if self.beta is None else f"{self.beta:g}"
        return f"{self.variant}__beta-{beta}__{self.capacity}__seed-{self.seed}"

    def model_overrides(self, cfg: StudyConfig) -> dict[str, Any]:
        """The ModelConfig fields this cell sets (everything else keeps its default)."""
        values: dict[str, Any] = {"hidden_dim": self.hidden_dim, "latent_dim": cfg.latent_dim,
                                  "n_flows": cfg.n_flows, "guide_weight": cfg.guide_weight,
                                  "flow_seed": self.seed}
        if self.beta is not None:
            values["beta"] = self.beta
        values.update(dict(VARIANTS[self.variant].flags))
        return values

    def fit_config(self, cfg: StudyConfig) -> FitConfig:
        # one evaluation at the end: the study reads the final report, not the training curves
        return FitConfig(epochs=cfg.epochs, lr=cfg.lr, batch_size=cfg.batch_size, seed=self.seed,
                         eval_every=10**9)


def cells_of(cfg: StudyConfig) -> list[Cell]:
    """Every cell of the grid, in a fixed order (cheap models first, seeds innermost)."""
    cells = []
    for name, hidden in cfg.capacities:
        for variant in cfg.variants:
            betas: tuple[float | None, ...] = cfg.betas if VARIANTS[variant].has_kl else (None,)
            for beta in betas:
                for seed in cfg.seeds:
                    cells.append(Cell(variant, beta, name, hidden, seed))
    return cells


class StudyMismatch(ValueError):
    """A finished cell in the study folder was trained with other settings."""


def subsample_train(data: PreparedData, rows: int) -> PreparedData:
    """Keep the first ``rows`` training rows (the builders shuffle rows, so this is a random subset)."""
    if rows <= 0 or rows >= len(data.splits["train"]):
        return data
    import torch

    splits = {**data.splits, "train": data.splits["train"].select(torch.arange(rows))}
    return dataclasses.replace(data, splits=splits)


def _cell_plan(cell: Cell, cfg: StudyConfig, data: PreparedData) -> tuple[Any, dict[str, Any]]:
    """The cell's ModelConfig and the settings a finished cell must have been trained with."""
    from train.fit import model_config

    model = model_config(VARIANTS[cell.variant].kind, data.embeddings.shape[1], data,
                         cell.model_overrides(cfg))
    expected = {"model": model.to_dict(), "fit": dataclasses.asdict(cell.fit_config(cfg)),
                "backbone": data.backbone, "train_rows": len(data.splits["train"])}
    return model, expected


def finished_report(folder: Path, expected: dict[str, Any]) -> dict[str, Any] | None:
    """The cell's report if it finished with the ``expected`` settings; None if not finished."""
    report_file, cell_file = folder / "report.json", folder / "cell.json"
    if not report_file.exists() or not cell_file.exists():
        return None
    try:
        stored = json.loads(cell_file.read_text())
        report = json.loads(report_file.read_text())
    except (OSError, json.JSONDecodeError):
        return None  # a torn write from an interrupted run: recompute the cell
    expected = json.loads(json.dumps(expected))  # compare as stored: tuples become lists
    if stored != expected:
        changed = sorted(k for k in expected if stored.get(k) != expected[k])
        raise StudyMismatch(
            f"{folder} finished with other settings ({', '.join(changed) or 'format'} differ). "
            "Use a new --out for the new settings, or delete that folder to recompute it."
        )
    return report


def run_cell(data: PreparedData, cell: Cell, cfg: StudyConfig, folder: Path,
             keep_weights: bool = False, progress: bool = False) -> dict[str, Any]:
    """Fit one cell into ``folder`` and return its report (main process; {} elsewhere)."""
    from train.fit import fit
    from train.report import write_json

    model, expected = _cell_plan(cell, cfg, data)
    done = finished_report(folder, expected)
    if done is not None:
        return done
    report = fit(data, folder, model, cell.fit_config(cfg), progress=progress,
                 save_weights=keep_weights, plots=False).report
    if report:
        write_json(folder / "cell.json", expected)  # written last: marks the cell finished
    return report


# --- parallel cells: each worker process loads the cached embeddings once --------------------
_WORKER: dict[str, Any] = {}


def _worker_init(load: Callable[[], PreparedData], threads: int) -> None:
    import torch

    torch.set_num_threads(threads)
    _WORKER["data"] = load()


def _worker_run(cell: Cell, cfg: StudyConfig, folder: Path, keep_weights: bool) -> dict[str, Any]:
    return run_cell(_WORKER["data"], cell, cfg, folder, keep_weights)


def run_study(
    load: Callable[[], PreparedData],
    cfg: StudyConfig,
    out: str | Path,
    jobs: int = 1,
    keep_weights: bool = False,
    progress: bool = True,
    data: PreparedData | None = None,
) -> dict[str, dict[str, Any]]:
    """Run every unfinished cell; return ``{cell id: report}`` for the whole grid.

    ``load`` returns the prepared (embedded) data; it is called once here and once in each of
    the ``jobs`` worker processes (a picklable function such as ``functools.partial``); pass
    ``data`` when it is already loaded to skip the first call. With
    ``jobs > 1`` each worker uses ``cpu_count // jobs`` threads: on small models two
    single-threaded fits beat one two-threaded fit.
    """
    from tqdm.auto import tqdm

    out = Path(out)
    data = subsample_train(load() if data is None else data, cfg.train_rows)
    cells = cells_of(cfg)
    reports: dict[str, dict[str, Any]] = {}
    todo = []
    for cell in cells:  # decided once, so every process of an accelerate launch agrees
        done = finished_report(out / "cells" / cell.id, _cell_plan(cell, cfg, data)[1])
        if done is None:
            todo.append(cell)
        else:
            reports[cell.id] = done
    bar = tqdm(total=len(cells), initial=len(cells) - len(todo), desc="study", unit="cell",
               disable=not progress)
    if jobs <= 1 or len(todo) <= 1:
        for cell in todo:
            bar.set_postfix_str(cell.id)
            reports[cell.id] = run_cell(data, cell, cfg, out / "cells" / cell.id, keep_weights)
            bar.update(1)
    else:
        import multiprocessing

        threads = max(1, (os.cpu_count() or 1) // jobs)
        loader = _SubsampledLoader(load, cfg.train_rows)
        with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"),
                                 initializer=_worker_init, initargs=(loader, threads)) as pool:
            futures = {pool.submit(_worker_run, cell, cfg, out / "cells" / cell.id, keep_weights): cell
                       for cell in todo}
            for future in as_completed(futures):
                cell = futures[future]
                reports[cell.id] = future.result()
                bar.set_postfix_str(cell.id)
                bar.update(1)
    bar.close()
    return {cell.id: reports[cell.id] for cell in cells}


@dataclass(frozen=True)
class _SubsampledLoader:
    """``load`` then :func:`subsample_train`, as a picklable callable for worker processes."""

    load: Callable[[], PreparedData]
    rows: int

    def __call__(self) -> PreparedData:
        return subsample_train(self.load(), self.rows)


def t_quantile(df: int) -> float:
    """Two-sided 95% Student-t quantile t_{0.975, df} (table to 30, then the normal 1.96)."""
    table = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
             2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
             2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042]
    if df < 1:
        return math.nan
    return table[df - 1] if df <= len(table) else 1.96


def interval(values: list[float], bounds: tuple[float, float] | None = None) -> dict[str, Any]:
    """Mean and 95% t-interval over seeds: ``{"mean", "low", "high", "n"}`` (None when empty).

    ``bounds`` clips the interval to the values the metric can take (a share cannot exceed 1).

    >>> interval([0.7, 0.8, 0.9])["low"] < 0.8 < interval([0.7, 0.8, 0.9])["high"]
    True
    >>> interval([0.5])["low"] is None  # one seed: a mean, no interval
    True
    >>> interval([0.0, 1.0], bounds=(0, 1))["high"]
    1
    """
    values = [v for v in values if v is not None and not math.isnan(v)]
    n = len(values)
    if n == 0:
        return {"mean": None, "low": None, "high": None, "n": 0}
    mean = sum(values) / n
    if n == 1:
        return {"mean": mean, "low": None, "high": None, "n": 1}
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    half = t_quantile(n - 1) * sd / math.sqrt(n)
    low, high = mean - half, mean + half
    if bounds is not None:
        low, high = max(low, bounds[0]), min(high, bounds[1])
    return {"mean": mean, "low": low, "high": high, "n": n}
