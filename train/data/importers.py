"""Importing preference data from outside: generic rows and relabeled HH-RLHF.

Formats:

- ``jsonl`` (generic): rows with ``user``, ``prompt``, ``chosen``, ``rejected`` (non-empty,
  chosen != rejected) and optionally ``user_type`` (defaults to ``user``) and
  ``controversial`` (bool).
- ``hh-relabeled`` (DPL/VPL): rows with ``chosen`` and ``rejected`` full dialogues of
  "\\n\\nHuman: ..." / "\\n\\nAssistant: ..." turns and the user type in ``data_subset``
  (e.g. ``helpful`` / ``harmless``). The prompt is the shared dialogue up to and including
  the final "Assistant:" marker (earlier turns kept); the responses are what follows it. A row
  whose final Assistant turn is empty on either side cannot be a preference: it is skipped and
  counted (``empty_final_turn``) without ``--skip-bad``.
- ``study``: the app's own export (``python -m app.admin export``, JSONL or CSV, or the TRL
  rows), read unchanged by ``train.data.study_import``. ``detect_format`` recognises it.

What the importer does with them: train/test is split by prompt (``test_fraction``). Each
user's survey pool is up to 16 of that user's own train pairs (shown in random a/b order),
and a context is 2..8 of them with the side the user chose. With generic data nothing
else is known about a user, so "the context identifies the user" means exactly this: every
context pair was answered by that user. ``controversial`` is taken from the row when given,
otherwise it is true when the same prompt and response pair was labeled both ways by
different user types.

Reading sources (the only I/O here): ``read_records`` takes a JSONL, JSON, CSV or Parquet file, a
folder of them, or a Hugging Face dataset name (loaded with ``datasets.load_dataset``).
"""

from __future__ import annotations

import dataclasses
import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Literal, Mapping

from train.data.contexts import Choice, ContextSpec, draw_context
from train.data.schema import BuiltDataset, DatasetError, arg, check_shares

__all__ = [
    "FORMATS", "EmptyFinalTurn", "ImportConfig", "ImportResult", "build_import", "detect_format",
    "hh_to_row", "parse_rows", "read_records", "split_dialogue",
]

Format = Literal["jsonl", "hh-relabeled", "study"]
FORMATS = ("jsonl", "hh-relabeled", "study")
_ASSISTANT = "\n\nAssistant:"
_HUMAN = "\n\nHuman:"


@dataclass(frozen=True)
class ImportConfig:
    """Arguments of the importer (also the CLI flags and the card's builder_args)."""

    format: str = arg("jsonl", "input format: jsonl (generic rows), hh-relabeled or study")
    name: str = arg("imported", "dataset name written into the card")
    test_fraction: float = arg(0.1, "share of prompts held out for test (study: share of each "
                               "participant's answers)")
    pool_size: int = arg(16, "survey pairs per user, taken from the user's own train pairs")
    min_context: int = arg(2, "fewest survey answers in a context")
    max_context: int = arg(8, "most survey answers in a context")
    seed: int = arg(0, "random seed for the split, the pools and the contexts")

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise DatasetError(f"format must be one of {', '.join(FORMATS)}, got {self.format!r}")
        check_shares(self, open_=("test_fraction",))
        ContextSpec(self.min_context, self.max_context)


class EmptyFinalTurn(DatasetError):
    """An HH row whose final Assistant turn is empty: not a preference, skipped and counted."""


@dataclass(frozen=True)
class ImportResult:
    """The built dataset and how many input rows were skipped as malformed."""

    dataset: BuiltDataset
    skipped: int


def split_dialogue(text: str) -> tuple[str, str]:
    """Split an HH dialogue into (prompt up to the final "Assistant:", final response)."""
    cut = text.rfind(_ASSISTANT)
    if cut < 0:
        raise DatasetError("dialogue has no Assistant turn")
    if _HUMAN not in text[:cut] and not text.lstrip().startswith("Human:"):
        raise DatasetError("dialogue has no Human turn before the final Assistant turn")
    prompt, response = text[: cut + len(_ASSISTANT)].strip(), text[cut + len(_ASSISTANT):].strip()
    if not response:
        raise EmptyFinalTurn("the final Assistant turn is empty")
    return prompt, response


