"""The dataset folder: its column contract, validation on load, and atomic writing.

A dataset is a folder::

    dataset.json       the card (see below)
    train.jsonl        preference rows used for training
    test.jsonl         held-out rows of the same user types (disjoint prompts where the builder can)
    survey.jsonl       the survey pairs that contexts point to
    test_unseen.jsonl  optional: held-out rows of users never seen in training

Card (``dataset.json``): ``name``, ``source``, ``user_types`` (list of str), ``attributes``
(list of str, or null when the data has none), ``counts`` (rows per file), ``seed``,
``context_sizes`` ([min, max]), ``builder_args`` (every argument the builder used) and ``notes``.

Survey row (``survey.jsonl``): ``id`` (str, unique), ``prompt``, ``a``, ``b`` (str), and
optionally ``attributes_a`` / ``attributes_b`` (list of float, in the card's attribute order)
and ``user_type`` (the pool the pair belongs to).

Preference row (``train.jsonl``, ``test.jsonl``, ``test_unseen.jsonl``):

- ``user`` (str): the user id, or the user type where users are types;
- ``prompt``, ``chosen``, ``rejected`` (str): chosen first, then rejected; the two differ;
- ``controversial`` (bool): the discrete user types disagree on this pair, so a model that
  ignores the user cannot get it right for everyone;
- ``context`` (list of ``{"id": survey id, "chosen": "a" | "b"}``): the survey pairs this user
  answered and the side they chose; every id exists in ``survey.jsonl``;
- optional ``user_type`` (str or null: null for continuous unseen users), ``user_weights``
  (list of float over the card's attributes: the oracle's weights, one-hot for a discrete type),
  ``attributes_chosen`` / ``attributes_rejected`` (list of float).

Every text is non-empty. A violation names the file, the line and the column.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

__all__ = [
    "CARD_KEYS",
    "BuiltDataset",
    "Dataset",
    "DatasetError",
    "PREFERENCE_COLUMNS",
    "SPLIT_FILES",
    "SURVEY_COLUMNS",
    "ReadResult",
    "arg",
    "check_shares",
    "load_dataset",
    "read_jsonl",
    "validate_preference_row",
    "validate_survey_row",
    "write_dataset",
    "write_jsonl",
]


class DatasetError(ValueError):
    """A dataset file or builder input breaks the column contract."""


# Column name -> required Python type. ``str`` columns must also be non-empty.
PREFERENCE_COLUMNS: dict[str, type] = {
    "user": str,
    "prompt": str,
    "chosen": str,
    "rejected": str,
    "controversial": bool,
    "context": list,
}
SURVEY_COLUMNS: dict[str, type] = {"id": str, "prompt": str, "a": str, "b": str}
CARD_KEYS = (
    "name", "source", "user_types", "attributes", "counts", "seed", "context_sizes",
    "builder_args", "notes",
)
SPLIT_FILES = ("train", "test", "survey", "test_unseen")
_OPTIONAL_LISTS = ("user_weights", "attributes_chosen", "attributes_rejected")


def arg(default: Any, help: str) -> Any:
    """A builder-config field whose help text is written once and reused by the CLI flag."""
    return field(default=default, metadata={"help": help})


def check_shares(cfg: Any, closed: tuple[str, ...] = (), open_: tuple[str, ...] = ()) -> None:
    """The builders' one check of their share options (``test_fraction``, ``noise``, ...).

    Each name in ``closed`` must lie in [0, 1], each in ``open_`` in (0, 1) (a test split that
    is empty or takes everything); the error names the option, its bounds and the value.

    >>> from types import SimpleNamespace
    >>> check_shares(SimpleNamespace(test_fraction=1.0), open_=("test_fraction",))
    Traceback (most recent call last):
    ...
    train.data.schema.DatasetError: test_fraction must be in (0, 1), got 1.0
    """
    for name in closed:
        if not 0.0 <= getattr(cfg, name) <= 1.0:
            raise DatasetError(f"{name} must be in [0, 1], got {getattr(cfg, name)}")
    for name in open_:
        if not 0.0 < getattr(cfg, name) < 1.0:
            raise DatasetError(f"{name} must be in (0, 1), got {getattr(cfg, name)}")


@dataclass(frozen=True)
class BuiltDataset:
    """What every builder returns: the card and the rows of each split, ready to write."""

    card: dict[str, Any]
    splits: dict[str, list[dict[str, Any]]]


@dataclass(frozen=True)
class ReadResult:
    """Rows read from a JSONL file and how many bad lines were skipped (``skip_bad``)."""

    rows: list[dict[str, Any]]
    skipped: int = 0
    first_error: str | None = None


def _check_columns(row: Any, required: Mapping[str, type]) -> None:
    """Raise ``DatasetError(reason)`` when ``row`` lacks a column or has a wrong type."""
    if not isinstance(row, dict):
        raise DatasetError(f"expected a JSON object, got {type(row).__name__}")
    for name, kind in required.items():
        if name not in row:
            raise DatasetError(f"missing column {name!r}")
        value = row[name]
        # bool is an int subclass and int is not a float: be exact about both.
        ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
        if kind is float:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not ok:
            raise DatasetError(
                f"column {name!r} must be {kind.__name__}, got {type(value).__name__}"
            )
        if kind is str and not value.strip():
            raise DatasetError(f"column {name!r} is empty")


def _check_float_list(row: Mapping[str, Any], name: str) -> None:
    value = row.get(name)
    if value is None:
        return
    if not isinstance(value, list) or not all(
        isinstance(x, (int, float)) and not isinstance(x, bool) for x in value
    ):
        raise DatasetError(f"column {name!r} must be a list of numbers")


def validate_preference_row(row: Any) -> None:
    """Check one preference row against the contract; raise ``DatasetError(reason)``."""
    _check_columns(row, PREFERENCE_COLUMNS)
    if row["chosen"] == row["rejected"]:
        raise DatasetError("chosen and rejected are the same text")
    for item in row["context"]:
        if not (isinstance(item, dict) and isinstance(item.get("id"), str)
                and item.get("chosen") in ("a", "b")):
            raise DatasetError(
                f'context item must be {{"id": str, "chosen": "a"|"b"}}, got {item!r}'
            )
    user_type = row.get("user_type")
    if user_type is not None and not isinstance(user_type, str):
        raise DatasetError(f"column 'user_type' must be str or null, got {type(user_type).__name__}")
    for name in _OPTIONAL_LISTS:
        _check_float_list(row, name)


def validate_survey_row(row: Any) -> None:
    """Check one survey row against the contract; raise ``DatasetError(reason)``."""
    _check_columns(row, SURVEY_COLUMNS)
    if row["a"] == row["b"]:
        raise DatasetError("a and b are the same text")
    for name in ("attributes_a", "attributes_b"):
        _check_float_list(row, name)


def read_jsonl(
    path: str | os.PathLike[str],
    required: Mapping[str, type] | None = None,
    *,
    skip_bad: bool = False,
    validate: Any = None,
) -> ReadResult:
    """Read a JSONL file, checking each line.

    ``required`` maps column names to types; ``validate`` is an extra per-row check that raises
    ``DatasetError(reason)``. A bad line raises ``DatasetError("path:LINE: reason")``, or with
    ``skip_bad`` is skipped and counted (the first error is kept so the caller can show it).
    Blank lines are ignored.
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{path}: no such file")
    rows: list[dict[str, Any]] = []
    skipped, first_error = 0, None
    with path.open("rb") as handle:  # decoded per line, so bad bytes name their line
        for line_no, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                try:
                    row = json.loads(raw.decode("utf-8"))
                except UnicodeDecodeError as err:
                    raise DatasetError(f"not UTF-8 text (byte {err.start + 1} of the line); "
                                       "re-save the file as UTF-8") from None
                except json.JSONDecodeError as err:
                    raise DatasetError(f"invalid JSON ({err.msg})") from None
                if required:
                    _check_columns(row, required)
                if validate is not None:
                    validate(row)
            except DatasetError as err:
                message = f"{path}:{line_no}: {err}"
                if not skip_bad:
                    raise DatasetError(message) from None
                skipped += 1
                first_error = first_error or message
                continue
            rows.append(row)
    return ReadResult(rows, skipped, first_error)


