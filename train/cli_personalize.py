"""``python -m train personalize``: few-shot curves beside the Bayes ceiling and a low-rank baseline."""

from __future__ import annotations

import json
from pathlib import Path

import click

__all__ = ["calibrate", "personalize"]

EXAMPLE = ("Example: python -m train personalize --data datasets/population --cache cache "
           "--run spl=runs/pop/spl --run vpl=runs/pop/vpl --run btl=runs/pop/btl "
           "--run oracle=runs/pop/oracle --out docs/results/personalize")


@click.command("personalize", epilog="\b\n" + EXAMPLE)
@click.option("--data", "data_dir", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="A population-world dataset folder (python -m train data synthetic --world population).")
@click.option("--cache", "cache_dir", default="cache", show_default=True,
              type=click.Path(file_okay=False, path_type=Path), help="Embedding cache folder.")
@click.option("--run", "runs", multiple=True, metavar="NAME=FOLDER",
              help="A trained run to measure, under a name (repeat: spl=..., vpl=..., btl=..., oracle=...).")
@click.option("--calibration", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="A calibration.json of the SPL run (python -m train calibrate) to include.")
@click.option("--refine", multiple=True, metavar="NAME",
              help="Also measure run NAME with its latent refined on the answers (spl_model.refine), "
                   "as NAME+refine (repeat).")
@click.option("--points", default=40_000, show_default=True, type=click.IntRange(1000),
              help="Prior draws for the Monte Carlo Bayes ceiling.")
@click.option("--out", required=True, type=click.Path(path_type=Path),
              help="Output stem: writes OUT.json, OUT.md and OUT.png.")
def personalize(data_dir: Path, cache_dir: Path, runs: tuple[str, ...], calibration: Path | None,
                refine: tuple[str, ...], points: int, out: Path) -> None:
    """Accuracy after k = 0..12 answers for every run, the Bayes ceiling and the low-rank baseline."""
    from spl_model import CheckpointError
    from train.data.schema import DatasetError
    from train.fit import prepare_data
    from train.personalize import load_runs, personalize as measure, recipe_differences, write_outputs

    try:
        models = load_runs(runs)
        data = prepare_data(data_dir, cache_dir)
        calib = json.loads(calibration.read_text()) if calibration else None
        report = measure(data, models, calib, n_points=points, refine=refine)
        report["recipes"] = recipe_differences(
            {name: _settings(Path(folder)) for name, _, folder in (spec.partition("=") for spec in runs)})
    except (ValueError, DatasetError, CheckpointError, OSError) as err:
        raise click.ClickException(str(err)) from err
    write_outputs(report, out)
    click.echo(json.dumps({"k": report["k"], "accuracy": report["accuracy"],
                           "personas_k2": report["personas_k2"],
                           "labels_saved_active": report.get("labels_saved_active")}, indent=1))
    click.echo(f"Wrote {out.with_suffix('.json')}, {out.with_suffix('.md')}, {out.with_suffix('.png')}")


def _settings(run_dir: Path) -> dict:
    """A run's model and fit settings with every default filled in (a run written before a
    setting existed trained with its default)."""
    import dataclasses

    from spl_model import ModelConfig
    from train.fit_config import FitConfig

    config = json.loads((run_dir / "config.json").read_text())
    return {"model": ModelConfig.from_dict(config["model"]).to_dict(),
            "fit": dataclasses.asdict(FitConfig(**config.get("fit", {})))}


@click.command("calibrate", epilog="\b\nExample: python -m train calibrate --run runs/pop/spl "
               "--data datasets/population --cache cache")
@click.option("--run", "run_dir", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Run folder of a latent model; calibration.json is written into it.")
@click.option("--data", "data_dir", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="The population-world dataset the run was trained on.")
@click.option("--cache", "cache_dir", default="cache", show_default=True,
              type=click.Path(file_okay=False, path_type=Path), help="Embedding cache folder.")
def calibrate(run_dir: Path, data_dir: Path, cache_dir: Path) -> None:
    """Fit the app's confidence on simulated train users; measure it on held-out users."""
    from spl_model import CheckpointError
    from train import calibration
    from train.data.schema import DatasetError
    from train.fit import prepare_data
    from train.personalize import load_runs, world_of

    try:
        model = load_runs([f"run={run_dir}"])["run"]
        if not model.cfg.has_latent:
            raise ValueError(f"{run_dir} holds a {model.cfg.kind} model: it has no posterior to calibrate.")
        data = prepare_data(data_dir, cache_dir)
        world_of(data.dataset.card)
        calib, report = calibration.measure(model, data)
    except (ValueError, DatasetError, CheckpointError, OSError) as err:
        raise click.ClickException(str(err)) from err
    calibration.write(run_dir, calib, report)
    click.echo(json.dumps({k: report[k] for k in ("ece", "ece_uncalibrated_stability", "by_k")}, indent=1))
    click.echo(f"Wrote {run_dir / calibration.FILE}")
