"""``python -m app.admin``: a snapshot taken while writers commit labels holds every label
committed before it, restores into an intact database, and the other verbs work."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from app.admin import cli
from app.store import Store

ROOT = Path(__file__).resolve().parents[2]


def add_labels(store: Store, pid: str, n: int) -> str:
    sid = store.new_session(pid, study_id="S1")
    for k in range(n):
        store.add_label(sid, f"p{k}", prompt="Q?", response_a=f"a{k}", response_b=f"b{k}",
                        choice="AB"[k % 2], shown_order="AB", seconds=1.0)
    return sid


def rows(db: Path) -> set[tuple[str, str]]:
    with sqlite3.connect(db) as conn:
        return set(conn.execute("SELECT session_id, pair_id FROM labels").fetchall())


def test_backup_under_concurrent_writes_restores_every_committed_label(tmp_path: Path) -> None:
    db, snap, restored = tmp_path / "spl.db", tmp_path / "snap" / "spl.db", tmp_path / "r.db"
    store = Store.open(db)
    committed: list[tuple[str, str]] = []
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer(w: int) -> None:
        try:
            i = 0
            while not stop.is_set():
                sid = store.new_session(f"W{w}-{i}")
                for k in range(5):
                    store.add_label(sid, f"p{k}", prompt="Q?", response_a="x", response_b="y",
                                    choice="A", shown_order="BA", seconds=0.5)
                    committed.append((sid, f"p{k}"))  # add_label returned: committed
                i += 1
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(3)]
    for thread in threads:
        thread.start()
    try:
        deadline = time.monotonic() + 60
        while len(committed) < 30 and not errors:
            assert time.monotonic() < deadline, "the writers committed < 30 labels in 60 s"
            time.sleep(0.01)
        before = set(committed)
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        done = subprocess.run([sys.executable, "-m", "app.admin", "backup", "--db", str(db),
                               "--out", str(snap)], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        written_during = len(committed) - len(before)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a writer did not stop"
    assert not errors, errors[:3]
    assert written_during > 0, "no write overlapped the snapshot"

    result = CliRunner().invoke(cli, ["restore", "--backup", str(snap), "--db", str(restored)])
    assert result.exit_code == 0, result.output
    with sqlite3.connect(restored) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    in_snapshot = rows(restored)
    assert before <= in_snapshot  # every label committed before the snapshot
    assert in_snapshot <= rows(db)  # nothing that was never committed
    store.close()

    # restoring over an existing database needs --force
    again = CliRunner().invoke(cli, ["restore", "--backup", str(snap), "--db", str(restored)])
    assert again.exit_code == 1 and "pass --force" in again.output
    forced = CliRunner().invoke(cli, ["restore", "--backup", str(snap), "--db", str(restored),
                                      "--force"])
    assert forced.exit_code == 0, forced.output


def test_export_stats_and_delete(tmp_path: Path) -> None:
    db = tmp_path / "spl.db"
    with Store.open(db) as store:
        keep = add_labels(store, "KEEP", 3)
        gone = add_labels(store, "GONE", 2)
        store.add_ranking(gone, "Q?", ["a", "b"], {"spl": []})
    runner = CliRunner()
    jsonl = runner.invoke(cli, ["export", "--db", str(db), "--format", "jsonl"])
    assert jsonl.exit_code == 0 and len(jsonl.output.splitlines()) == 5
    assert keep not in jsonl.output and gone not in jsonl.output  # session ids are secrets
    out = tmp_path / "out" / "trl.jsonl"
    trl = runner.invoke(cli, ["export", "--db", str(db), "--format", "trl", "--out", str(out)])
    assert trl.exit_code == 0 and {json.loads(x)["user_id"] for x in
                                   out.read_text().splitlines()} == {"KEEP", "GONE"}
    csv = runner.invoke(cli, ["export", "--db", str(db), "--format", "csv"])
    assert csv.output.splitlines()[0].startswith("participant_id,")

    deleted = runner.invoke(cli, ["delete", "--db", str(db), "--participant", "GONE", "--yes"])
    assert deleted.exit_code == 0, deleted.output
    assert json.loads(deleted.output)["deleted"] == {"labels": 2, "rankings": 1, "events": 0,
                                                     "sessions": 1, "participants": 1}
    stats = json.loads(runner.invoke(cli, ["stats", "--db", str(db)]).output)
    assert [p["participant_id"] for p in stats["participants"]] == ["KEEP"]
    assert stats["integrity_ok"] is True
    with sqlite3.connect(db) as conn:
        dump = "\n".join(conn.iterdump())
    assert "GONE" not in dump and gone not in dump and keep in dump


@pytest.mark.parametrize("args", [["--help"], ["backup", "--help"], ["restore", "--help"],
                                  ["export", "--help"], ["stats", "--help"],
                                  ["delete", "--help"]])
def test_every_verb_has_help_with_an_example(args: list[str]) -> None:
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0 and "Example" in result.output