@dataclass(frozen=True)
class Dataset:
    """A loaded, validated dataset folder (see the module docstring for the columns)."""

    folder: Path
    card: dict[str, Any]
    train: list[dict[str, Any]]
    test: list[dict[str, Any]]
    survey: dict[str, dict[str, Any]]
    test_unseen: list[dict[str, Any]] = field(default_factory=list)

    def splits(self) -> dict[str, list[dict[str, Any]]]:
        """The preference splits by name (``test_unseen`` only when present)."""
        out = {"train": self.train, "test": self.test}
        if self.test_unseen:
            out["test_unseen"] = self.test_unseen
        return out


def _load_card(folder: Path) -> dict[str, Any]:
    path = folder / "dataset.json"
    if not path.is_file():
        raise DatasetError(
            f"{folder}: not a dataset folder (no dataset.json); build one with `python -m train data`"
        )
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise DatasetError(f"{path}: invalid JSON ({err.msg})") from None
    missing = [key for key in CARD_KEYS if key not in card]
    if missing:
        raise DatasetError(f"{path}: missing card keys {missing}")
    return card


def load_dataset(folder: str | os.PathLike[str]) -> Dataset:
    """Load and validate a dataset folder: every row, and every context id against the survey."""
    folder = Path(folder)
    card = _load_card(folder)
    survey_rows = read_jsonl(folder / "survey.jsonl", validate=validate_survey_row).rows
    survey: dict[str, dict[str, Any]] = {}
    for line_no, row in enumerate(survey_rows, start=1):
        if row["id"] in survey:
            raise DatasetError(f"{folder / 'survey.jsonl'}: duplicate survey id {row['id']!r}")
        survey[row["id"]] = row
    splits: dict[str, list[dict[str, Any]]] = {}
    for name in ("train", "test", "test_unseen"):
        path = folder / f"{name}.jsonl"
        if name == "test_unseen" and not path.exists():
            splits[name] = []
            continue
        rows = read_jsonl(path, validate=validate_preference_row).rows
        for line_no, row in enumerate(rows, start=1):
            for item in row["context"]:
                if item["id"] not in survey:
                    raise DatasetError(
                        f"{path}: row {line_no}: context id {item['id']!r} is not in survey.jsonl"
                    )
        splits[name] = rows
    return Dataset(folder, card, splits["train"], splits["test"], survey, splits["test_unseen"])


