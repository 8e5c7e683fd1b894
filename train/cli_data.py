"""`python -m train data ...`: build or import a dataset folder (see train/data/schema.py).

Flags are derived from the builders' config dataclasses, so each flag's help is written once,
on the config field. Everything heavy (tqdm, datasets, pyarrow) is imported inside commands.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any, Callable

import click

from train.data.importers import ImportConfig
from train.data.pets import PetsConfig
from train.data.schema import BuiltDataset, DatasetError
from train.data.synthetic import SyntheticConfig
from train.data.ufp import BINARIZED, FINE_GRAINED, UFPConfig

__all__ = ["data"]


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + ("." if text and not text.endswith(".") else "")


def config_options(cls: type, exclude: tuple[str, ...] = ("seed",)) -> Callable:
    """Add one ``--flag`` per field of a config dataclass, with the field's help and default."""
    def decorate(command: Callable) -> Callable:
        for f in reversed(dataclasses.fields(cls)):
            if f.name in exclude:
                continue
            flag, default = "--" + f.name.replace("_", "-"), f.default
            if isinstance(default, tuple):
                option = click.option(flag, f.name, default=",".join(default), show_default=True,
                                      help=_sentence(f.metadata.get("help", "")))
            else:
                option = click.option(flag, f.name, type=type(default), default=default,
                                      show_default=True, help=_sentence(f.metadata.get("help", "")))
            command = option(command)
        return command
    return decorate


def _to_config(cls: type, values: dict[str, Any]) -> Any:
    """Build a config from CLI values, turning comma-separated strings back into tuples."""
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.name in values:
            value = values[f.name]
            if isinstance(f.default, tuple):
                value = tuple(v.strip() for v in value.split(",") if v.strip())
            kwargs[f.name] = value
    return cls(**kwargs)


def common_options(command: Callable) -> Callable:
    """``--out``, ``--seed`` and ``--overwrite``, shared by every builder."""
    command = click.option("--overwrite", is_flag=True, help="Replace an existing dataset folder.")(command)
    command = click.option("--seed", type=int, default=0, show_default=True,
                           help="Random seed: the dataset is a function of it.")(command)
    return click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
                        help="Dataset folder to create.")(command)


def _write(built: BuiltDataset, out: Path, overwrite: bool, started: float) -> None:
    from train.data.schema import write_dataset

    write_dataset(out, built.card, built.splits, overwrite=overwrite)
    counts = ", ".join(f"{name} {len(rows)}" for name, rows in built.splits.items())
    click.echo(f"Wrote {out} ({counts}) in {time.perf_counter() - started:.1f}s")


def _fail(err: DatasetError) -> click.ClickException:
    return click.ClickException(str(err))


@click.group()
def data() -> None:
    """Build or import a preference dataset folder (train/test/survey JSONL + dataset.json).

    Example: python -m train data synthetic --out datasets/synthetic
    """


@data.command()
@common_options
@config_options(SyntheticConfig)
def synthetic(out: Path, seed: int, overwrite: bool, **values: Any) -> None:
    """Everyday advice whose best answer depends on the user (the demo's default dataset).

    Example: python -m train data synthetic --out datasets/synthetic --train-rows 8000
    """
    from train.data.synthetic import build_synthetic

    started = time.perf_counter()
    try:
        cfg = _to_config(SyntheticConfig, {**values, "seed": seed})
        _write(build_synthetic(cfg, progress=True), out, overwrite, started)
    except DatasetError as err:
        raise _fail(err) from None


@data.command()
@common_options
@config_options(PetsConfig)
def pets(out: Path, seed: int, overwrite: bool, **values: Any) -> None:
    """VPL's Pets: one prompt, four pools of one-sentence answers, two users.

    Example: python -m train data pets --out datasets/pets
    """
    from train.data.pets import build_pets

    started = time.perf_counter()
    try:
        _write(build_pets(_to_config(PetsConfig, {**values, "seed": seed})), out, overwrite, started)
    except DatasetError as err:
        raise _fail(err) from None


def _records(source: str, what: str) -> list:
    from tqdm import tqdm

    from train.data.importers import read_records

    click.echo(f"Reading {what} from {source}")
    return list(tqdm(read_records(source), desc=what, unit="row", leave=False))


@data.command("uf-p")
@common_options
@config_options(UFPConfig)
@click.option("--binarized", default=BINARIZED, show_default=True,
              help="Hub name or local file/folder (jsonl, json, parquet) of the binarized pairs.")
@click.option("--fine-grained", default=FINE_GRAINED, show_default=True,
              help="Hub name or local file/folder of openbmb/UltraFeedback (the four ratings).")
