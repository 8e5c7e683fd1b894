"""Tests for app.export: JSONL/CSV round trips with hostile text, TRL rows, the admin check."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from app.export import (
    COLUMNS, check_admin_token, export_csv, export_jsonl, export_trl_jsonl, label_rows,
    trl_rows, write_export,
)
from app.store import Store

NASTY = [
    "👍🏽 family: 👨‍👩‍👧‍👦 flags 🇸🇦🇮🇱",
    "مرحبا بالعالم، كيف حالك؟",
    "שלום עולם, \"מה נשמע\"?",
    "'; DROP TABLE labels; --",
    'She said "hi", then "bye"',
    "a,b,,c,",
    "line one\nline two\r\nline three\rend",
    "\ttabs\tand  spaces  ",
    "=SUM(A1:A9) and @cmd",
    "",
]


@pytest.fixture
def store(tmp_path: Path):
    with Store.open(tmp_path / "spl.db") as opened:
        yield opened


def fill_nasty(store: Store) -> list[str]:
    """One session per nasty string (as prompt, response A and response B); returns ids."""
    sessions = []
    for i, text in enumerate(NASTY):
        sid = store.new_session(f"P{i}", study_id="S,1", external_session_id=f"E\"{i}")
        store.add_label(sid, f"pair-{i}", prompt=text, response_a=text + " A",
                        response_b="B " + text, choice=("A", "B", "tie", "skip")[i % 4],
                        shown_order="BA" if i % 2 else "AB", seconds=i * 0.5)
        sessions.append(sid)
    return sessions


def test_jsonl_round_trip_with_nasty_strings(store: Store) -> None:
    sessions = fill_nasty(store)
    lines = export_jsonl(store).splitlines()
    assert len(lines) == len(NASTY)
    parsed = [json.loads(line) for line in lines]
    assert parsed == label_rows(store)
    for row, text in zip(parsed, NASTY):
        assert (row["prompt"], row["response_a"], row["response_b"]) == (
            text, text + " A", "B " + text)
        assert list(row) == list(COLUMNS)
    assert "👍🏽" in export_jsonl(store)  # not ASCII-escaped
    assert store.integrity_check() and len(store.labels(sessions[3])) == 1  # no injection


def test_csv_round_trip_with_nasty_strings(store: Store) -> None:
    fill_nasty(store)
    reader = csv.DictReader(io.StringIO(export_csv(store), newline=""))
    assert tuple(reader.fieldnames or ()) == COLUMNS
    parsed = list(reader)
    expected = label_rows(store)
    assert len(parsed) == len(expected) == len(NASTY)
    for got, want in zip(parsed, expected):
        for key in COLUMNS:
            value = want[key]
            if key == "session_flags":  # a list in JSONL, "flag;flag" in CSV
                assert got[key] == ";".join(value), key
                continue
            assert got[key] == ("" if value is None else str(value)), key
    assert parsed[3]["prompt"] == "'; DROP TABLE labels; --"
    assert parsed[0]["study_id"] == "S,1" and parsed[0]["external_session_id"] == 'E"0'


def test_exports_keep_ties_and_skips_but_not_undone_labels(store: Store) -> None:
    sid = store.new_session("P1")
    for pair, choice in (("p1", "A"), ("p2", "tie"), ("p3", "skip"), ("p4", "B")):
        store.add_label(sid, pair, prompt="q", response_a="a", response_b="b", choice=choice,
                        shown_order="AB")
    store.undo_last_label(sid)
    choices = [r["choice"] for r in label_rows(store)]
    assert choices == ["A", "tie", "skip"]
    assert [r["choice"] for r in csv.DictReader(io.StringIO(export_csv(store)))] == choices
    assert [r["chosen"] for r in label_rows(store)] == ["a", None, None]
    assert [(r["prompt"], r["chosen"]) for r in trl_rows(store)] == [("q", "a")]


def test_exports_never_contain_the_session_token(store: Store) -> None:
    sessions = fill_nasty(store)
    text = export_jsonl(store) + export_csv(store) + export_trl_jsonl(store)
    assert not any(sid in text for sid in sessions)
    assert len({r["session"] for r in label_rows(store)}) == len(sessions)


def test_trl_rows_with_context(store: Store) -> None:
    first, second, other = store.new_session("U1"), store.new_session("U1"), store.new_session("U2")

    def label(sid: str, pair: str, choice: str, order: str = "AB") -> None:
        store.add_label(sid, pair, prompt=f"q {pair}", response_a=f"{pair}-A",
                        response_b=f"{pair}-B", choice=choice, shown_order=order)

    label(first, "p1", "A")
    label(first, "p2", "B", "BA")
    label(first, "p3", "tie")  # excluded from TRL rows
    label(first, "p1#repeat", "A")  # attention repeat: excluded
    label(second, "p4", "skip")  # excluded
    label(second, "p5", "B")
    label(other, "p1", "B")
    rows = trl_rows(store)
    assert [(r["user_id"], r["prompt"], r["chosen"], r["rejected"]) for r in rows] == [
        ("U1", "q p1", "p1-A", "p1-B"), ("U1", "q p2", "p2-B", "p2-A"),
        ("U1", "q p5", "p5-B", "p5-A"), ("U2", "q p1", "p1-B", "p1-A")]
    assert rows[0]["context"] == [
        {"prompt": "q p2", "chosen": "p2-B", "rejected": "p2-A"},
        {"prompt": "q p5", "chosen": "p5-B", "rejected": "p5-A"}]
    assert [c["prompt"] for c in rows[2]["context"]] == ["q p1", "q p2"]
    assert rows[3]["context"] == []
    assert set(rows[0]) == {"prompt", "chosen", "rejected", "user_id", "context"}
    assert [json.loads(line) for line in export_trl_jsonl(store).splitlines()] == rows


def test_empty_store_exports(store: Store) -> None:
    assert export_jsonl(store) == "" and export_trl_jsonl(store) == "" and trl_rows(store) == []
    assert export_csv(store).splitlines() == [",".join(COLUMNS)]


def test_write_export_files(store: Store, tmp_path: Path) -> None:
    fill_nasty(store)
    out = tmp_path / "exports"
    csv_path = write_export(store, "csv", out)
    assert csv_path.name == "labels.csv" and csv_path.read_bytes().startswith(b"\xef\xbb\xbf")
    with csv_path.open(encoding="utf-8-sig", newline="") as handle:
        assert [r["prompt"] for r in csv.DictReader(handle)] == NASTY
    jsonl_path = write_export(store, "jsonl", out)
    assert jsonl_path.read_text(encoding="utf-8") == export_jsonl(store)
    assert write_export(store, "trl", out).read_text(encoding="utf-8") == export_trl_jsonl(store)
    assert sorted(p.name for p in out.iterdir()) == ["labels.csv", "labels.jsonl", "trl.jsonl"]
    with pytest.raises(ValueError, match="jsonl, csv, trl"):
        write_export(store, "xlsx", out)  # type: ignore[arg-type]


@pytest.mark.parametrize(("given", "expected", "ok"), [
    ("s3cret-token", "s3cret-token", True),
    ("s3cret-tokem", "s3cret-token", False),
    ("s3cret", "s3cret-token", False),
    ("", "s3cret-token", False),
    (None, "s3cret-token", False),
    ("anything", "", False),
    ("", "", False),
    ("anything", None, False),
    (None, None, False),
    ("clé-🔑", "clé-🔑", True),
    ("clé-🔑", "cle-🔑", False),
])
def test_check_admin_token(given: str | None, expected: str | None, ok: bool) -> None:
    assert check_admin_token(given, expected) is ok