def write_jsonl(path: Path, rows: Iterable[Mapping[str, Any]]) -> int:
    """Write rows as JSON lines (UTF-8, no ASCII escaping); return how many were written."""
    count = 0
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    return count


def write_dataset(
    folder: str | os.PathLike[str],
    card: Mapping[str, Any],
    splits: Mapping[str, list[dict[str, Any]]],
    overwrite: bool = False,
) -> Path:
    """Validate and write a dataset folder atomically; return its path.

    ``splits`` holds ``train``, ``test``, ``survey`` and optionally ``test_unseen``. Files are
    written into a temporary folder next to ``folder`` and renamed into place, so a crash never
    leaves a half-written dataset. ``card["counts"]`` is filled in from the rows.
    """
    folder = Path(folder)
    missing = [key for key in CARD_KEYS if key not in card and key != "counts"]
    if missing:
        raise DatasetError(f"card is missing keys {missing}")
    for name in ("train", "test", "survey"):
        if name not in splits:
            raise DatasetError(f"split {name!r} is missing")
    unknown = set(splits) - set(SPLIT_FILES)
    if unknown:
        raise DatasetError(f"unknown splits {sorted(unknown)}; expected some of {SPLIT_FILES}")
    if folder.exists() and not overwrite:
        raise DatasetError(f"{folder} already exists; pass --overwrite (overwrite=True) to replace it")
    survey_ids = {row["id"] for row in splits["survey"]}
    for name, rows in splits.items():
        check = validate_survey_row if name == "survey" else validate_preference_row
        for index, row in enumerate(rows, start=1):
            try:
                check(row)
                for item in row.get("context", []) if name != "survey" else []:
                    if item["id"] not in survey_ids:
                        raise DatasetError(f"context id {item['id']!r} is not in the survey")
            except DatasetError as err:
                raise DatasetError(f"{name} row {index}: {err}") from None
    card = dict(card)
    card["counts"] = {name: len(rows) for name, rows in splits.items()}
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.tmp-", dir=folder.parent))
    try:
        tmp.chmod(0o755)  # mkdtemp makes it private; a dataset folder is meant to be shared
        for name, rows in splits.items():
            write_jsonl(tmp / f"{name}.jsonl", rows)
        (tmp / "dataset.json").write_text(
            json.dumps(card, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        if folder.exists():
            old = folder.with_name(f".{folder.name}.old-{os.getpid()}")
            folder.rename(old)
            tmp.rename(folder)
            shutil.rmtree(old)
        else:
            tmp.rename(folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder
