"""The Models tab's card: one collapse verdict, the same as the trainer's (issue 12).

The card used to call a latent collapsed only when no unit of z varied, while report.json and
the study called it collapsed below a 10% share; and it listed the paper's count
(``active_units``: 0 on SPL's m_K) right above "latent collapsed: no".
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from app.runs import load_run, model_card
from spl_model import COLLAPSE_SHARE, latent_collapsed

RUNS = Path(__file__).resolve().parents[2] / "assets" / "runs"


def _verdict_row(card: str) -> str:
    return next(line for line in card.splitlines() if line.startswith("| latent collapsed |"))


@pytest.mark.parametrize("active_z", [0, 1, 2, 6])  # of 16: 0%, 6.25%, 12.5%, 37.5%
def test_the_card_and_the_report_give_one_verdict(active_z: int) -> None:
    run = load_run(RUNS / "spl")
    report = {**run.report, "active_units_z": active_z, "active_units_z_share": active_z / 16}
    verdict = latent_collapsed(report)
    assert verdict == (active_z / 16 < COLLAPSE_SHARE)
    row = _verdict_row(model_card(dataclasses.replace(run, report=report)))
    assert row.startswith("| latent collapsed | **yes**") == verdict, row
    assert row.startswith("| latent collapsed | no: ") == (not verdict), row


def test_the_shipped_reports_agree_with_the_definition() -> None:
    for kind in ("spl", "vpl"):
        report = load_run(RUNS / kind).report
        assert report["collapsed"] == latent_collapsed(report), kind


def test_every_active_unit_count_on_the_card_names_its_vector() -> None:
    """The case of the issue: z in use (6 of 16 units) while the paper's m_K counts 0."""
    run = load_run(RUNS / "spl")
    report = {**run.report, "active_units_z": 6, "active_units_z_share": 6 / 16,
              "active_units": 0, "active_units_share": 0.0}
    card = model_card(dataclasses.replace(run, report=report))
    rows = [line for line in card.splitlines() if "active" in line]
    assert "| active_units |" not in card and "| active_units_share |" not in card
    assert any("of z" in r and "6 of 16" in r for r in rows)
    assert any("m_K" in r and "0 of 16" in r for r in rows)
    assert all("of z" in r or "m_K" in r for r in rows), rows
    assert "no: 38% of the units of z vary" in _verdict_row(card)


def test_a_report_without_a_z_measure_reads_unknown() -> None:
    run = load_run(RUNS / "spl")
    report = {k: v for k, v in run.report.items() if not k.startswith("active_units_z")}
    assert latent_collapsed(report) is None
    assert "unknown" in _verdict_row(model_card(dataclasses.replace(run, report=report)))


@pytest.mark.parametrize("changes, expected", [
    ({}, "linear in the response embedding, modulated by z (FiLM), plus a personal term z . (U x)"),
    ({"linear_reward": False, "latent_head": False}, "an MLP of the response embedding, modulated by z (FiLM)"),
    ({"kind": "vpl", "linear_reward": False, "latent_head": False}, "an MLP of the response embedding and z"),
    ({"kind": "vpl"}, "linear in the response embedding, plus a personal term z . (U x)"),
    ({"kind": "btl"}, "linear in the response embedding"),
])
def test_the_card_says_how_the_reward_reads_a_response(changes, expected) -> None:
    run = load_run(RUNS / "spl")
    assert run.model.cfg.linear_reward and run.model.cfg.latent_head  # the shipped demo
    cfg = dataclasses.replace(run.model.cfg, **changes)
    model = dataclasses.replace(run, model=type("M", (), {"cfg": cfg})())
    assert f"- reward: {expected}\n" in model_card(model)
