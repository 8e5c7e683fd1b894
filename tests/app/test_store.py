"""Tests for app.store: schema and migrations, sessions, labels, concurrency, backups."""

from __future__ import annotations

import secrets
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from app import store as store_module
from app.store import (
    DuplicateLabel, InvalidChoice, InvalidInput, Migration, SchemaTooNew, SessionFinished,
    Store, StoreError, UnknownSession, default_db_path, storage_is_persistent,
)

WAIT = 60.0  # seconds any thread, barrier or join may take before the test fails


@pytest.fixture
def store(tmp_path: Path):
    with Store.open(tmp_path / "spl.db") as opened:
        yield opened


def add(store: Store, sid: str, pair: str, choice: str = "A", order: str = "AB", **kw):
    texts = {"prompt": f"prompt {pair}", "response_a": f"{pair} a", "response_b": f"{pair} b"}
    return store.add_label(sid, pair, choice=choice, shown_order=order,
                           seconds=kw.pop("seconds", 1.5), **{**texts, **kw})


def rows(path: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


# -- paths --------------------------------------------------------------------------------

def test_default_db_path_prefers_spl_db_then_data_volume(tmp_path: Path) -> None:
    volume = tmp_path / "volume"
    assert default_db_path({"SPL_DB": str(tmp_path / "x.db")}, volume) == tmp_path / "x.db"
    assert default_db_path({}, volume) == Path("data/spl.db")  # no volume
    volume.mkdir()
    assert default_db_path({}, volume) == volume / "spl.db"
    assert default_db_path({"SPL_DB": ""}, volume) == volume / "spl.db"


def test_storage_is_persistent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    volume = tmp_path / "volume"
    assert not storage_is_persistent(environ={}, data_dir=volume)
    assert storage_is_persistent(environ={"SPL_DB": "elsewhere/spl.db"}, data_dir=volume)
    volume.mkdir()
    assert storage_is_persistent(environ={}, data_dir=volume)
    assert not storage_is_persistent(Path("data/spl.db"), environ={}, data_dir=volume)


# -- schema and migrations --------------------------------------------------------------

def test_schema_tables_and_wal(store: Store) -> None:
    names = {r[0] for r in rows(store.path, "SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"participants", "sessions", "labels", "rankings", "events",
            "schema_version"} <= names
    assert store.schema_version == store_module.MIGRATIONS[-1].version
    assert rows(store.path, "SELECT version, name FROM schema_version") == [
        (m.version, m.name) for m in store_module.MIGRATIONS]
    assert rows(store.path, "PRAGMA journal_mode") == [("wal",)]
    label_columns = {r[1] for r in rows(store.path, "PRAGMA table_info(labels)")}
    assert {"session_id", "pair_id", "position", "prompt", "response_a", "response_b",
            "shown_order", "choice", "seconds", "created_at", "undone_at"} <= label_columns
    assert store.integrity_check()


def test_migrations_are_numbered_from_one_in_order() -> None:
    versions = [m.version for m in store_module.MIGRATIONS]
    assert versions == list(range(1, len(versions) + 1))


def test_reopen_applies_nothing_twice_and_new_migration_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "spl.db"
    Store.open(path).close()
    Store.open(path).close()
    known = [(m.version,) for m in store_module.MIGRATIONS]
    assert rows(path, "SELECT version FROM schema_version") == known
    new = len(known) + 1
    v_new = Migration(new, "add labels.note", ("ALTER TABLE labels ADD COLUMN note TEXT",))
    monkeypatch.setattr(store_module, "MIGRATIONS", (*store_module.MIGRATIONS, v_new))
    with Store.open(path) as upgraded:
        assert upgraded.schema_version == new
    with Store.open(path) as again:
        assert again.schema_version == new
    assert rows(path, "SELECT version FROM schema_version ORDER BY version") == [*known, (new,)]
    assert "note" in {r[1] for r in rows(path, "PRAGMA table_info(labels)")}


def test_newer_schema_is_refused_with_a_plain_message(tmp_path: Path) -> None:
    path = tmp_path / "spl.db"
    Store.open(path).close()
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("INSERT INTO schema_version VALUES (99, 'future', 'later')")
    conn.close()
    with pytest.raises(SchemaTooNew, match="schema version 99") as info:
        Store.open(path)
    message = str(info.value)
    assert str(tmp_path) not in message and "SELECT" not in message and "Upgrade" in message


def test_damaged_file_raises_store_error_without_path(tmp_path: Path) -> None:
    path = tmp_path / "spl.db"
    path.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(StoreError) as info:
        Store.open(path)
    assert str(tmp_path) not in str(info.value)


def test_closed_store_refuses_calls(tmp_path: Path) -> None:
    opened = Store.open(tmp_path / "spl.db")
    opened.close()
    with pytest.raises(StoreError, match="closed"):
        opened.new_session("P1")


# -- participants and sessions ---------------------------------------------------------

def test_nothing_is_stored_before_new_session(store: Store) -> None:
    assert rows(store.path, "SELECT COUNT(*) FROM participants") == [(0,)]
    sid = store.new_session("PID-1", study_id="STUDY", external_session_id="EXT")
    session = store.get_session(sid)
    assert (session.participant_id, session.study_id, session.external_session_id) == (
        "PID-1", "STUDY", "EXT")
    assert session.mode == "active" and session.status == "open" and not session.finished
    assert rows(store.path, "SELECT participant_id, study_id FROM participants") == [
        ("PID-1", "STUDY")]
    assert rows(store.path, "SELECT consented_at IS NOT NULL FROM participants") == [(1,)]
    assert sid not in repr(session)


def test_session_ids_are_long_random_tokens(store: Store) -> None:
    ids = {store.new_session("P1") for _ in range(20)}
    assert len(ids) == 20
    assert all(len(i) >= 32 and i.replace("-", "").replace("_", "").isalnum() for i in ids)
    assert rows(store.path, "SELECT COUNT(*) FROM participants") == [(1,)]


def test_generated_participant_and_create_participant(store: Store) -> None:
    sid = store.new_session(None, mode="fixed")
    session = store.get_session(sid)
    assert session.participant_id.startswith("anon-") and session.mode == "fixed"
    assert store.create_participant("PID-2", "S") == "PID-2"
    assert store.create_participant("PID-2", "S") == "PID-2"  # idempotent
    with pytest.raises(InvalidInput, match="'active' or 'fixed'"):
        store.new_session("P1", mode="random")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="at most 128"):
        store.new_session("x" * 500)


@pytest.mark.parametrize("forged", [
    "nope", "", None, 123, "' OR 1=1 --", secrets.token_urlsafe(32), "A" * 43])
def test_unknown_or_forged_session_is_refused(store: Store, forged: object) -> None:
    real = store.new_session("P1")
    for call in (lambda: store.get_session(forged),  # type: ignore[arg-type]
                 lambda: add(store, forged, "p1"),  # type: ignore[arg-type]
                 lambda: store.finish_session(forged),  # type: ignore[arg-type]
                 lambda: store.resume(forged)):  # type: ignore[arg-type]
        with pytest.raises(UnknownSession, match="does not exist") as info:
            call()
        assert str(forged) not in str(info.value) or not forged
    near_miss = real[:-1] + ("A" if real[-1] != "A" else "B")
    with pytest.raises(UnknownSession):
        store.get_session(near_miss)
    assert rows(store.path, "SELECT COUNT(*) FROM labels") == [(0,)]


# -- labels ---------------------------------------------------------------------------------

def test_label_is_stored_as_shown(store: Store) -> None:
    sid = store.new_session("P1")
    record = add(store, sid, "p1", choice="B", order="BA", seconds=4.25)
    assert (record.position, record.choice, record.shown_order, record.seconds) == (
        0, "B", "BA", 4.25)
    assert record.chosen == "p1 b" and record.rejected == "p1 a" and record.live
    assert store.labels(sid) == [record]
    assert add(store, sid, "p2", choice="tie").chosen is None


@pytest.mark.parametrize("choice", ["C", "a", "", None, "TIE", 1])
def test_invalid_choice_is_refused(store: Store, choice: object) -> None:
    sid = store.new_session("P1")
    with pytest.raises(InvalidChoice, match="A, B, tie or skip"):
        add(store, sid, "p1", choice=choice)  # type: ignore[arg-type]
    assert store.labels(sid) == []


@pytest.mark.parametrize("bad", [
    {"order": "XY"}, {"seconds": -1.0}, {"seconds": float("nan")}, {"seconds": "3"},
    {"prompt": "x" * 60_000}, {"response_a": None}, {"pair": ""}])
def test_invalid_label_fields_are_refused(store: Store, bad: dict) -> None:
    sid = store.new_session("P1")
    with pytest.raises(InvalidInput):
        add(store, sid, bad.pop("pair", "p1"), **bad)


def test_duplicate_label_is_refused(store: Store) -> None:
    sid, other = store.new_session("P1"), store.new_session("P2")
    add(store, sid, "p1")
    with pytest.raises(DuplicateLabel, match="undo it first"):
        add(store, sid, "p1", choice="B")
    add(store, other, "p1")  # the same pair in another session is fine
    assert [label.choice for label in store.labels(sid)] == ["A"]


def test_undo_then_relabel_keeps_the_audit_trail(store: Store) -> None:
    sid = store.new_session("P1")
    assert store.undo_last_label(sid) is None
    add(store, sid, "p1")
    add(store, sid, "p2", choice="A")
    undone = store.undo_last_label(sid)
    assert undone is not None and undone.pair_id == "p2" and not undone.live
    assert [label.pair_id for label in store.labels(sid)] == ["p1"]
    relabel = add(store, sid, "p2", choice="B")
    assert relabel.position == 1
    history = store.labels(sid, live_only=False)
    assert [(x.pair_id, x.choice, x.live) for x in history] == [
        ("p1", "A", True), ("p2", "A", False), ("p2", "B", True)]
    assert store.integrity_check()


def test_finish_is_idempotent_and_closes_the_session(store: Store) -> None:
    sid = store.new_session("P1")
    add(store, sid, "p1")
    code = store.finish_session(sid)
    assert code and store.finish_session(sid) == code
    assert store.finish_session(sid, completion_code="OTHER") == code
    session = store.get_session(sid)
    assert session.finished and session.completion_code == code and session.finished_at
    with pytest.raises(SessionFinished):
        add(store, sid, "p2")
    with pytest.raises(SessionFinished):
        store.undo_last_label(sid)
    other = store.new_session("P1")
    assert store.finish_session(other, completion_code="C0DE42") == "C0DE42"


def test_resume_returns_live_labels_in_order(store: Store) -> None:
    sid = store.new_session("P1", study_id="S")
    for pair in ("p1", "p2", "p3"):
        add(store, sid, pair)
    store.undo_last_label(sid)
    add(store, sid, "p4", choice="skip")
    state = store.resume(sid)
    assert state.session == store.get_session(sid)
    assert [label.pair_id for label in state.labels] == ["p1", "p2", "p4"]
    assert [label.position for label in state.labels] == [0, 1, 2]
    assert state.n_labels == 3 and state.labelled_pair_ids == {"p1", "p2", "p4"}


def test_counts_per_participant(store: Store) -> None:
    a1, a2, b1 = store.new_session("A"), store.new_session("A"), store.new_session("B")
    add(store, a1, "p1")
    add(store, a1, "p2")
    store.undo_last_label(a1)
    add(store, a2, "p1")
    store.finish_session(a2)
    store.create_participant("C")
    counts = {c.participant_id: (c.n_sessions, c.n_finished, c.n_labels)
              for c in store.counts_per_participant()}
    assert counts == {"A": (2, 1, 2), "B": (1, 0, 0), "C": (0, 0, 0)}
    assert store.get_session(b1).participant_id == "B"


def test_attention_agreement_on_a_hand_made_case(store: Store) -> None:
    agree = store.new_session("P1")  # same text chosen although the sides were swapped
    add(store, agree, "q1", choice="A", order="AB")
    add(store, agree, "q1#repeat", choice="B", order="BA",
        response_a="q1 b", response_b="q1 a")
    disagree = store.new_session("P2")
    add(store, disagree, "q1", choice="A")
    add(store, disagree, "q1#repeat", choice="B")
    skipped = store.new_session("P3")
    add(store, skipped, "q1", choice="A")
    add(store, skipped, "q1#repeat", choice="skip")
    ties = store.new_session("P4")
    add(store, ties, "q1", choice="tie")
    add(store, ties, "q1#repeat", choice="A")
    store.undo_last_label(ties)  # an undone answer does not count
    add(store, ties, "q1#repeat", choice="tie")
    no_check = store.new_session("P5")
    add(store, no_check, "q1")
    report = store.attention_agreement()
    # a tie is not agreement: tie/tie fails, or always answering tie would pass every check
    assert dict(report.per_session) == {agree: True, disagree: False, skipped: None, ties: False}
    assert report.n_judged == 3 and report.overall == pytest.approx(1 / 3)
    assert {c.participant_id: (c.first, c.second) for c in report.checks}["P3"] == ("A", "skip")
    by_session = {c.session_id: c.agree for c in report.checks}
    assert by_session == {agree: True, disagree: False, skipped: None, ties: False}


def test_attention_agreement_without_checks(store: Store) -> None:
    report = store.attention_agreement()
    assert report.overall is None and report.n_judged == 0 and report.checks == ()


# -- rankings and events -----------------------------------------------------------------------

def test_rankings_and_events(store: Store) -> None:
    sid = store.new_session("P1")
    store.finish_session(sid)  # ranking follows labelling
    results = {"spl": [{"response": "x", "score": 1.5}], "vpl": [], "btl": []}
    ranking_id = store.add_ranking(sid, "a prompt", ["x", "y"], results)
    assert rows(store.path, "SELECT candidates, json_extract(results, '$.spl[0].score') "
                "FROM rankings WHERE id = %d" % ranking_id) == [('["x", "y"]', 1.5)]
    store.log_event("resume", {"n_labels": 3}, session_id=sid)
    store.log_event("startup")
    assert [(e["kind"], e["payload"]) for e in store.events(sid)] == [("resume", {"n_labels": 3})]
    assert len(store.events()) == 2
    with pytest.raises(UnknownSession):
        store.add_ranking("forged", "p", ["x"], results)
    with pytest.raises(InvalidInput):
        store.add_ranking(sid, "p", "not a list", results)  # type: ignore[arg-type]


@pytest.mark.parametrize("payload", [{"ip": "1.2.3.4"}, {"request": {"User-Agent": "x"}},
                                     {"list": [{"headers": {}}]}])
def test_events_refuse_identifying_request_data(store: Store, payload: dict) -> None:
    with pytest.raises(InvalidInput, match="identifying"):
        store.log_event("visit", payload)
    assert store.events() == []


# -- threads, backup and restore ---------------------------------------------------------------

def test_concurrent_label_writes_one_connection_per_thread(store: Store) -> None:
    n_threads, n_labels = 8, 50
    barrier = threading.Barrier(n_threads)
    errors: list[BaseException] = []
    sessions: dict[int, str] = {}
    connections: dict[int, int] = {}

    def work(i: int) -> None:
        try:
            sid = store.new_session(f"P{i}")
            sessions[i] = sid
            connections[i] = id(store._db.conn)  # noqa: SLF001 - the per-thread connection
            barrier.wait(timeout=WAIT)
            for j in range(n_labels):
                add(store, sid, f"p{j}", choice="AB"[j % 2])
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=WAIT)
    assert not any(t.is_alive() for t in threads), "a thread is stuck"
    assert errors == []
    assert len(set(connections.values())) == n_threads
    assert id(store._db.conn) not in connections.values()  # noqa: SLF001
    for sid in sessions.values():
        labels = store.labels(sid)
        assert [x.pair_id for x in labels] == [f"p{j}" for j in range(n_labels)]
        assert [x.position for x in labels] == list(range(n_labels))
    assert rows(store.path, "SELECT COUNT(*), COUNT(DISTINCT session_id || pair_id) "
                "FROM labels") == [(400, 400)]
    assert store.integrity_check()


