"""SQLite store for the demo and user studies: participants, sessions, labels, rankings, events.

`Store.open(path)` applies the schema migrations, switches the file to WAL, and hands each
thread its own connection (Gradio runs handlers in worker threads; one `sqlite_utils.Database`
shared across threads is unsafe). Every write runs in a `BEGIN IMMEDIATE` transaction that is
committed, with `synchronous=FULL`, before the call returns, so the UI may acknowledge a label
only once it is durable. Nothing identifying is stored beyond the study ids: no IP addresses,
no user agents. Error messages are plain sentences without file paths or SQL. The records and
exceptions live in `app.records`, the migrations in `app.schema` (both re-exported here), the
input checks in `app.store_input`, backup and restore in `app.store_backup`.

Example:
    >>> import pathlib, tempfile
    >>> store = Store.open(pathlib.Path(tempfile.mkdtemp()) / "spl.db")
    >>> sid = store.new_session("PID123", study_id="S1")  # records consent
    >>> store.add_label(sid, "p1", prompt="Hi", response_a="Hello", response_b="Yo",
    ...                 choice="A", shown_order="BA", seconds=3.2).position
    0
    >>> store.close()
"""

from __future__ import annotations

import hmac
import json
import math
import os
import re
import secrets
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, get_args

from sqlite_utils import Database

from app.records import (
    CHOICES, REPEAT_SUFFIX, AttentionCheck, AttentionReport, Choice, DuplicateLabel,
    InvalidChoice, InvalidInput, LabelRecord, Mode, NotEnoughAnswers, ParticipantCount,
    ResumeState, SchemaTooNew, SessionFinished, SessionRecord, ShownOrder, StoreError,
    UnknownSession, attention_report,
)
from app.schema import MIGRATIONS, Migration
from app.schema import SCHEMA_VERSION_TABLE as _SCHEMA_VERSION_TABLE
from app.store_backup import backup, db_version, restore
from app.store_input import (check_choice, clean_id, clean_text, now, optional_id, private_keys,
                             to_json)

__all__ = [
    "CHOICES", "DATA_DIR", "MIGRATIONS", "REPEAT_SUFFIX", "AttentionCheck", "AttentionReport",
    "Choice", "DuplicateLabel", "InvalidChoice", "InvalidInput", "LabelRecord", "Migration",
    "Mode", "NotEnoughAnswers", "ParticipantCount", "ResumeState", "SchemaTooNew", "SessionFinished", "SessionRecord",
    "ShownOrder", "Store", "StoreError", "UnknownSession", "default_db_path",
    "storage_is_persistent",
]

DATA_DIR = Path("/data")  # the persistent volume on a Hugging Face Space

_SESSION_ID = re.compile(r"[A-Za-z0-9_-]{32,128}")
_UNKNOWN_SESSION = "This session does not exist. Start a new session to continue."


def default_db_path(environ: Mapping[str, str] | None = None, data_dir: Path = DATA_DIR) -> Path:
    """`SPL_DB` if set, else `/data/spl.db` on a writable `/data` volume, else `data/spl.db`."""
    env = os.environ if environ is None else environ
    if env.get("SPL_DB"):
        return Path(env["SPL_DB"]).expanduser()
    if data_dir.is_dir() and os.access(data_dir, os.W_OK):
        return data_dir / "spl.db"
    return Path("data") / "spl.db"


def storage_is_persistent(
    path: Path | None = None, environ: Mapping[str, str] | None = None, data_dir: Path = DATA_DIR
) -> bool:
    """Whether `path` (default: `default_db_path()`) survives a Space restart: it lies on the
    `/data` volume or was chosen explicitly through `SPL_DB`. False means warn the user."""
    env = os.environ if environ is None else environ
    resolved = Path(path or default_db_path(env, data_dir)).expanduser().resolve()
    if env.get("SPL_DB") and Path(env["SPL_DB"]).expanduser().resolve() == resolved:
        return True
    return resolved.is_relative_to(data_dir.resolve())


