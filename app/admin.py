"""``python -m app.admin``: the study owner's tools on the label database (shell access is the
credential here; the web UI's equivalents need ``SPL_ADMIN_TOKEN``).

Verbs: ``backup`` (a consistent snapshot through SQLite's online backup API, safe while the
server writes), ``restore`` (refuses to replace a database without ``--force``), ``export``
(jsonl | csv | trl | rankings), ``stats`` (counts, attention checks and each session's
quality flags, JSON) and ``delete`` (remove one
participant and everything stored for them). ``--db`` defaults to ``SPL_DB`` (or
``/data/spl.db`` on a ``/data`` volume, else ``data/spl.db``), like the app.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from dataclasses import asdict
from pathlib import Path

import click

from app.store import Store, StoreError, default_db_path
from spl_model.atomic import atomic_write

__all__ = ["cli", "delete_participant", "main"]

_DB_OPTION = click.option(
    "--db", "db_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="The label database. [default: SPL_DB, /data/spl.db or data/spl.db]")


def _existing_db(db_path: Path | None) -> Path:
    path = db_path or default_db_path()
    if not path.is_file():
        raise click.ClickException(f"There is no database at {path}; give the path the app "
                                   "uses (SPL_DB) with --db.")
    return path


def _open(db_path: Path | None) -> Store:
    try:
        return Store.open(_existing_db(db_path))
    except StoreError as err:
        raise click.ClickException(str(err)) from None


def _write_atomic(dest: Path, data: bytes) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(dest, data)


def delete_participant(store: Store, participant_id: str) -> dict[str, int]:
    """Delete a participant, their sessions and every label, ranking and event of those
    sessions, in one transaction; returns the number of rows deleted per table. Raises
    ``StoreError`` when the participant is unknown."""
    conn = sqlite3.connect(store.path, timeout=store.busy_timeout)
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("BEGIN IMMEDIATE")
        if conn.execute("SELECT 1 FROM participants WHERE participant_id = ?",
                        [participant_id]).fetchone() is None:
            raise StoreError("There is no participant with this id; `python -m app.admin "
                             "stats` lists them.")
        sessions = "(SELECT session_id FROM sessions WHERE participant_id = ?)"
        counts = {}
        for table in ("labels", "rankings", "events"):
            counts[table] = conn.execute(f"DELETE FROM {table} WHERE session_id IN {sessions}",
                                         [participant_id]).rowcount
        counts["sessions"] = conn.execute("DELETE FROM sessions WHERE participant_id = ?",
                                          [participant_id]).rowcount
        counts["participants"] = conn.execute("DELETE FROM participants WHERE "
                                              "participant_id = ?", [participant_id]).rowcount
        conn.commit()
        return counts
    except sqlite3.Error as err:
        conn.rollback()
        raise StoreError("The participant could not be deleted: the database is busy or "
                         "damaged; try again.") from err
    except BaseException:
        conn.rollback()
        raise
    finally:
        conn.close()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Back up, restore, export and prune the demo's label database.

    \b
    Example:
      python -m app.admin backup --db data/spl.db --out backups/spl-2026-11-27.db
      python -m app.admin export --db data/spl.db --format trl --out trl.jsonl
    """


@cli.command()
@_DB_OPTION
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The snapshot file to write (a self-contained SQLite file).")
@click.option("--force", is_flag=True, help="Replace --out if it exists.")
def backup(db_path: Path | None, out: Path, force: bool) -> None:
    """Write a consistent snapshot of the live database (safe while the app is serving).

    \b
    Example:
      python -m app.admin backup --db /data/spl.db --out /data/backups/spl.db
    """
    if out.exists() and not force:
        raise click.ClickException(f"{out} already exists; pass --force to replace it.")
    with _open(db_path) as store:
        try:
            store.backup(out)
        except StoreError as err:
            raise click.ClickException(str(err)) from None
    click.echo(f"Wrote {out}")


@cli.command()
@click.option("--backup", "backup_path", required=True,
              type=click.Path(dir_okay=False, path_type=Path), help="A file written by backup.")
@_DB_OPTION
@click.option("--force", is_flag=True, help="Replace an existing database at --db.")
def restore(backup_path: Path, db_path: Path | None, force: bool) -> None:
    """Restore a snapshot into --db (checked first). Stop the app before replacing its database.

    \b
    Example:
      python -m app.admin restore --backup /data/backups/spl.db --db /data/spl.db --force
    """
    dest = db_path or default_db_path()
    if not backup_path.is_file():
        raise click.ClickException(f"There is no backup file at {backup_path}.")
    if dest.exists() and dest.stat().st_size > 0 and not force:
        raise click.ClickException(f"{dest} already holds a database; pass --force to replace "
                                   "it (stop the app first).")
    try:
        Store.restore(backup_path, dest, overwrite=force).close()
    except StoreError as err:
        raise click.ClickException(str(err)) from None
    click.echo(f"Restored {backup_path} into {dest}")


