"""The collapse rule has one home (``spl_model.metrics.latent_collapsed``) that the trainer's
report, the study table and the app's model card all read."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from spl_model.metrics import COLLAPSE_SHARE, latent_collapsed

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("module", ["train/report.py", "train/study_report.py", "app/runs.py"])
def test_every_reader_calls_the_one_rule_and_keeps_no_threshold(module: str) -> None:
    tree = ast.parse((ROOT / module).read_text(encoding="utf-8"))
    called = {n.func.id for n in ast.walk(tree)
              if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    assert "latent_collapsed" in called
    numbers = [c.value for n in ast.walk(tree) if isinstance(n, ast.Compare)
               for c in n.comparators if isinstance(c, ast.Constant) and c.value == COLLAPSE_SHARE]
    assert numbers == []


@pytest.mark.parametrize("share, verdict", [(None, None), (0.0, True), (0.09, True),
                                            (COLLAPSE_SHARE, False), (0.5, False)])
def test_the_model_card_shows_the_rules_verdict(share: float | None, verdict: bool | None) -> None:
    from app.runs import _latent_rows

    report = {} if share is None else {"active_units_z": 1, "active_units_z_share": share}
    assert latent_collapsed(report) is verdict
    row = next(r for r in _latent_rows(report, 16) if r.startswith("| latent collapsed"))
    expected = {None: "unknown", True: "**yes**", False: "no:"}[verdict]
    assert row.split("| ")[2].startswith(expected)