def hh_to_row(row: Any) -> dict[str, Any]:
    """One relabeled HH row as a generic row, or ``DatasetError(reason)``."""
    if not isinstance(row, Mapping):
        raise DatasetError("expected a JSON object")
    for column in ("chosen", "rejected", "data_subset"):
        if not isinstance(row.get(column), str) or not row[column].strip():
            raise DatasetError(f"column {column!r} is missing or empty")
    prompt, chosen = split_dialogue(row["chosen"])
    other, rejected = split_dialogue(row["rejected"])
    if prompt != other:
        raise DatasetError("chosen and rejected do not share the dialogue before the final Assistant turn")
    if chosen == rejected:
        raise DatasetError("chosen and rejected are the same text")
    out = {"user": row["data_subset"], "user_type": row["data_subset"], "prompt": prompt,
           "chosen": chosen, "rejected": rejected}
    if isinstance(row.get("controversial"), bool):
        out["controversial"] = row["controversial"]
    return out


def _generic_row(row: Any) -> dict[str, Any]:
    if not isinstance(row, Mapping):
        raise DatasetError("expected a JSON object")
    for column in ("user", "prompt", "chosen", "rejected"):
        value = row.get(column)
        if value is None:
            raise DatasetError(f"missing column {column!r}")
        if not isinstance(value, str):
            raise DatasetError(f"column {column!r} must be str, got {type(value).__name__}")
        if not value.strip():
            raise DatasetError(f"column {column!r} is empty")
    if row["chosen"] == row["rejected"]:
        raise DatasetError("chosen and rejected are the same text")
    if "controversial" in row and not isinstance(row["controversial"], bool):
        raise DatasetError("column 'controversial' must be bool")
    out = {k: row[k] for k in ("user", "prompt", "chosen", "rejected")}
    out["user_type"] = row.get("user_type") if isinstance(row.get("user_type"), str) else row["user"]
    if "controversial" in row:
        out["controversial"] = row["controversial"]
    return out