def test_concurrent_duplicates_on_one_session_are_refused(store: Store) -> None:
    sid = store.new_session("P1")
    barrier = threading.Barrier(8)
    outcomes: list[str] = []

    def work() -> None:
        barrier.wait(timeout=WAIT)
        for j in range(50):
            try:
                add(store, sid, f"p{j}")
                outcomes.append("ok")
            except DuplicateLabel:
                outcomes.append("duplicate")
            except BaseException as exc:  # noqa: BLE001
                outcomes.append(repr(exc))

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=WAIT)
    assert not any(t.is_alive() for t in threads), "a thread is stuck"
    assert outcomes.count("ok") == 50 and outcomes.count("duplicate") == 350
    assert sorted(x.position for x in store.labels(sid)) == list(range(50))


def test_backup_while_writing_then_restore(store: Store, tmp_path: Path) -> None:
    sid = store.new_session("P1")
    committed: list[str] = []
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            j = 0
            while not stop.is_set() and j < 5000:
                add(store, sid, f"p{j}")
                committed.append(f"p{j}")  # only after add_label returned (committed)
                j += 1
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    thread = threading.Thread(target=writer)
    thread.start()
    deadline = time.monotonic() + 10
    while len(committed) < 30 and time.monotonic() < deadline:
        time.sleep(0.005)
    before = set(committed)
    backup = store.backup(tmp_path / "backups" / "spl-backup.db")
    stop.set()
    thread.join(timeout=WAIT)
    assert not thread.is_alive(), "the writer is stuck"
    assert errors == [] and len(before) >= 30
    assert rows(backup, "PRAGMA journal_mode") == [("delete",)]
    assert not list(backup.parent.glob("*.tmp"))

    with Store.restore(backup, tmp_path / "restored.db") as restored:
        assert restored.integrity_check()
        restored_pairs = {x.pair_id for x in restored.labels(sid)}
        assert before <= restored_pairs <= set(committed)
        assert restored.schema_version == store_module.MIGRATIONS[-1].version
        add(restored, sid, "after-restore")  # the restored store is writable

    with pytest.raises(StoreError, match="overwrite=True"):
        Store.restore(backup, tmp_path / "restored.db")
    with Store.restore(backup, tmp_path / "restored.db", overwrite=True) as again:
        assert {x.pair_id for x in again.labels(sid)} == restored_pairs


