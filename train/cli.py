"""``python -m train``: a group of verbs, like sqlite-utils' CLI. Each lives in its own module."""

from __future__ import annotations

import click

from train.cli_data import data
from train.cli_embed import embed
from train.cli_fit import evaluate, fit
from train.cli_personalize import calibrate, personalize
from train.cli_study import study

__all__ = ["cli", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Train and evaluate personalized reward models (SPL, VPL, IAF-VPL, BTL).

    \b
    Example:
      python -m train data synthetic --out datasets/synthetic
      python -m train embed --data datasets/synthetic --cache cache
      python -m train fit --data datasets/synthetic --cache cache --model spl --out runs/spl
      python -m train study --data datasets/synthetic --cache cache --out runs/study --jobs 2
    """


cli.add_command(data)
cli.add_command(embed)
cli.add_command(fit)
cli.add_command(evaluate)
cli.add_command(study)
cli.add_command(personalize)
cli.add_command(calibrate)


def main() -> None:
    cli(prog_name="python -m train")
