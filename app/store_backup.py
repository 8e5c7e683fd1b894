"""The store's backup and restore through SQLite's online backup API, and its schema version.

Used by ``app.store`` (``Store.backup`` / ``Store.restore``) and the admin CLI through it.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from sqlite_utils import Database

from app.records import SchemaTooNew, StoreError
from app.schema import MIGRATIONS
from spl_model.atomic import atomic_write

__all__ = ["backup", "db_version", "restore"]


def db_version(db: Database) -> int:
    """The schema version a database is at (0 before any migration)."""
    if not db["schema_version"].exists():
        return 0
    return db.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()[0]


def backup(conn: sqlite3.Connection, dest_path: str | os.PathLike[str]) -> Path:
    """Copy the live database to `dest_path` with SQLite's online backup API (consistent
    while other threads write; never a file copy). The copy is a single self-contained
    file (rollback journal, not WAL), written atomically (``spl_model.atomic``)."""
    dest = Path(dest_path)
    dest.parent.mkdir(parents=True, exist_ok=True)

    def copy(tmp: Path) -> None:
        target = sqlite3.connect(tmp)
        try:
            conn.backup(target)
            target.execute("PRAGMA journal_mode = DELETE")
        finally:
            target.close()

    try:
        atomic_write(dest, copy)
    except (sqlite3.Error, OSError) as exc:
        raise StoreError("The backup could not be written; check that the destination "
                         "folder exists, is writable and has free space.") from exc
    return dest


def restore(backup_path: str | os.PathLike[str], dest_path: str | os.PathLike[str],
            *, overwrite: bool = False) -> Path:
    """Restore a `backup()` into `dest_path` (through the backup API, in one transaction)
    and return the opened store. The backup must pass an integrity check; an existing
    destination is replaced only with `overwrite=True`."""
    src_path, dest = Path(backup_path), Path(dest_path)
    if not src_path.is_file():
        raise StoreError("The backup file does not exist.")
    if dest.exists() and dest.stat().st_size > 0 and not overwrite:
        raise StoreError("The restore destination already holds a database; pass "
                         "overwrite=True to replace it.")
    src = sqlite3.connect(f"{src_path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        if src.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise StoreError("The backup is damaged (it fails SQLite's integrity check).")
        version = db_version(Database(src, execute_plugins=False))
        if version > (MIGRATIONS[-1].version if MIGRATIONS else 0):
            raise SchemaTooNew(f"The backup has schema version {version}, newer than this "
                               "version of the app knows. Upgrade the app to restore it.")
        dest.parent.mkdir(parents=True, exist_ok=True)
        target = sqlite3.connect(dest, timeout=10.0)
        try:
            src.backup(target)
        finally:
            target.close()
    except sqlite3.Error as exc:
        raise StoreError("The backup could not be restored: it is not a readable SQLite "
                         "database, or the destination is busy.") from exc
    finally:
        src.close()
    return dest
