"""The active-querying report (``bench/active_report.py``) re-renders the shipped
``docs/results/active*.md`` byte for byte from their JSON."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "docs" / "results"
sys.path.insert(0, str(ROOT))

from bench.active_report import markdown  # noqa: E402


@pytest.mark.parametrize("name", ["active", "active_rows", "active_survey16"])
def test_the_report_renders_the_shipped_markdown(name: str, tmp_path: Path) -> None:
    for path in RESULTS.glob("active*.json"):
        shutil.copy(path, tmp_path / path.name)
    result = json.loads((tmp_path / f"{name}.json").read_text())
    assert markdown(result, name, tmp_path) == (RESULTS / f"{name}.md").read_text()
