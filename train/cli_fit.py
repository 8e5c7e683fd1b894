"""``python -m train fit`` and ``python -m train eval``.

Flags are derived from :class:`spl_model.ModelConfig` and :class:`train.fit.FitConfig`, so the
help text is written once, on the config fields. Heavy imports happen inside the commands.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path
from typing import Any

import click

from spl_model.config import MODEL_KINDS, ModelConfig
from train.cli_data import config_options
from train.cli_embed import backbone_options
from train.fit_config import MODEL_FIELDS, MODEL_FIXED, FitConfig

__all__ = ["evaluate", "fit"]

KINDS = list(MODEL_KINDS)
FIT_EXAMPLE = ("Example: python -m train fit --data datasets/synthetic --cache cache --model spl "
               "--latent-dim 32 --hidden-dim 256 --out runs/spl")
EVAL_EXAMPLE = "Example: python -m train eval --run runs/spl --data datasets/synthetic --cache cache"


def _pick(cls: type, values: dict[str, Any], names: tuple[str, ...] | None = None) -> dict[str, Any]:
    fields = {f.name for f in dataclasses.fields(cls)}
    return {k: v for k, v in values.items() if k in fields and (names is None or k in names)}


@click.command("fit", epilog="\b\n" + FIT_EXAMPLE)
@click.option("--data", "data_dir", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Dataset folder (python -m train data ...).")
@click.option("--cache", "cache_dir", default="cache", show_default=True, type=click.Path(file_okay=False, path_type=Path),
              help="Embedding cache folder; missing texts are embedded first.")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Run folder to write.")
@click.option("--model", "kind", type=click.Choice(KINDS), default="spl", show_default=True,
              help="; ".join(f"{kind} ({info.label}): {info.about}" for kind, info in MODEL_KINDS.items()))
@click.option("--overwrite", is_flag=True, help="Replace a finished or interrupted run in --out.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@backbone_options
@config_options(ModelConfig, exclude=MODEL_FIXED)
@config_options(FitConfig, exclude=())
def fit(data_dir: Path, cache_dir: Path, out: Path, kind: str, overwrite: bool, quiet: bool,
        backbone: str, quantize: str, max_length: int | None, device: str | None, **values: Any) -> None:
    """Train one model and write its run folder (weights, config, report, plots).

    Interrupted runs resume from where they stopped when re-run with the same flags.
    Runs with `accelerate launch -m train fit ...` on several processes or GPUs.
    """
    from spl_model import CheckpointError
    from train.data.schema import DatasetError
    from train.fit import fit as run_fit
    from train.fit import model_config, prepare_data
    from train.resume import ResumeMismatch

    if (out / "report.json").exists() and not overwrite:
        raise click.ClickException(f"{out} already holds a finished run; pass --overwrite to replace it.")
    if overwrite and out.exists():
        shutil.rmtree(out)
    try:
        fit_cfg = FitConfig(**_pick(FitConfig, values))
        data = prepare_data(data_dir, cache_dir, backbone, quantize, device, max_length)
        model_cfg = model_config(kind, data.embeddings.shape[1], data, _pick(ModelConfig, values, MODEL_FIELDS))
        tuned = None
        if fit_cfg.lora_r > 0:
            from spl_model.backbones import load_backbone

            tuned = load_backbone(backbone, device=device, quantize=quantize, max_length=max_length)  # type: ignore[arg-type]
            tuned.add_lora(fit_cfg.lora_r, fit_cfg.lora_alpha, fit_cfg.lora_dropout)
        report = run_fit(data, out, model_cfg, fit_cfg, progress=not quiet, tuned_backbone=tuned).report
    except (ValueError, DatasetError, CheckpointError, ResumeMismatch, OSError) as err:
        raise click.ClickException(str(err)) from err
    if report:
        keys = ["model", "accuracy", "accuracy_train", "accuracy_controversial", "accuracy_unseen",
                "active_units_share", "kl", "swap_flip_rate", "train_seconds"]
        click.echo(json.dumps({k: report.get(k) for k in keys}, indent=2))
        _echo_fewshot(report)
        warning = report.get("learned_nothing")
        if warning:
            click.echo(learned_nothing_message(warning, out))


def learned_nothing_message(warning: dict[str, Any], out: Path) -> str:
    """The plain warning ``fit`` prints when a split's accuracy is within noise of 0.5."""
    splits = "; ".join(
        f"{name} accuracy {v['accuracy']:.3f} on {v['pairs']} pairs (95% interval "
        f"{v['interval_95'][0]:.3f}-{v['interval_95'][1]:.3f} holds 0.5)"
        for name, v in warning["splits"].items())
    tries = "\n".join(f"  - {t}" for t in warning["try"])
    return (f"WARNING: this model learned nothing measurable: {splits}. {warning['why']}\n"
            f"What to try:\n{tries}\n(also in {out / 'report.json'}, key learned_nothing)")


@click.command("eval", epilog="\b\n" + EVAL_EXAMPLE)
@click.option("--run", "run_dir", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Run folder written by fit.")
@click.option("--data", "data_dir", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Dataset folder to evaluate on.")
@click.option("--cache", "cache_dir", default="cache", show_default=True, type=click.Path(file_okay=False, path_type=Path),
              help="Embedding cache folder (must use the run's backbone).")
@click.option("--device", type=click.Choice(["cpu", "cuda"]), default=None, help="Where the backbone runs.")
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the metrics here (JSON). [default: RUN/eval-<dataset>.json]")
def evaluate(run_dir: Path, data_dir: Path, cache_dir: Path, device: str | None, out_file: Path | None) -> None:
    """Evaluate a trained run on a dataset and write the metrics as JSON."""
    from spl_model import CheckpointError
    from train.data.schema import DatasetError
    from train.fit import prepare_data
    from train.report import evaluate_run, write_json
    from train.runs import load_run

    try:
        run = load_run(run_dir, device=device)
        spec = run.backbone_spec
        data = prepare_data(data_dir, cache_dir, spec.name, spec.quantize, device, spec.max_length,
                            spec.truncate)
        if data.embeddings.shape[1] != run.model.cfg.embed_dim:
            raise ValueError(
                f"the run expects {run.model.cfg.embed_dim}-dim embeddings but the cache gives "
                f"{data.embeddings.shape[1]}: evaluate with the run's backbone ({spec.name})."
            )
        fields, _ = evaluate_run(run.model, data, run.tuned_backbone)
    except (ValueError, DatasetError, CheckpointError, OSError) as err:
        raise click.ClickException(str(err)) from err
    fields["dataset"] = data.dataset.card.get("name")
    target = out_file or run_dir / f"eval-{fields['dataset']}.json"
    write_json(target, fields)
    click.echo(json.dumps({k: fields[k] for k in ("accuracy", "accuracy_controversial", "accuracy_unseen",
                                                  "active_units_share", "swap_flip_rate")}, indent=2))
    _echo_fewshot(fields)
    click.echo(f"Wrote {target}")


def _echo_fewshot(fields: dict[str, Any]) -> None:
    """One line per group: accuracy after k answers (population worlds only)."""
    few = fields.get("fewshot")
    if not few:
        return
    for order in ("random", "active"):
        for group, values in few[order].items():
            pairs = ", ".join(f"k={k}: {v:.3f}" for k, v in zip(few["k"], values))
            click.echo(f"few-shot {group} ({order} order): {pairs}")
