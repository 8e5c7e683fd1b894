"""Exports of the live labels for the study owner (JSONL, CSV, TRL rows) and the admin check.

Every export holds LIVE labels only (undone ones stay in the database for the audit trail)
in a stable order: by session start, then position in the session. JSONL and CSV keep ties
and skips; TRL rows keep only A/B answers. Sessions appear under a pseudonymous `session`
key (a hash of the session id), never the session id itself, which is a bearer token.

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
import secrets
from pathlib import Path
from typing import Any, Literal

from app.store import REPEAT_SUFFIX, LabelRecord, SessionRecord, Store

__all__ = ["COLUMNS", "ExportKind", "check_admin_token", "export_csv", "export_jsonl",
           "export_trl_jsonl", "label_rows", "trl_rows", "write_export"]

ExportKind = Literal["jsonl", "csv", "trl"]
COLUMNS: tuple[str, ...] = (
    "participant_id", "study_id", "session", "external_session_id", "mode", "pair_id",
    "position", "prompt", "response_a", "response_b", "shown_order", "choice", "chosen",
    "rejected", "seconds", "created_at", "query_order")
_FILENAMES: dict[str, str] = {"jsonl": "labels.jsonl", "csv": "labels.csv", "trl": "trl.jsonl"}


def _session_key(session_id: str) -> str:
    """A stable pseudonym for a session: 16 hex digits of sha256 of its id."""
    return hashlib.sha256(session_id.encode()).hexdigest()[:16]


def _row(session: SessionRecord, label: LabelRecord) -> dict[str, Any]:
    return {"participant_id": session.participant_id, "study_id": session.study_id,
            "session": _session_key(session.session_id),
            "external_session_id": session.external_session_id, "mode": session.mode,
            "pair_id": label.pair_id, "position": label.position, "prompt": label.prompt,
            "response_a": label.response_a, "response_b": label.response_b,
            "shown_order": label.shown_order, "choice": label.choice, "chosen": label.chosen,
            "rejected": label.rejected, "seconds": label.seconds,
            "created_at": label.created_at, "query_order": label.query_order}


def label_rows(store: Store) -> list[dict[str, Any]]:
    """One dict per live label, keys in `COLUMNS` order (`chosen`/`rejected` are None for a
    tie or a skip)."""
    return [_row(session, label) for session, label in store.all_labels(live_only=True)]


def export_jsonl(store: Store) -> str:
    """All live labels as JSON Lines (UTF-8 text, not ASCII-escaped)."""
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in label_rows(store))


def export_csv(store: Store) -> str:
    """All live labels as CSV with a header row. Fields with commas, quotes or newlines are
    quoted by the csv module, so any text round-trips through `csv.DictReader` (read it with
    `newline=""`). Empty cells stand for None. Cells are NOT defused against spreadsheet
    formulas (that would change the text); the texts come from the demo's pair pack."""
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
    writer.writeheader()
    writer.writerows(label_rows(store))
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


def write_export(store: Store, kind: ExportKind, directory: str | os.PathLike[str]) -> Path:
    """Write one export into `directory` (labels.jsonl, labels.csv or trl.jsonl) through a
    temporary file and a rename, and return its path, e.g. for a Gradio download button.
    The CSV file starts with a UTF-8 BOM so spreadsheet programs read emoji and RTL text."""
    if kind not in _FILENAMES:
        raise ValueError(f"The export kind must be one of jsonl, csv, trl; got {kind!r}.")
    text = {"jsonl": export_jsonl, "csv": export_csv, "trl": export_trl_jsonl}[kind](store)
    dest = Path(directory) / _FILENAMES[kind]
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{secrets.token_hex(4)}.tmp")
    tmp.write_bytes(text.encode("utf-8-sig" if kind == "csv" else "utf-8"))
    os.replace(tmp, dest)
    return dest


def check_admin_token(given: str | None, expected: str | None) -> bool:
    """True only when `expected` (e.g. `SPL_ADMIN_TOKEN`) is set and non-empty and `given`
    equals it; compared in constant time with `hmac.compare_digest` on UTF-8 bytes."""
    if not expected or not isinstance(given, str) or not isinstance(expected, str):
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))
