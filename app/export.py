"""Exports of the live labels for the study owner (JSONL, CSV, TRL rows) and the admin check.

Every export holds LIVE labels only (undone ones stay in the database for the audit trail)
in a stable order: by session start, then position in the session. JSONL and CSV keep ties
and skips; TRL rows keep only A/B answers. Sessions appear under a pseudonymous `session`
key (a hash of the session id), never the session id itself, which is a bearer token.

What a study owner needs to defend the data rides on every label row: the participant's
consent time (`consented_at`), the session's start, finish time and completion code, which
model chose an active query (`model_version`: sha256 of the SPL weights; None for the fixed
order) and which app served it (`app_version`), and the session's quality flags
(`session_flags`, see `session_quality`). The Rank tab's rankings are a separate export
(`rankings.jsonl`, `rankings_rows`). `python -m train data import` reads `labels.jsonl`,
`labels.csv` and `trl.jsonl` unchanged.

Quality flags of a session (`session_quality`; thresholds from `Settings`):
    `no_answers`: finished without a single label; `all_skips`: every answer a skip;
    `too_fast`: the median time per answer is under `fast_seconds` (SPL_FAST_SECONDS, 2 s);
    `failed_attention`: an attention check failed (a tie on either showing fails it: a tie
    is not agreement); `too_few_answers`: fewer real answers (A, B, tie; attention repeats
    and skips not counted) than `min_answers` (SPL_MIN_ANSWERS).

Column contract of a TRL row (positional convention: `chosen` is the preferred text):
    prompt, chosen, rejected, user_id (the participant id), context (the same participant's
    OTHER A/B pairs as a list of {prompt, chosen, rejected}). Attention-check repeats
    (`<pair_id>#repeat`) are left out of TRL rows and contexts: they duplicate a pair.

Example:
    >>> import pathlib, tempfile
    >>> from app.store import Store
    >>> store = Store.open(pathlib.Path(tempfile.mkdtemp()) / "spl.db")
    >>> sid = store.new_session("PID1")
    >>> _ = store.add_label(sid, "p1", prompt="Hi", response_a="Hello", response_b="Yo",
    ...                     choice="B", shown_order="AB")
    >>> [(r["chosen"], r["rejected"], r["context"]) for r in trl_rows(store)]
    [('Yo', 'Hello', [])]
    >>> check_admin_token("s3cret", "s3cret"), check_admin_token("s3cret", "")
    (True, False)
    >>> store.close()
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import os
import statistics
from pathlib import Path
from typing import Any, Literal

from app.store import REPEAT_SUFFIX, LabelRecord, SessionRecord, Store
from spl_model.atomic import atomic_write

__all__ = ["COLUMNS", "FAST_SECONDS", "QUALITY_FLAGS", "ExportKind", "check_admin_token",
           "export_csv", "export_jsonl", "export_rankings_jsonl", "export_text", "export_trl_jsonl",
           "label_rows", "rankings_rows", "session_quality", "trl_rows", "write_export"]

ExportKind = Literal["jsonl", "csv", "trl", "rankings"]
COLUMNS: tuple[str, ...] = (
    "participant_id", "study_id", "session", "external_session_id", "mode", "pair_id",
    "position", "prompt", "response_a", "response_b", "shown_order", "choice", "chosen",
    "rejected", "seconds", "created_at", "query_order", "model_version", "app_version",
    "consented_at", "session_started_at", "finished_at", "completion_code", "session_flags")
QUALITY_FLAGS = ("no_answers", "all_skips", "too_fast", "failed_attention", "too_few_answers")
FAST_SECONDS = 2.0  # a median answer faster than this cannot have read two responses
_FILENAMES: dict[str, str] = {"jsonl": "labels.jsonl", "csv": "labels.csv", "trl": "trl.jsonl",
                              "rankings": "rankings.jsonl"}


def _session_key(session_id: str) -> str:
    """A stable pseudonym for a session: 16 hex digits of sha256 of its id."""
    return hashlib.sha256(session_id.encode()).hexdigest()[:16]


def session_quality(store: Store, *, fast_seconds: float = FAST_SECONDS,
                    min_answers: int = 0) -> list[dict[str, Any]]:
    """One summary per session, by session start: `session` (pseudonym), `participant_id`,
    `status`, `consented_at`, `started_at`, `finished_at`, `completion_code`, the counts
    `n_answers` (A/B), `n_ties`, `n_skips`, `n_attention_repeats`, `median_seconds`,
    `attention` (True passed, False failed, None not judged) and `flags` (a list drawn from
    `QUALITY_FLAGS`, see the module docstring). Skips and ties are never counted as answers."""
    labels: dict[str, list[LabelRecord]] = {}
    for session, label in store.all_labels(live_only=True):
        labels.setdefault(session.session_id, []).append(label)
    attention = store.attention_agreement().per_session
    out = []
    for row in store.sessions_overview():
        sid = row["session_id"]
        mine = labels.get(sid, [])
        real = [x for x in mine if not x.pair_id.endswith(REPEAT_SUFFIX)]
        n_ab = sum(x.choice in ("A", "B") for x in real)
        n_tie = sum(x.choice == "tie" for x in real)
        n_skip = sum(x.choice == "skip" for x in mine)
        times = [x.seconds for x in mine if x.seconds is not None]
        median = statistics.median(times) if times else None
        flags = []
        if not mine and row["status"] == "finished":
            flags.append("no_answers")
        if mine and n_skip == len(mine):
            flags.append("all_skips")
        if median is not None and median < fast_seconds:
            flags.append("too_fast")
        if attention.get(sid) is False:
            flags.append("failed_attention")
        if min_answers > 0 and n_ab + n_tie < min_answers:
            flags.append("too_few_answers")
        out.append({"session": _session_key(sid), "participant_id": row["participant_id"],
                    "study_id": row["study_id"], "mode": row["mode"], "status": row["status"],
                    "consented_at": row["consented_at"], "started_at": row["created_at"],
                    "finished_at": row["finished_at"],
                    "completion_code": row["completion_code"], "n_answers": n_ab,
                    "n_ties": n_tie, "n_skips": n_skip,
                    "n_attention_repeats": len(mine) - len(real),
                    "median_seconds": None if median is None else round(median, 3),
                    "attention": attention.get(sid), "flags": flags})
    return out


def _row(session: SessionRecord, label: LabelRecord, quality: dict[str, Any]) -> dict[str, Any]:
    return {"participant_id": session.participant_id, "study_id": session.study_id,
            "session": _session_key(session.session_id),
            "external_session_id": session.external_session_id, "mode": session.mode,
            "pair_id": label.pair_id, "position": label.position, "prompt": label.prompt,
            "response_a": label.response_a, "response_b": label.response_b,
            "shown_order": label.shown_order, "choice": label.choice, "chosen": label.chosen,
            "rejected": label.rejected, "seconds": label.seconds,
            "created_at": label.created_at, "query_order": label.query_order,
            "model_version": label.model_version, "app_version": label.app_version,
            "consented_at": quality.get("consented_at"),
            "session_started_at": session.created_at, "finished_at": session.finished_at,
            "completion_code": session.completion_code,
            "session_flags": list(quality.get("flags", []))}


def label_rows(store: Store, *, fast_seconds: float = FAST_SECONDS,
               min_answers: int = 0) -> list[dict[str, Any]]:
    """One dict per live label, keys in `COLUMNS` order (`chosen`/`rejected` are None for a
    tie or a skip; `session_flags` is a list of `QUALITY_FLAGS`)."""
    quality = {q["session"]: q for q in session_quality(store, fast_seconds=fast_seconds,
                                                         min_answers=min_answers)}
    return [_row(session, label, quality.get(_session_key(session.session_id), {}))
            for session, label in store.all_labels(live_only=True)]


def export_jsonl(store: Store, **quality: Any) -> str:
    """All live labels as JSON Lines (UTF-8 text, not ASCII-escaped)."""
    return "".join(json.dumps(row, ensure_ascii=False) + "\n"
                   for row in label_rows(store, **quality))


def rankings_rows(store: Store) -> list[dict[str, Any]]:
    """The Rank tab's rankings: `participant_id`, `study_id`, `session` (pseudonym), `prompt`,
    `candidates`, `results` (per model, `[{response, score}]` best first), `created_at`."""
    return [{"participant_id": r["participant_id"], "study_id": r["study_id"],
             "session": _session_key(r["session_id"]), "prompt": r["prompt"],
             "candidates": r["candidates"], "results": r["results"],
             "created_at": r["created_at"]} for r in store.all_rankings()]


def export_rankings_jsonl(store: Store) -> str:
    """`rankings_rows` as JSON Lines."""
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rankings_rows(store))


def export_csv(store: Store, **quality: Any) -> str:
    """All live labels as CSV with a header row. Fields with commas, quotes or newlines are
    quoted by the csv module, so any text round-trips through `csv.DictReader` (read it with
    `newline=""`). Empty cells stand for None. Cells are NOT defused against spreadsheet
    formulas (that would change the text); the texts come from the demo's pair pack."""
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
    writer.writeheader()
    writer.writerows({**row, "session_flags": ";".join(row["session_flags"])}
                     for row in label_rows(store, **quality))
    return buffer.getvalue()