def test_restore_refuses_garbage_and_missing_backups(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"\x00not sqlite" * 400)
    with pytest.raises(StoreError) as info:
        Store.restore(garbage, tmp_path / "out.db")
    assert str(tmp_path) not in str(info.value)
    with pytest.raises(StoreError, match="does not exist"):
        Store.restore(tmp_path / "missing.db", tmp_path / "out.db")


# -- exact limits ---------------------------------------------------------------------------


def test_id_and_text_limits_are_inclusive(store: Store) -> None:
    from app.store_input import MAX_ID_CHARS, MAX_TEXT_CHARS

    assert (MAX_ID_CHARS, MAX_TEXT_CHARS) == (128, 50_000)
    sid = store.new_session("p" * 128, study_id="s" * 128)
    with pytest.raises(InvalidInput, match="at most 128 printable characters; got 129"):
        store.new_session("p" * 129)
    with pytest.raises(InvalidInput, match="at most 128 printable characters; got 5"):
        store.new_session("ab\x00cd")
    add(store, sid, "p1", prompt="x" * 50_000)
    with pytest.raises(InvalidInput, match="has 50001 characters; the limit is 50000"):
        add(store, sid, "p2", prompt="x" * 50_001)
    assert store.get_session(sid).participant_id == "p" * 128


