"""Find and load the run folders the demo serves (SPL, VPL, BTL) and describe them for the UI.

A run folder (written by the trainer) holds ``model.safetensors`` + ``config.json`` (read with
``spl_model``), ``report.json``, ``plots/*.png`` and, for latent models, ``latent_map.json``
(``{"method": "pca", "mean": [Z], "components": [[Z], [Z]], "points": [{x, y, user_type}]}``).

``SPL_RUNS`` points the app elsewhere: run folders separated by ``os.pathsep``, or one folder
that contains ``spl/``, ``vpl/`` and ``btl/`` (the default is ``assets/runs``).
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spl_model.config import MODEL_KINDS

__all__ = ["DEFAULT_RUNS", "RunError", "RunInfo", "app_version", "find_run_folders", "load_run",
           "model_card"]

DEFAULT_RUNS = Path(__file__).resolve().parent.parent / "assets" / "runs"
KNOWN = tuple(kind for kind in MODEL_KINDS if kind != "oracle")  # what a runs folder may hold
REPORT_METRICS = ("accuracy", "accuracy_train", "accuracy_controversial", "accuracy_unseen", "kl",
                  "swap_flip_rate", "n_eval_pairs", "train_seconds", "seed")
"""The report keys the model card lists as they are; latent models add ``_latent_rows``."""


class RunError(RuntimeError):
    """The run folders are missing or inconsistent (the message says how to fix it)."""


@dataclass
class RunInfo:
    """One loaded run: the model (eval mode, shared read-only) and what the UI shows of it."""

    name: str
    folder: Path
    model: Any  # spl_model.RewardModel
    config: dict[str, Any]
    report: dict[str, Any] | None = None
    latent_map: dict[str, Any] | None = None
    plots: list[Path] = field(default_factory=list)
    calibrator: Any = None  # spl_model.calibration.Calibrator from calibration.json, if any

    @property
    def kind(self) -> str:
        return self.model.cfg.kind

    @property
    def has_latent(self) -> bool:
        return bool(self.model.cfg.has_latent)

    @property
    def version(self) -> str | None:
        """The sha256 of the weights (``config.json``'s ``weights.sha256``), or None."""
        weights = self.config.get("weights")
        sha = weights.get("sha256") if isinstance(weights, dict) else None
        return str(sha) if sha else None

    @property
    def backbone(self) -> dict[str, Any]:
        backbone = self.config.get("backbone") or {}
        return backbone if isinstance(backbone, dict) else {"name": str(backbone)}


@functools.lru_cache(maxsize=1)
def app_version() -> str:
    """The serving app's code version: ``SPL_APP_VERSION`` if set, else the git commit of this
    checkout (a Space's repository is one), else "unknown". Read once per process."""
    given = os.environ.get("SPL_APP_VERSION", "").strip()
    if given:
        return given[:128]
    import subprocess

    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                                cwd=Path(__file__).resolve().parent, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return commit or "unknown"


def find_run_folders(spec: str | None = None) -> list[Path]:
    """The run folders named by ``spec`` (``SPL_RUNS``), or the shipped ``assets/runs``."""
    if spec:
        parts = [Path(p).expanduser() for p in spec.split(os.pathsep) if p.strip()]
    else:
        parts = [DEFAULT_RUNS]
    folders: list[Path] = []
    for part in parts:
        if (part / "config.json").is_file():
            folders.append(part)
            continue
        inner = [part / name for name in KNOWN if (part / name / "config.json").is_file()]
        if not inner:
            raise RunError(
                f"No trained runs were found at {part}. Train them with `make train-demo`, or "
                "set SPL_RUNS to run folders (separated by ':') or to a folder containing "
                "spl/, vpl/ and btl/.")
        folders.extend(inner)
    return folders


def _json_or_none(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise RunError(f"{path} is not valid JSON ({err}); regenerate it with the trainer.") from err
    return value if isinstance(value, dict) else None


def _check_latent_map(latent_map: dict[str, Any] | None, z_dim: int, path: Path) -> None:
    if latent_map is None:
        return
    mean, comps = latent_map.get("mean"), latent_map.get("components")
    if (not isinstance(mean, list) or len(mean) != z_dim or not isinstance(comps, list)
            or len(comps) != 2 or any(len(c) != z_dim for c in comps)):
        raise RunError(f"{path}: expected 'mean' of length {z_dim} and two 'components' of "
                       f"length {z_dim} (the model's latent width); regenerate the latent map.")


def load_run(folder: Path, name: str | None = None) -> RunInfo:
    """Load one run folder (``spl_model.checkpoint.load_run_files``: model in eval mode, config,
    report) with its latent map, plots and calibrator; the model's parameters are frozen."""
    from spl_model.checkpoint import load_run_files

    model, config, report = load_run_files(folder)
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    latent_map = _json_or_none(folder / "latent_map.json") if model.cfg.has_latent else None
    _check_latent_map(latent_map, model.cfg.z_dim, folder / "latent_map.json")
    kind = str(config.get("model_kind") or model.cfg.kind)
    return RunInfo(name=name or kind, folder=folder, model=model, config=config,
                   report=report, latent_map=latent_map,
                   plots=sorted((folder / "plots").glob("*.png")),
                   calibrator=_calibrator(folder) if model.cfg.has_latent else None)


def _calibrator(folder: Path) -> Any:
    """The run's confidence calibrator (``calibration.json``), or None; a broken file is an error."""
    from spl_model.calibration import Calibrator

    values = _json_or_none(folder / "calibration.json")
    if values is None:
        return None
    try:
        return Calibrator.from_dict(values)
    except ValueError as err:
        raise RunError(f"{folder / 'calibration.json'}: {err}; rerun python -m train calibrate.") from err


def _fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _names(types: list[Any], most: int = 8) -> str:
    """The user types, or the first ``most`` and how many more (a study has one per participant)."""
    names = [str(t) for t in types]
    if not names:
        return "n/a"
    more = f" and {len(names) - most} more" if len(names) > most else ""
    return ", ".join(names[:most]) + more


def model_card(run: RunInfo, oracle: Mapping[str, Any] | None = None) -> str:
    """A short Markdown description of a run and its training report."""
    cfg, report = run.model.cfg, run.report or {}
    dataset = run.config.get("dataset") or {}
    info = MODEL_KINDS.get(cfg.kind)
    what = f"{info.label}: {info.about}" if info else cfg.kind
    lines = [f"### {run.name.upper()}", what + ".", "",
             f"- backbone: `{run.backbone.get('name') or run.backbone.get('backbone', '?')}` "
             f"(quantize: {run.backbone.get('quantize', 'none')}), embedding width {cfg.embed_dim}",
             f"- trained on: {dataset.get('name', 'unknown')} "
             f"(user types: {_names(dataset.get('user_types') or [])})",
             f"- latent width: {cfg.z_dim}, hidden width: {cfg.hidden_dim}",
             f"- reward: {_reward_form(cfg)}"]
    if not report:
        lines.append("- no training report (report.json) in this run folder")
        return "\n".join(lines)
    lines.append("")
    lines.append("| metric | value |")
    lines.append("|---|---|")
    for key in REPORT_METRICS:
        if key in report:
            lines.append(f"| {key} | {_fmt(report[key])} |")
    if run.has_latent:
        lines.extend(_latent_rows(report, cfg.z_dim))
    if oracle and oracle.get("accuracy") is not None:
        lines.append(f"| oracle accuracy (upper bound) | {_fmt(oracle['accuracy'])} |")
    warning = report.get("learned_nothing")
    if isinstance(warning, dict):
        splits = ", ".join(f"{name} {_fmt(v.get('accuracy'))} on {v.get('pairs')} pairs"
                           for name, v in (warning.get("splits") or {}).items())
        lines += ["", f"**Learned nothing measurable** ({splits}: within noise of 0.5). "
                  f"{warning.get('why', '')}"]
    return "\n".join(lines)


def _reward_form(cfg: Any) -> str:
    """How the run's decoder reads a response, in words (``ModelConfig.linear_reward``,
    ``latent_head``, ``film``)."""
    film = cfg.kind == "spl" and cfg.film
    form = ("linear in the response embedding" if cfg.linear_reward
            else "an MLP of the response embedding")
    if film and cfg.has_latent:
        form += ", modulated by z (FiLM)"
    elif cfg.has_latent and not cfg.linear_reward:
        form += " and z"
    if cfg.latent_head and cfg.has_latent:
        form += ", plus a personal term z . (U x)"
    return form


def _latent_rows(report: Mapping[str, Any], z_dim: int) -> list[str]:
    """Active units and the collapse verdict, each row saying which vector it counts.

    The verdict is ``spl_model.latent_collapsed`` (the trainer's report and study use the same
    function), read on z; the paper's count comes last and names its vector, because on SPL's
    last flow shift m_K it can read 0 while z is in use.
    """
    from spl_model.metrics import COLLAPSE_SHARE, latent_collapsed

    rows = []
    active_z, share = report.get("active_units_z"), report.get("active_units_z_share")
    if active_z is not None:
        rows.append(f"| active units of z (the latent the reward reads) | {active_z} of {z_dim} |")
    verdict = latent_collapsed(report)
    if verdict is None:
        text = "unknown (this report does not measure z)"
    else:
        varying = f"{share:.0%} of the units of z vary across users"
        text = (f"**yes**: {varying} (under {COLLAPSE_SHARE:.0%})" if verdict
                else f"no: {varying} (collapsed means under {COLLAPSE_SHARE:.0%})")
    rows.append(f"| latent collapsed | {text} |")
    if report.get("active_units") is not None:
        vector = report.get("au_vector") or "paper's vector"
        caveat = "; can read 0 on SPL while z is in use" if "m_K" in vector else ""
        rows.append(f"| active units of the {vector} (the paper's count{caveat}) | "
                    f"{report['active_units']} of {z_dim} |")
    return rows