def parse_rows(
    records: Iterable[tuple[str, Any]], fmt: Format, *, skip_bad: bool = False,
    counts: dict[str, int] | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """Convert ``(where, raw row)`` records to generic rows; ``where`` is e.g. "file:LINE".

    A bad row raises ``DatasetError("where: reason")``, or with ``skip_bad`` is counted. HH rows
    with an empty final Assistant turn are always skipped, and counted in
    ``counts["empty_final_turn"]`` (not in the returned ``skipped``). The ``study`` format is
    read by ``parse_study`` instead.
    """
    if fmt == "study":
        raise DatasetError("the study format is read by parse_study, not parse_rows")
    convert = hh_to_row if fmt == "hh-relabeled" else _generic_row
    rows, skipped = [], 0
    for where, raw in records:
        try:
            if isinstance(raw, DatasetError):
                raise raw
            rows.append(convert(raw))
        except EmptyFinalTurn:
            if counts is not None:
                counts["empty_final_turn"] = counts.get("empty_final_turn", 0) + 1
        except DatasetError as err:
            if not skip_bad:
                raise DatasetError(f"{where}: {err}") from None
            skipped += 1
    return rows, skipped


def _controversial(rows: list[dict[str, Any]]) -> None:
    """Fill ``controversial`` where absent: the pair was labeled both ways by different types."""
    winners: dict[tuple[str, frozenset[str]], set[str]] = {}
    for row in rows:
        key = (row["prompt"], frozenset((row["chosen"], row["rejected"])))
        winners.setdefault(key, set()).add(row["chosen"])
    for row in rows:
        if "controversial" not in row:
            row["controversial"] = len(winners[(row["prompt"], frozenset((row["chosen"], row["rejected"])))]) > 1


def build_import(rows: list[dict[str, Any]], cfg: ImportConfig, *, source: str = "") -> BuiltDataset:
    """Build a dataset from generic rows (see ``parse_rows``); pure, seeded by ``cfg.seed``."""
    if not rows:
        raise DatasetError("no rows to import")
    rng = random.Random(cfg.seed)
    rows = [{**r, "user_type": r.get("user_type") or r["user"]} for r in rows]
    _controversial(rows)
    prompts = sorted({r["prompt"] for r in rows})
    rng.shuffle(prompts)
    test_prompts = set(prompts[: max(1, round(cfg.test_fraction * len(prompts)))])
    train = [r for r in rows if r["prompt"] not in test_prompts]
    test = [r for r in rows if r["prompt"] in test_prompts]
    survey, pools, own = [], {}, {}
    for user in sorted({r["user"] for r in train}):
        mine = [r for r in train if r["user"] == user]
        pools[user], own[user] = [], {}
        for r in rng.sample(mine, min(cfg.pool_size, len(mine))):
            sid = f"s{len(survey):05d}"
            side: Choice = "a" if rng.random() < 0.5 else "b"
            a, b = (r["chosen"], r["rejected"]) if side == "a" else (r["rejected"], r["chosen"])
            survey.append({"id": sid, "prompt": r["prompt"], "a": a, "b": b, "user_type": r["user_type"]})
            pools[user].append(sid)
            own[user][sid] = side
    orphans = sorted({r["user"] for r in test} - set(pools))
    if orphans:
        raise DatasetError(
            f"{len(orphans)} users have test rows but no train rows, so no context "
            f"(e.g. {orphans[:3]}); give each user rows on several prompts or lower --test-fraction"
        )
    spec = ContextSpec(cfg.min_context, cfg.max_context)
    for split in (train, test):
        for r in split:
            r["context"] = draw_context(pools[r["user"]], own[r["user"]], rng, spec)
        rng.shuffle(split)
    card = {
        "name": cfg.name,
        "source": source or cfg.format,
        "user_types": sorted({r["user_type"] for r in rows}),
        "attributes": None,
        "counts": {},
        "seed": cfg.seed,
        "context_sizes": spec.sizes(),
        "builder_args": dataclasses.asdict(cfg),
        "notes": (
            f"Imported ({cfg.format}); split by prompt; each user's survey pool is up to "
            f"{cfg.pool_size} of its own train pairs, so a context identifies its user by "
            "construction."
        ),
    }
    return BuiltDataset(card, {"train": train, "test": test, "survey": survey})


def detect_format(records: list[tuple[str, Any]]) -> str:
    """The format of the first row: ``study`` (the app's label or TRL export), ``hh-relabeled``
    (``data_subset`` and HH dialogues) or ``jsonl`` (anything else, checked row by row)."""
    from train.data.study_import import is_study_row

    first = next((row for _, row in records if not isinstance(row, DatasetError)), None)
    if is_study_row(first):
        return "study"
    if isinstance(first, Mapping) and "data_subset" in first and "user" not in first \
            and _ASSISTANT in str(first.get("chosen", "")):
        return "hh-relabeled"
    return "jsonl"


def _read_file(path: Path) -> list[tuple[str, Any]]:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        import csv

        with path.open(encoding="utf-8-sig", newline="") as handle:  # the app's CSV has a BOM
            return [(f"{path}:{i}", {k: (v if v != "" else None) for k, v in row.items()})
                    for i, row in enumerate(csv.DictReader(handle), start=2)]
    if suffix == ".jsonl":
        records = []
        with path.open(encoding="utf-8") as handle:
            for line_no, line in enumerate(handle, start=1):
                if line.strip():
                    try:
                        records.append((f"{path}:{line_no}", json.loads(line)))
                    except json.JSONDecodeError as err:
                        # Kept in place so the converter reports it with its line (or skips it).
                        records.append((f"{path}:{line_no}", DatasetError(f"invalid JSON ({err.msg})")))
        return records
    if suffix == ".json":
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, list):
            raise DatasetError(f"{path}: expected a JSON list of rows")
        return [(f"{path}:{i}", row) for i, row in enumerate(data, start=1)]
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        return [(f"{path}:{i}", row) for i, row in enumerate(pq.read_table(path).to_pylist(), start=1)]
    raise DatasetError(f"{path}: unsupported file type {suffix!r}; use .jsonl, .json, .csv or .parquet")


def read_records(source: str | Path, *, split: str = "train") -> list[tuple[str, Any]]:
    """Read ``(where, row)`` records from a local file/folder or a Hub dataset name.

    ``where`` is "file:LINE" (or "file:ROW" for JSON/Parquet; CSV: the record, header = 1). An unparsable JSONL line is
    returned as a ``DatasetError`` in place of its row, for the converter to report or skip.
    """
    path = Path(source)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix.lower() in (".jsonl", ".json", ".parquet"))
        if not files:
            raise DatasetError(f"{path}: no .jsonl, .json or .parquet files inside")
        return [record for f in files for record in _read_file(f)]
    if path.is_file():
        return _read_file(path)
    if path.suffix or str(source).startswith((".", "/")) or str(source).count("/") != 1:
        raise DatasetError(f"{source}: no such file or folder (and not a Hub dataset name)")
    import datasets

    table = datasets.load_dataset(str(source), split=split)
    return [(f"{source}:{i}", row) for i, row in enumerate(table, start=1)]