_QUALITY_OPTIONS = (
    click.option("--fast-seconds", type=float, default=None,
                 help="Flag sessions whose median time per answer is below this. "
                 "[default: SPL_FAST_SECONDS or 2]"),
    click.option("--min-answers", type=int, default=None,
                 help="Flag sessions with fewer real answers (A, B, tie). "
                 "[default: SPL_MIN_ANSWERS or 0]"),
)


def _quality(fast_seconds: float | None, min_answers: int | None) -> dict[str, float | int]:
    from app.settings import Settings

    try:
        quality = Settings.from_env().quality
    except ValueError as err:
        raise click.ClickException(str(err)) from None
    if fast_seconds is not None:
        quality["fast_seconds"] = fast_seconds
    if min_answers is not None:
        quality["min_answers"] = min_answers
    return quality


def _with_quality(command):  # type: ignore[no-untyped-def]
    for option in reversed(_QUALITY_OPTIONS):
        command = option(command)
    return command


@cli.command()
@_DB_OPTION
@click.option("--format", "kind", type=click.Choice(["jsonl", "csv", "trl", "rankings"]),
              default="jsonl", show_default=True,
              help="labels as JSON Lines, as CSV, TRL preference rows, or the Rank tab's "
              "rankings as JSON Lines.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="File to write. [default: standard output]")
@_with_quality
def export(db_path: Path | None, kind: str, out: Path | None, fast_seconds: float | None,
           min_answers: int | None) -> None:
    """Export the live labels (undone answers stay in the database only). Label rows carry
    consent, finish and completion code, model and app versions and session quality flags;
    `python -m train data import` reads them unchanged.

    \b
    Example:
      python -m app.admin export --db data/spl.db --format csv --out labels.csv
    """
    from app.export import export_text

    quality = _quality(fast_seconds, min_answers) if kind in ("jsonl", "csv") else {}
    with _open(db_path) as store:
        text = export_text(store, kind, **quality)  # type: ignore[arg-type]
    if out is None:
        click.echo(text, nl=False)
        return
    _write_atomic(out, text.encode("utf-8-sig" if kind == "csv" else "utf-8"))
    click.echo(f"Wrote {out}", err=True)


@cli.command()
@_DB_OPTION
@_with_quality
def stats(db_path: Path | None, fast_seconds: float | None, min_answers: int | None) -> None:
    """Counts per participant, attention-check agreement (a tie is not agreement) and each
    session's answers, ties, skips, median seconds and quality flags, as JSON.

    \b
    Example:
      python -m app.admin stats --db data/spl.db
    """
    from app.export import session_quality

    quality = _quality(fast_seconds, min_answers)
    with _open(db_path) as store:
        report = store.attention_agreement()
        sessions = session_quality(store, **quality)  # type: ignore[arg-type]
        flagged: dict[str, int] = {}
        for session in sessions:
            for flag in session["flags"]:
                flagged[flag] = flagged.get(flag, 0) + 1
        out = {"participants": [asdict(c) for c in store.counts_per_participant()],
               "attention": {"overall_agreement": report.overall,
                             "n_judged_sessions": report.n_judged},
               "answers": {"ab": sum(x["n_answers"] for x in sessions),
                           "ties": sum(x["n_ties"] for x in sessions),
                           "skips": sum(x["n_skips"] for x in sessions),
                           "attention_repeats": sum(x["n_attention_repeats"] for x in sessions)},
               "flagged_sessions": flagged, "thresholds": quality, "sessions": sessions,
               "integrity_ok": store.integrity_check()}
    click.echo(json.dumps(out, indent=1))


@cli.command()
@_DB_OPTION
@click.option("--participant", required=True, help="The participant id to delete.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def delete(db_path: Path | None, participant: str, yes: bool) -> None:
    """Delete one participant: their sessions, labels, rankings and events. Back up first:
    the rows are gone for good (the audit trail of undone answers included).

    \b
    Example:
      python -m app.admin delete --db data/spl.db --participant 5f1c0a --yes
    """
    if not yes:
        click.confirm(f"Delete participant {participant!r} and all their data?", abort=True)
    with _open(db_path) as store:
        try:
            counts = delete_participant(store, participant)
        except StoreError as err:
            raise click.ClickException(str(err)) from None
    click.echo(json.dumps({"deleted": counts}))


def main() -> None:
    cli(prog_name="python -m app.admin")


if __name__ == "__main__":
    sys.exit(main())