@click.option("--skip-bad", is_flag=True, help="Skip malformed rows and print how many.")
def uf_p(out: Path, seed: int, overwrite: bool, binarized: str, fine_grained: str,
         skip_bad: bool, **values: Any) -> None:
    """UF-P-2 / UF-P-4: UltraFeedback pairs relabeled by one rating per user type.

    Example: python -m train data uf-p --users 4 --out datasets/uf-p-4
    """
    from train.data.ufp import build_ufp

    started = time.perf_counter()
    try:
        cfg = _to_config(UFPConfig, {**values, "seed": seed})
        ratings = [row for _, row in _records(fine_grained, "fine-grained ratings")]
        result = build_ufp(_records(binarized, "binarized pairs"), ratings, cfg, skip_bad=skip_bad)
        if skip_bad:
            click.echo(f"Skipped {result.skipped} malformed rows")
        _write(result.dataset, out, overwrite, started)
    except DatasetError as err:
        raise _fail(err) from None


@data.command("import")
@common_options
@config_options(ImportConfig, exclude=("seed", "format"))
@click.option("--format", "fmt", type=click.Choice(["auto", "jsonl", "hh-relabeled", "study"]),
              default="auto", show_default=True, help="auto: detected from the first row; "
              "jsonl: rows with user, prompt, chosen, rejected; hh-relabeled: HH-RLHF dialogues "
              "with data_subset; study: the app's own export (labels.jsonl, labels.csv or "
              "trl.jsonl), one user per participant.")
@click.option("--skip-bad", is_flag=True, help="Skip malformed rows and print how many.")
@click.option("--exclude-flagged", is_flag=True,
              help="Study format: drop sessions the export flags (all skips, too fast, failed "
              "attention check).")
@click.argument("paths", nargs=-1, required=True)
def import_(out: Path, seed: int, overwrite: bool, fmt: str, skip_bad: bool,
            exclude_flagged: bool, paths: tuple[str, ...], **values: Any) -> None:
    """Import preference rows (a study export, generic JSONL or relabeled HH-RLHF).

    A study's export (python -m app.admin export) is read unchanged: each participant becomes
    a user, their own answers their context, a share of their answers their test rows.

    Example: python -m train data import study/labels.jsonl --out datasets/my-study
    """
    from train.data.importers import build_import, detect_format, parse_rows, read_records

    started = time.perf_counter()
    try:
        if fmt in ("auto", "study"):  # a folder the admin export wrote: its labels.jsonl only
            paths = tuple(str(Path(p) / "labels.jsonl") if (Path(p) / "labels.jsonl").is_file()
                          else p for p in paths)
        records = [record for path in paths for record in read_records(path)]
        if fmt == "auto":
            fmt = detect_format(records)
            click.echo(f"Detected format: {fmt}")
        cfg = _to_config(ImportConfig, {**values, "seed": seed, "format": fmt})
        if fmt == "study":
            from train.data.study_import import build_study, parse_study

            answers, skipped = parse_study(records, skip_bad=skip_bad)
            built = build_study(answers, cfg, source=", ".join(paths),
                                exclude_flagged=exclude_flagged)
            counts = built.card["import_counts"]
            click.echo(
                f"{counts['participants']} participants, {counts['ab_answers_used']} A/B answers "
                f"used; dropped: {counts['skips']} skips, {counts['ties']} ties, "
                f"{counts['attention_repeats']} attention-check repeats (agree "
                f"{counts['attention_agree']}, disagree {counts['attention_disagree']}, "
                f"unjudged {counts['attention_unjudged']}), {counts['repeated_answers']} repeated "
                f"answers, {counts['participants_too_few_answers']} participants with fewer than "
                f"2 A/B answers, {counts['answers_in_flagged_sessions_dropped']} answers in "
                f"{counts['flagged_sessions_dropped']} flagged sessions")
        else:
            tally: dict[str, int] = {}
            rows, skipped = parse_rows(records, fmt, skip_bad=skip_bad, counts=tally)  # type: ignore[arg-type]
            if tally.get("empty_final_turn"):
                click.echo(f"Skipped {tally['empty_final_turn']} rows whose final Assistant turn "
                           "is empty (no response to prefer)")
            built = build_import(rows, cfg, source=", ".join(paths))
            built.card["import_counts"] = {"rows": len(rows), **tally}
        if skip_bad:
            click.echo(f"Skipped {skipped} malformed rows")
        _write(built, out, overwrite, started)
    except DatasetError as err:
        raise _fail(err) from None
