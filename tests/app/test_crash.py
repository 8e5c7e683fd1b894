"""Crash and restart: SIGKILL the real server (``python app.py``) while participants label,
restart it on the same database, and check that no acknowledged label is lost, the database is
intact, and every participant continues where they stopped through the API."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from pathlib import Path

import pytest

gradio_client = pytest.importorskip("gradio_client")
from gradio_client import Client  # noqa: E402

from bench.appserver import AppProcess, tiny_runs  # noqa: E402

FULL = os.environ.get("SPL_BENCH_FULL") == "1"  # `make bench`: more participants, all resume
N_CLIENTS = 16 if FULL else 4
KILL_AFTER = 40 if FULL else 8  # acknowledged labels across all clients before the SIGKILL
# a session's items: the shipped pack's pairs and the repeated attention check
ITEMS = len(json.loads((Path(__file__).resolve().parents[2] / "assets" / "demo_pack.json")
                       .read_text())["pairs"]) + 1
N_CONTINUE = N_CLIENTS if FULL else 1  # sessions labelled to the end after the restart
CALL_TIMEOUT = 60


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> str:
    return tiny_runs(tmp_path_factory.mktemp("crash-runs"), latent_dim=8, hidden_dim=32)


def call(client: Client, *args: object, api_name: str) -> object:
    return client.submit(*args, api_name=api_name).result(timeout=CALL_TIMEOUT)


def live_labels(db: Path, sid: str) -> list[tuple[str, str]]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT pair_id, choice FROM labels WHERE session_id = ? AND "
                            "undone_at IS NULL ORDER BY position", [sid]).fetchall()


def test_sigkill_mid_run_loses_no_acknowledged_label(runs: str, tmp_path: Path) -> None:
    db = tmp_path / "spl.db"
    server = AppProcess(runs, db).start()
    acked: dict[int, list[tuple[str, str]]] = {i: [] for i in range(N_CLIENTS)}
    sessions: dict[int, str] = {}
    lock = threading.Lock()
    total = [0]
    killed = threading.Event()
    early_errors: list[BaseException] = []  # raised before the kill: a real failure

    def participant(i: int) -> None:
        try:
            client = Client(server.url, verbose=False)
            sid = call(client, f"CRASH-{i}", api_name="/new_session")
            sessions[i] = sid
            while (pair := call(client, sid, api_name="/next_pair")) is not None:
                choice = "AB"[i % 2]
                call(client, sid, pair["pair_id"], choice, api_name="/label")
                with lock:  # the response arrived: this label was acknowledged
                    acked[i].append((pair["pair_id"], choice))
                    total[0] += 1
        except Exception as exc:  # noqa: BLE001 - expected once the server is killed under us
            if not killed.is_set():
                early_errors.append(exc)

    threads = [threading.Thread(target=participant, args=(i,), daemon=True)
               for i in range(N_CLIENTS)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + (600 if FULL else 120)
    while total[0] < KILL_AFTER and time.monotonic() < deadline:
        time.sleep(0.01)
    killed.set()
    server.kill()
    with lock:
        snapshot = {i: list(v) for i, v in acked.items()}
    for thread in threads:
        thread.join(timeout=CALL_TIMEOUT + 5)
    assert not early_errors, early_errors[:3]
    assert not any(thread.is_alive() for thread in threads), "a participant hung after the kill"
    assert sum(map(len, snapshot.values())) >= KILL_AFTER, "the run did not get going"
    assert len(sessions) == N_CLIENTS

    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []

    server.start()  # same database, WAL recovered on open
    try:
        for i, sid in sessions.items():
            stored = live_labels(db, sid)
            # every acknowledged label is there, in order; at most one more (in flight)
            assert stored[:len(snapshot[i])] == snapshot[i], (i, stored, snapshot[i])
            assert len(stored) - len(snapshot[i]) <= 1
            assert len({p for p, _ in stored}) == len(stored)
        unfinished = [i for i in sessions if len(live_labels(db, sessions[i])) < ITEMS]
        assert unfinished, "every session finished before the kill; kill earlier"
        client = Client(server.url, verbose=False)
        continued = 0
        for i, sid in sessions.items():
            before = [p for p, _ in live_labels(db, sid)]
            pair = call(client, sid, api_name="/next_pair")
            if len(before) == ITEMS:
                assert pair is None
                continue
            assert pair is not None and pair["pair_id"] not in before  # continues, no repeat
            if continued == N_CONTINUE:  # the rest only check where they continue (test time)
                continue
            continued += 1
            assert pair is not None and pair["pair_id"] not in before  # continues, no repeat
            while pair is not None:
                result = call(client, sid, pair["pair_id"], "tie", api_name="/label")
                pair = call(client, sid, api_name="/next_pair")
            assert result["n_labels"] == ITEMS
            after = [p for p, _ in live_labels(db, sid)]
            assert after[:len(before)] == before and len(set(after)) == ITEMS
    finally:
        server.stop()
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