def test_a_refused_choice_is_quoted_in_at_most_40_characters(store: Store) -> None:
    sid = store.new_session("P1")
    with pytest.raises(InvalidChoice) as excinfo:
        add(store, sid, "p1", choice="x" * 100)
    assert str(excinfo.value).endswith("got " + repr("x" * 100)[:40] + ".")


def test_a_writable_file_named_like_the_volume_is_no_volume(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "data-file"
    not_a_dir.write_text("")
    assert default_db_path({}, data_dir=not_a_dir) == Path("data") / "spl.db"
    assert default_db_path({}, data_dir=tmp_path) == tmp_path / "spl.db"


def test_stored_json_is_strict_and_keeps_non_ascii_text(store: Store) -> None:
    """NaN is no JSON: refused rather than written where other readers choke on it; text is
    stored as typed (UTF-8, not \\u escapes), so the raw database reads as the visitor wrote."""
    sid = store.new_session("P1")
    with pytest.raises(InvalidInput, match="event payload must be JSON-serialisable"):
        store.log_event("note", {"score": float("nan")}, session_id=sid)
    store.log_event("note", {"text": "שלום 🙂"}, session_id=sid)
    raw = rows(store.path, "SELECT payload FROM events WHERE kind = 'note'")
    assert raw == [('{"text": "שלום 🙂"}',)]


def test_every_connection_is_durable_and_checks_foreign_keys(tmp_path: Path) -> None:
    """WAL, synchronous=FULL (a label is on disk before the call returns) and foreign keys,
    on every thread's connection; the folder is created on open."""
    with Store.open(tmp_path / "new" / "nested" / "spl.db") as store:
        results = []

        def pragmas() -> None:
            db = store._db
            results.append(tuple(db.execute(f"PRAGMA {p}").fetchone()[0]
                                 for p in ("journal_mode", "synchronous", "foreign_keys")))

        pragmas()
        worker = threading.Thread(target=pragmas)
        worker.start()
        worker.join(WAIT)
        assert results == [("wal", 2, 1)] * 2


def test_a_write_takes_the_lock_up_front_and_a_read_sees_one_snapshot(store: Store) -> None:
    """``_write`` begins IMMEDIATE: no other writer gets in before its first statement;
    ``_read`` is one transaction: a commit elsewhere in the middle is not seen."""
    sid = store.new_session("P1")
    other = sqlite3.connect(store.path, timeout=0.05)
    try:
        with store._write():
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        other.rollback()
        with store._read() as db:
            before = db.execute("SELECT COUNT(*) FROM events").fetchone()[0]
            other.execute("INSERT INTO events (session_id, kind, payload, created_at) "
                          "VALUES (?, 'note', '{}', 'now')", (sid,))
            other.commit()
            assert db.execute("SELECT COUNT(*) FROM events").fetchone()[0] == before
        assert rows(store.path, "SELECT COUNT(*) FROM events")[0][0] == before + 1
    finally:
        other.close()


def test_closing_closes_every_connection_and_the_context_manager_closes(tmp_path: Path) -> None:
    with Store.open(tmp_path / "spl.db") as store:
        conn = store._db.conn
        sid = store.new_session("P1")
    with pytest.raises(sqlite3.ProgrammingError):
        conn.execute("SELECT 1")
    with pytest.raises(StoreError, match="has been closed"):
        store.get_session(sid)


def test_session_ids_carry_256_random_bits(store: Store) -> None:
    ids = {store.new_session("P1") for _ in range(5)}
    assert len(ids) == 5 and all(len(s) == 43 for s in ids)  # 32 bytes, url-safe base64


def test_a_minimum_of_answers_counts_live_a_b_and_tie_only(store: Store) -> None:
    """Skips, undone answers and attention-check repeats do not count; exactly the minimum
    is enough; min_answers=1 already asks for one."""
    from app.store import NotEnoughAnswers

    empty = store.new_session("P0")
    with pytest.raises(NotEnoughAnswers, match="at least 1 answers .* this session has 0"):
        store.finish_session(empty, min_answers=1)
    sid = store.new_session("P1")
    add(store, sid, "p1", "A")
    add(store, sid, "p2", "skip")
    add(store, sid, "p3", "tie")
    add(store, sid, "p1#repeat", "A")
    add(store, sid, "p4", "B")
    store.undo_last_label(sid)
    with pytest.raises(NotEnoughAnswers, match="this session has 2"):
        store.finish_session(sid, min_answers=3)
    code = store.finish_session(sid, min_answers=2)
    assert store.finish_session(sid) == code  # idempotent
    other = store.new_session("P2")
    generated = store.finish_session(other)
    assert len(generated) == 8 and generated == generated.upper()
    int(generated, 16)  # 4 random bytes in hex


def test_label_fields_at_their_edges(store: Store) -> None:
    sid = store.new_session("P1")
    add(store, sid, "p1", seconds=0, query_order="active")
    add(store, sid, "p2", seconds=0.5, query_order="fixed")
    assert [(lab.seconds, lab.query_order) for lab in store.labels(sid)] == [
        (0.0, "active"), (0.5, "fixed")]
    with pytest.raises(InvalidInput, match="query order must be 'active' or 'fixed'"):
        add(store, sid, "p3", query_order="sideways")
    with pytest.raises(InvalidInput, match="non-negative number of seconds; got -0.1"):
        add(store, sid, "p3", seconds=-0.1)


def test_a_finished_threads_connection_is_closed_by_the_next_thread(store: Store) -> None:
    seen = []

    def use() -> None:
        seen.append(store._db.conn)

    for _ in range(2):
        worker = threading.Thread(target=use)
        worker.start()
        worker.join(WAIT)
    first, second = seen
    with pytest.raises(sqlite3.ProgrammingError):
        first.execute("SELECT 1")  # closed when the second thread opened its own
    second.execute("SELECT 1")


def test_labels_of_an_unknown_session_are_refused_and_exports_skip_undone_answers(
        store: Store) -> None:
    with pytest.raises(UnknownSession):
        store.labels(secrets.token_urlsafe(32))
    sid = store.new_session("P1")
    add(store, sid, "p1")
    add(store, sid, "p2")
    store.undo_last_label(sid)
    assert [lab.pair_id for _, lab in store.all_labels()] == ["p1"]
    assert [lab.pair_id for _, lab in store.all_labels(live_only=False)] == ["p1", "p2"]


def test_attention_uses_live_answers_and_a_session_agrees_when_every_check_does(
        store: Store) -> None:
    fixed = store.new_session("P1")  # a disagreeing repeat, undone and answered again
    same = {"response_a": "q1 a", "response_b": "q1 b"}  # the repeat shows the same texts
    add(store, fixed, "q1", choice="A")
    add(store, fixed, "q1#repeat", choice="B", **same)
    store.undo_last_label(fixed)
    add(store, fixed, "q1#repeat", choice="A", **same)
    two = store.new_session("P2")  # two checks, both agreeing
    for pair in ("q1", "q2"):
        add(store, two, pair, choice="B")
        add(store, two, f"{pair}#repeat", choice="B", response_a=f"{pair} a",
            response_b=f"{pair} b")
    report = store.attention_agreement()
    assert dict(report.per_session) == {fixed: True, two: True}
    assert report.overall == 1.0 and report.n_judged == 2


def test_events_need_a_real_session(store: Store) -> None:
    with pytest.raises(UnknownSession):
        store.log_event("note", {}, session_id=secrets.token_urlsafe(32))
    assert store.log_event("note", {}) > 0  # no session: a store-wide event


def test_a_backup_is_one_self_contained_file_and_a_failed_one_leaves_nothing(
        store: Store, tmp_path: Path) -> None:
    sid = store.new_session("P1")
    add(store, sid, "p1")
    nested = store.backup(tmp_path / "new" / "folder" / "backup.db")
    assert rows(nested, "PRAGMA journal_mode") == [("delete",)]
    assert rows(nested, "SELECT pair_id FROM labels") == [("p1",)]
    blocked = tmp_path / "blocked.db"
    blocked.mkdir()  # a folder where the file should go: the final rename fails
    with pytest.raises(StoreError, match="backup could not be written"):
        store.backup(blocked)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blocked.db", "new", "spl.db",
                                                          "spl.db-shm", "spl.db-wal"]
    # a destination name the file system refuses (over 255 bytes with the temporary
    # prefix): a clear StoreError, not the raw ENAMETOOLONG of the clean-up
    with pytest.raises(StoreError, match="backup could not be written"):
        store.backup(tmp_path / ("b" * 245 + ".db"))