class Store:
    """The app's SQLite database: one instance per process, one connection per thread.

    Build it with `Store.open(path)`; it is safe to share across Gradio's worker threads.
    """

    def __init__(self, path: Path, *, busy_timeout: float = 10.0) -> None:
        self.path = Path(path)
        self.busy_timeout = busy_timeout
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[tuple[threading.Thread, sqlite3.Connection]] = []
        self._closed = False

    @classmethod
    def open(cls, path: str | os.PathLike[str] | None = None, *,
             busy_timeout: float = 10.0) -> Store:
        """Open (creating if needed) the database at `path` (default `default_db_path()`),
        switch it to WAL and apply pending migrations. Raises `SchemaTooNew` for a database
        written by a newer app, `StoreError` for a damaged or unreadable file."""
        store = cls(Path(path) if path is not None else default_db_path(),
                    busy_timeout=busy_timeout)
        try:
            store.path.parent.mkdir(parents=True, exist_ok=True)
            store._db.enable_wal()
            store._migrate()
        except BaseException as exc:
            store.close()
            if isinstance(exc, (sqlite3.Error, OSError)):
                raise StoreError("The label database could not be opened: the file is damaged, "
                                 "not a SQLite database, or not writable.") from exc
            raise
        return store

    # -- connections and transactions -------------------------------------------------

    @property
    def _db(self) -> Database:
        if self._closed:
            raise StoreError("The store has been closed; open it again with Store.open.")
        db: Database | None = getattr(self._local, "db", None)
        if db is None:
            # check_same_thread=False only so close() can close every thread's connection;
            # each connection is still used by its own thread alone (self._local).
            conn = sqlite3.connect(self.path, timeout=self.busy_timeout, check_same_thread=False)
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA synchronous = FULL")
            db = Database(conn, execute_plugins=False)
            self._local.db = db
            with self._lock:
                dead = [c for t, c in self._connections if not t.is_alive()]
                self._connections = [(t, c) for t, c in self._connections if t.is_alive()]
                self._connections.append((threading.current_thread(), conn))
            for old in dead:
                old.close()
        return db

    @contextmanager
    def _write(self) -> Iterator[Database]:
        """An IMMEDIATE transaction: it takes the write lock up front (waiting up to
        `busy_timeout`), so a read-then-write never fails with a stale WAL snapshot."""
        db = self._db
        try:
            db.conn.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.conn.rollback()
                raise
            db.conn.commit()
        except sqlite3.OperationalError as exc:
            db.conn.rollback()
            raise StoreError("The database is busy or unavailable; try again in a moment.") \
                from exc

    @contextmanager
    def _read(self) -> Iterator[Database]:
        """A read transaction, so several queries see one consistent snapshot."""
        db = self._db
        db.conn.execute("BEGIN")
        try:
            yield db
        finally:
            db.conn.rollback()

    def close(self) -> None:
        """Close every thread's connection; later calls raise `StoreError`."""
        self._closed = True
        with self._lock:
            connections, self._connections = self._connections, []
        for _, conn in connections:
            conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- schema ----------------------------------------------------------------------

    @property
    def schema_version(self) -> int:
        return db_version(self._db)

    def _migrate(self) -> None:
        known = MIGRATIONS[-1].version if MIGRATIONS else 0
        with self._write() as db:
            db.execute(_SCHEMA_VERSION_TABLE)
            current = db_version(db)
            if current > known:
                raise SchemaTooNew(
                    f"This database has schema version {current}, but this version of the app "
                    f"only knows versions up to {known}. Upgrade the app, or open another "
                    "database.")
            for migration in MIGRATIONS:
                if migration.version > current:
                    for statement in migration.statements:
                        db.execute(statement)
                    db.execute("INSERT INTO schema_version VALUES (?, ?, ?)",
                               [migration.version, migration.name, now()])

    # -- participants and sessions -----------------------------------------------------

    def create_participant(self, participant_id: str | None = None,
                           study_id: str | None = None) -> str:
        """Record a participant's consent and return their id (generated when None).
        Idempotent: an existing participant keeps their first consent time and study."""
        pid = clean_id(participant_id, "participant id") if participant_id else _new_pid()
        study = optional_id(study_id, "study id")
        with self._write() as db:
            _insert_participant(db, pid, study)
        return pid

    def new_session(self, participant_id: str | None, study_id: str | None = None,
                    external_session_id: str | None = None, mode: Mode = "active") -> str:
        """Start a session; calling this records consent (nothing is stored before it).
        `participant_id` comes from the study URL (`PROLIFIC_PID`/`pid`) or is typed; None
        generates an anonymous one. Returns the secret session id."""
        if mode not in get_args(Mode):
            raise InvalidInput(f"The query order mode must be 'active' or 'fixed'; "
                               f"got {repr(mode)[:40]}.")
        pid = clean_id(participant_id, "participant id") if participant_id else _new_pid()
        study = optional_id(study_id, "study id")
        row = {"session_id": secrets.token_urlsafe(32), "participant_id": pid,
               "study_id": study, "mode": mode, "status": "open", "created_at": now(),
               "external_session_id": optional_id(external_session_id, "external session id")}
        with self._write() as db:
            _insert_participant(db, pid, study, row["created_at"])  # consent = session start
            db["sessions"].insert(row)
        return row["session_id"]

    def get_session(self, session_id: str) -> SessionRecord:
        """The session; raises `UnknownSession` for a missing, malformed or forged id."""
        return _session(self._db, session_id)

    def finish_session(self, session_id: str, completion_code: str | None = None,
                       min_answers: int = 0) -> str:
        """Close the session and return its completion code (`completion_code`, e.g. the
        study's Prolific code, or a random one). Idempotent: a second call returns the same
        code. Raises `NotEnoughAnswers` while the session has fewer than `min_answers` real
        answers (live A, B or tie answers to pairs other than attention-check repeats; a skip
        is not an answer)."""
        code = optional_id(completion_code, "completion code") or secrets.token_hex(4).upper()
        with self._write() as db:
            session = _session(db, session_id)
            if session.finished and session.completion_code:
                return session.completion_code
            if min_answers > 0:
                real = db.execute(
                    "SELECT COUNT(*) FROM labels WHERE session_id = ? AND undone_at IS NULL AND "
                    "choice != 'skip' AND pair_id NOT LIKE ?",
                    [session_id, "%" + REPEAT_SUFFIX]).fetchone()[0]
                if real < min_answers:
                    raise NotEnoughAnswers(
                        f"This study asks for at least {min_answers} answers (A, B or tie) "
                        f"before it gives a completion code; this session has {real}. Answer "
                        "a few more pairs, then finish.")
            db.execute("UPDATE sessions SET status = 'finished', finished_at = ?, "
                       "completion_code = ? WHERE session_id = ?", [now(), code, session_id])
        return code

    def resume(self, session_id: str) -> ResumeState:
        """The session and its live labels in order, to continue after a reload."""
        with self._read() as db:
            return ResumeState(_session(db, session_id), tuple(_labels(db, session_id, True)))

    # -- labels --------------------------------------------------------------------------

    def add_label(self, session_id: str, pair_id: str, *, prompt: str, response_a: str,
                  response_b: str, choice: Choice, shown_order: ShownOrder,
                  seconds: float | None = None, query_order: Mode | None = None,
                  model_version: str | None = None, app_version: str | None = None
                  ) -> LabelRecord:
        """Store one answer, committed before returning. `response_a`/`response_b` are the
        texts as shown; `shown_order` says which underlying response was on side A; `seconds`
        is the time taken to answer; `query_order` how the pair was chosen ('active': by the
        model's query selector, 'fixed': the pack's order); `model_version` the sha256 of the
        weights that chose an active query and `app_version` the serving app's code version
        (both short ids, kept for the export). Raises `InvalidChoice`, `InvalidInput`,
        `UnknownSession`, `SessionFinished`, or `DuplicateLabel` when the pair already has a
        live label in this session (undo it first)."""
        choice = check_choice(choice)
        if shown_order not in get_args(ShownOrder):
            raise InvalidInput(f"The shown order must be 'AB' or 'BA'; got "
                               f"{repr(shown_order)[:40]}.")
        if query_order is not None and query_order not in get_args(Mode):
            raise InvalidInput(f"The query order must be 'active' or 'fixed'; got "
                               f"{repr(query_order)[:40]}.")
        if seconds is not None and (isinstance(seconds, bool) or not isinstance(
                seconds, (int, float)) or not math.isfinite(seconds) or seconds < 0):
            raise InvalidInput(f"The time to label must be a non-negative number of seconds; "
                               f"got {repr(seconds)[:40]}.")
        row: dict[str, Any] = {
            "session_id": session_id, "pair_id": clean_id(pair_id, "pair id"),
            "prompt": clean_text(prompt, "prompt"),
            "response_a": clean_text(response_a, "response A"),
            "response_b": clean_text(response_b, "response B"),
            "shown_order": shown_order, "choice": choice,
            "seconds": None if seconds is None else float(seconds),
            "created_at": now(), "undone_at": None, "query_order": query_order,
            "model_version": optional_id(model_version, "model version"),
            "app_version": optional_id(app_version, "app version")}
        duplicate = (f"Pair {row['pair_id']!r} already has an answer in this session; "
                     "undo it first to change the answer.")
        with self._write() as db:
            if _session(db, session_id).finished:
                raise SessionFinished("This session is finished and takes no more labels. "
                                      "Start a new session to label more pairs.")
            if db.execute("SELECT 1 FROM labels WHERE session_id = ? AND pair_id = ? AND "
                          "undone_at IS NULL", [session_id, row["pair_id"]]).fetchone():
                raise DuplicateLabel(duplicate)
            row["position"] = db.execute("SELECT COUNT(*) FROM labels WHERE session_id = ? "
                                         "AND undone_at IS NULL", [session_id]).fetchone()[0]
            try:
                label_id = db["labels"].insert(row).last_rowid
            except sqlite3.IntegrityError as exc:
                raise DuplicateLabel(duplicate) from exc
        return LabelRecord(id=label_id, **row)

    def undo_last_label(self, session_id: str) -> LabelRecord | None:
        """Mark the latest live label undone (the row stays for the audit trail) and return
        it, or None when there is nothing to undo. Refused on a finished session."""
        with self._write() as db:
            if _session(db, session_id).finished:
                raise SessionFinished("This session is finished, so its answers can no longer "
                                      "be changed.")
            rows = list(db.query("SELECT * FROM labels WHERE session_id = ? AND undone_at IS "
                                 "NULL ORDER BY position DESC, id DESC LIMIT 1", [session_id]))
            if not rows:
                return None
            undone_at = now()
            db.execute("UPDATE labels SET undone_at = ? WHERE id = ?", [undone_at, rows[0]["id"]])
        return LabelRecord(**{**rows[0], "undone_at": undone_at})

    def labels(self, session_id: str, live_only: bool = True) -> list[LabelRecord]:
        """The session's labels: live ones by position, or (`live_only=False`) every row,
        undone ones included, in the order they were written."""
        with self._read() as db:
            _session(db, session_id)
            return _labels(db, session_id, live_only)

    def all_labels(self, live_only: bool = True) -> list[tuple[SessionRecord, LabelRecord]]:
        """Every label with its session, by session start then position (for exports)."""
        with self._read() as db:
            rows = db.query(
                "SELECT s.session_id AS s_session_id, s.participant_id, s.study_id, "
                "s.external_session_id, s.mode, s.status, s.created_at AS s_created_at, "
                "s.finished_at, s.completion_code, l.* FROM labels l JOIN sessions s USING "
                f"(session_id) {'WHERE l.undone_at IS NULL' if live_only else ''} "
                "ORDER BY s.created_at, s.session_id, l.position, l.id")
            return [(SessionRecord(r.pop("s_session_id"), r.pop("participant_id"),
                                   r.pop("study_id"), r.pop("external_session_id"),
                                   r.pop("mode"), r.pop("status"), r.pop("s_created_at"),
                                   r.pop("finished_at"), r.pop("completion_code")),
                     LabelRecord(**r)) for r in rows]

    # -- rankings and events ---------------------------------------------------------------

    def add_ranking(self, session_id: str, prompt: str, candidates: Sequence[str],
                    results: Mapping[str, Any]) -> int:
        """Store one re-ranking: the candidates and, per model, its `[{response, score}]`
        list. Allowed on finished sessions (ranking follows labelling). Returns the row id."""
        if isinstance(candidates, str) or not all(isinstance(c, str) for c in candidates):
            raise InvalidInput("The candidates must be a list of texts.")
        row = {"session_id": session_id, "prompt": clean_text(prompt, "prompt"),
               "candidates": to_json([clean_text(c, "candidate") for c in candidates],
                                      "candidate list"),
               "results": to_json(dict(results), "ranking results"), "created_at": now()}
        with self._write() as db:
            _session(db, session_id)
            return db["rankings"].insert(row).last_rowid

    def log_event(self, kind: str, payload: Mapping[str, Any] | None = None, *,
                  session_id: str | None = None) -> int:
        """Append an audit event (e.g. "consent", "resume", "export"). Payloads carrying IP
        addresses, user agents, headers or cookies are refused. Returns the row id."""
        payload = dict(payload or {})
        private = private_keys(payload)
        if private:
            raise InvalidInput(f"Event payloads must not carry identifying request data; drop "
                               f"the field(s) {', '.join(sorted(map(str, private)))}.")
        row = {"session_id": session_id, "kind": clean_id(kind, "event kind"),
               "payload": to_json(payload, "event payload"), "created_at": now()}
        with self._write() as db:
            if session_id is not None:
                _session(db, session_id)
            return db["events"].insert(row).last_rowid

    def events(self, session_id: str | None = None) -> list[dict[str, Any]]:
        """Logged events (all, or one session's), oldest first, payloads decoded."""
        where, params = ("WHERE session_id = ?", [session_id]) if session_id else ("", [])
        rows = self._db.query(f"SELECT * FROM events {where} ORDER BY id", params)
        return [{**r, "payload": json.loads(r["payload"])} for r in rows]

    # -- study statistics ----------------------------------------------------------------------

    def sessions_overview(self) -> list[dict[str, Any]]:
        """Every session with its participant's consent time, by session start: the keys of
        `SessionRecord` plus `consented_at` (for exports; `session_id` is the secret id)."""
        rows = self._db.query(
            "SELECT s.*, p.consented_at FROM sessions s JOIN participants p USING "
            "(participant_id) ORDER BY s.created_at, s.session_id")
        return [dict(r) for r in rows]

    def all_rankings(self) -> list[dict[str, Any]]:
        """Every stored re-ranking with its session id, oldest first; `candidates` and
        `results` decoded."""
        rows = self._db.query("SELECT r.*, s.participant_id, s.study_id FROM rankings r JOIN "
                              "sessions s USING (session_id) ORDER BY r.id")
        return [{**r, "candidates": json.loads(r["candidates"]),
                 "results": json.loads(r["results"])} for r in rows]

    def counts_per_participant(self) -> list[ParticipantCount]:
        """Sessions, finished sessions and live labels per participant, by participant id;
        `n_labels` counts every live label, `n_answers` only A/B answers (attention repeats
        left out), `n_ties` and `n_skips` the rest."""
        rows = self._db.query("""
            SELECT p.participant_id, p.study_id,
              (SELECT COUNT(*) FROM sessions s WHERE s.participant_id = p.participant_id)
                AS n_sessions,
              (SELECT COUNT(*) FROM sessions s WHERE s.participant_id = p.participant_id
                AND s.status = 'finished') AS n_finished,
              (SELECT COUNT(*) FROM labels l JOIN sessions s USING (session_id)
                WHERE s.participant_id = p.participant_id AND l.undone_at IS NULL) AS n_labels,
              (SELECT COUNT(*) FROM labels l JOIN sessions s USING (session_id)
                WHERE s.participant_id = p.participant_id AND l.undone_at IS NULL
                AND l.choice IN ('A', 'B') AND l.pair_id NOT LIKE :repeat) AS n_answers,
              (SELECT COUNT(*) FROM labels l JOIN sessions s USING (session_id)
                WHERE s.participant_id = p.participant_id AND l.undone_at IS NULL
                AND l.choice = 'tie' AND l.pair_id NOT LIKE :repeat) AS n_ties,
              (SELECT COUNT(*) FROM labels l JOIN sessions s USING (session_id)
                WHERE s.participant_id = p.participant_id AND l.undone_at IS NULL
                AND l.choice = 'skip') AS n_skips
            FROM participants p ORDER BY p.participant_id""", {"repeat": "%" + REPEAT_SUFFIX})
        return [ParticipantCount(**r) for r in rows]

    def attention_agreement(self) -> AttentionReport:
        """Agreement on attention checks: a pair shown again as `<pair_id>#repeat`. Answers
        are compared by the TEXT preferred (sides are randomised per showing); a tie on either
        showing is not agreement (see `AttentionCheck`); checks with a skip are not judged."""
        return attention_report(self.all_labels(live_only=True))

    # -- backup and integrity ----------------------------------------------------------------

    def backup(self, dest_path: str | os.PathLike[str]) -> Path:
        """Copy the live database to `dest_path` (``app.store_backup.backup``)."""
        return backup(self._db.conn, dest_path)

    @classmethod
    def restore(cls, backup_path: str | os.PathLike[str], dest_path: str | os.PathLike[str],
                *, overwrite: bool = False) -> Store:
        """Restore a `backup()` into `dest_path` (``app.store_backup.restore``) and return the
        opened store."""
        return cls.open(restore(backup_path, dest_path, overwrite=overwrite))

    def integrity_check(self) -> bool:
        """True when SQLite's integrity check and foreign-key check both pass."""
        db = self._db
        ok = db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return ok and not db.execute("PRAGMA foreign_key_check").fetchall()


def _new_pid() -> str:
    return f"anon-{secrets.token_hex(8)}"


def _insert_participant(db: Database, participant_id: str, study_id: str | None,
                        at: str | None = None) -> None:
    db.execute("INSERT INTO participants VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
               [participant_id, study_id, at or now()])


def _session(db: Database, session_id: object) -> SessionRecord:
    if not isinstance(session_id, str) or not _SESSION_ID.fullmatch(session_id):
        raise UnknownSession(_UNKNOWN_SESSION)
    rows = list(db.query("SELECT * FROM sessions WHERE session_id = ?", [session_id]))
    if not rows or not hmac.compare_digest(rows[0]["session_id"].encode(), session_id.encode()):
        raise UnknownSession(_UNKNOWN_SESSION)
    return SessionRecord(**rows[0])


def _labels(db: Database, session_id: str, live_only: bool) -> list[LabelRecord]:
    sql = ("SELECT * FROM labels WHERE session_id = ? AND undone_at IS NULL ORDER BY position, id"
           if live_only else "SELECT * FROM labels WHERE session_id = ? ORDER BY id")
    return [LabelRecord(**r) for r in db.query(sql, [session_id])]
