"""The store's schema as numbered migrations (applied in order by ``Store.open``).

Re-exported by ``app.store``; add a migration by appending a ``Migration`` to ``MIGRATIONS``.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MIGRATIONS", "Migration", "SCHEMA_VERSION_TABLE"]


@dataclass(frozen=True)
class Migration:
    """One schema step; `version` counts from 1 and the steps are applied in order."""

    version: int
    name: str
    statements: tuple[str, ...]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "initial schema", (
        """CREATE TABLE participants (
            participant_id TEXT PRIMARY KEY, study_id TEXT, consented_at TEXT NOT NULL)""",
        """CREATE TABLE sessions (
            session_id TEXT PRIMARY KEY,
            participant_id TEXT NOT NULL REFERENCES participants(participant_id),
            study_id TEXT, external_session_id TEXT,
            mode TEXT NOT NULL CHECK (mode IN ('active', 'fixed')),
            status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'finished')),
            created_at TEXT NOT NULL, finished_at TEXT, completion_code TEXT)""",
        "CREATE INDEX sessions_participant ON sessions(participant_id)",
        """CREATE TABLE labels (
            id INTEGER PRIMARY KEY,
            session_id TEXT NOT NULL REFERENCES sessions(session_id),
            pair_id TEXT NOT NULL, position INTEGER NOT NULL,
            prompt TEXT NOT NULL, response_a TEXT NOT NULL, response_b TEXT NOT NULL,
            shown_order TEXT NOT NULL CHECK (shown_order IN ('AB', 'BA')),
            choice TEXT NOT NULL CHECK (choice IN ('A', 'B', 'tie', 'skip')),
            seconds REAL CHECK (seconds IS NULL OR seconds >= 0),
            created_at TEXT NOT NULL, undone_at TEXT)""",
        # a pair has at most one live label per session; undone rows stay for the audit trail
        """CREATE UNIQUE INDEX labels_live_pair ON labels(session_id, pair_id)
            WHERE undone_at IS NULL""",
        "CREATE INDEX labels_session_position ON labels(session_id, position)",
        """CREATE TABLE rankings (
            id INTEGER PRIMARY KEY,
            session_id TEXT NOT NULL REFERENCES sessions(session_id), prompt TEXT NOT NULL,
            candidates TEXT NOT NULL CHECK (json_valid(candidates)),
            results TEXT NOT NULL CHECK (json_valid(results)), created_at TEXT NOT NULL)""",
        """CREATE TABLE events (
            id INTEGER PRIMARY KEY, session_id TEXT REFERENCES sessions(session_id),
            kind TEXT NOT NULL, payload TEXT NOT NULL CHECK (json_valid(payload)),
            created_at TEXT NOT NULL)""",
        "CREATE INDEX events_session ON events(session_id)",
    )),
    # how each label's pair was chosen: by the active selector, or the pack's fixed order
    # (NULL for labels written before this migration)
    Migration(2, "labels.query_order", (
        """ALTER TABLE labels ADD COLUMN query_order TEXT
            CHECK (query_order IS NULL OR query_order IN ('active', 'fixed'))""",
    )),
    # which model chose an active query (sha256 of the SPL weights) and which app served the
    # pair (its code version); NULL for labels written before this migration
    Migration(3, "labels.model_version, labels.app_version", (
        "ALTER TABLE labels ADD COLUMN model_version TEXT",
        "ALTER TABLE labels ADD COLUMN app_version TEXT",
    )),
)
SCHEMA_VERSION_TABLE = """CREATE TABLE IF NOT EXISTS schema_version (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"""