def test_restore_replaces_only_an_empty_destination_without_overwrite(
        store: Store, tmp_path: Path) -> None:
    store.new_session("P1")
    backup = store.backup(tmp_path / "backup.db")
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    Store.restore(backup, empty).close()
    one_byte = tmp_path / "one.db"
    one_byte.write_bytes(b"x")
    with pytest.raises(StoreError, match="already holds a database"):
        Store.restore(backup, one_byte)


def test_restore_into_a_new_folder_and_a_foreign_key_violation_fails_the_check(
        store: Store, tmp_path: Path) -> None:
    sid = store.new_session("P1")
    add(store, sid, "p1")
    backup = store.backup(tmp_path / "backup.db")
    with Store.restore(backup, tmp_path / "new" / "folder" / "spl.db") as restored:
        assert [lab.pair_id for lab in restored.labels(sid)] == ["p1"]
        assert restored.integrity_check()
    raw = sqlite3.connect(backup)
    try:
        raw.execute("PRAGMA foreign_keys = OFF")
        raw.execute("UPDATE labels SET session_id = 'nobody'")
        raw.commit()
    finally:
        raw.close()
    with Store.open(backup) as broken:
        assert not broken.integrity_check()  # SQLite's own check still passes


def test_the_backup_modules_restore_keeps_an_existing_database_by_default(
        store: Store, tmp_path: Path) -> None:
    """app.store_backup.restore on its own (the admin CLI reaches it through Store.restore):
    without overwrite=True a database at the destination stays as it was."""
    from app import store_backup

    store.new_session("P1")
    backup = store.backup(tmp_path / "backup.db")
    existing = tmp_path / "existing.db"
    existing.write_bytes(b"not to be lost")
    with pytest.raises(StoreError, match="already holds a database"):
        store_backup.restore(backup, existing)
    assert existing.read_bytes() == b"not to be lost"


def _open_paths() -> list[str]:
    import os

    fds = Path("/proc/self/fd")
    if not fds.is_dir():
        pytest.skip("needs /proc (Linux)")
    out = []
    for fd in fds.iterdir():
        try:
            out.append(os.readlink(fd))
        except OSError:
            pass
    return out


def test_a_refused_restore_leaves_no_handle_on_the_backup(tmp_path: Path) -> None:
    """The admin may delete or replace a refused backup at once (on Windows an open handle
    would stop that): the exception that reports it keeps no connection to it open."""
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"\x00not sqlite" * 400)
    with pytest.raises(StoreError) as info:
        Store.restore(garbage, tmp_path / "out.db")
    assert info.value.__cause__ is not None  # the sqlite3 error, traceback and all, kept
    assert str(garbage.resolve()) not in _open_paths()


def test_a_database_before_any_migration_is_at_version_zero(tmp_path: Path) -> None:
    from sqlite_utils import Database

    from app.store_backup import db_version

    assert db_version(Database(tmp_path / "plain.db")) == 0