def trl_rows(store: Store) -> list[dict[str, Any]]:
    """TRL-style preference rows (see the module docstring for the column contract)."""
    by_user: dict[str, list[LabelRecord]] = {}
    for session, label in store.all_labels(live_only=True):
        if label.choice in ("A", "B") and not label.pair_id.endswith(REPEAT_SUFFIX):
            by_user.setdefault(session.participant_id, []).append(label)
    rows = []
    for user_id, labels in by_user.items():
        for label in labels:
            context = [{"prompt": other.prompt, "chosen": other.chosen,
                        "rejected": other.rejected}
                       for other in labels if other.pair_id != label.pair_id]
            rows.append({"prompt": label.prompt, "chosen": label.chosen,
                         "rejected": label.rejected, "user_id": user_id, "context": context})
    return rows


def export_trl_jsonl(store: Store) -> str:
    """`trl_rows` as JSON Lines, ready for `datasets.load_dataset("json", ...)`."""
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in trl_rows(store))


def export_text(store: Store, kind: ExportKind, **quality: Any) -> str:
    """One export as text: `jsonl`, `csv` (label rows; `quality`: `fast_seconds`,
    `min_answers` for the flags), `trl` or `rankings`."""
    if kind not in _FILENAMES:
        raise ValueError(f"The export kind must be one of jsonl, csv, trl, rankings; got "
                         f"{kind!r}.")
    if kind == "jsonl":
        return export_jsonl(store, **quality)
    if kind == "csv":
        return export_csv(store, **quality)
    return export_trl_jsonl(store) if kind == "trl" else export_rankings_jsonl(store)


def write_export(store: Store, kind: ExportKind, directory: str | os.PathLike[str],
                 **quality: Any) -> Path:
    """Write one export into `directory` (labels.jsonl, labels.csv, trl.jsonl or
    rankings.jsonl) through a temporary file and a rename, and return its path, e.g. for a
    Gradio download button. The CSV file starts with a UTF-8 BOM so spreadsheet programs read
    emoji and RTL text."""
    text = export_text(store, kind, **quality)
    dest = Path(directory) / _FILENAMES[kind]
    dest.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write(dest, text.encode("utf-8-sig" if kind == "csv" else "utf-8"))


def check_admin_token(given: str | None, expected: str | None) -> bool:
    """True only when `expected` (e.g. `SPL_ADMIN_TOKEN`) is set and non-empty and `given`
    equals it; compared in constant time with `hmac.compare_digest` on UTF-8 bytes."""
    if not expected or not isinstance(given, str) or not isinstance(expected, str):
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))
