"""The app's export and the trainer's importer share one ``REPEAT_SUFFIX`` (spl_model.study_export)."""

from __future__ import annotations

from pathlib import Path

from spl_model.study_export import REPEAT_SUFFIX

ROOT = Path(__file__).resolve().parents[2]


def test_every_user_reads_the_one_constant() -> None:
    import app.records
    import app.service
    import app.store
    import train.data.study_import

    for module in (app.records, app.service, app.store, train.data.study_import):
        assert module.REPEAT_SUFFIX is REPEAT_SUFFIX, module.__name__


def test_the_literal_is_written_once() -> None:
    homes = [str(p.relative_to(ROOT)) for folder in ("app", "train", "spl_model")
             for p in sorted((ROOT / folder).rglob("*.py"))
             if 'SUFFIX = "#repeat"' in p.read_text(encoding="utf-8")]
    assert homes == ["spl_model/study_export.py"]
