"""The README's personalization figures are the ones ``make personalize`` wrote.

The README quotes ``docs/results/personalize.json`` and ``docs/results/persona_check.json`` by
hand; these tests read its table and sentences back and compare them with the files, so a
refit that changes a number cannot leave the README telling the old story.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
PROSE = " ".join(README.split())  # sentences wrap anywhere
RESULTS = ROOT / "docs" / "results"
REPORT = json.loads((RESULTS / "personalize.json").read_text(encoding="utf-8"))

# README row label (its start) -> key in personalize.json's "accuracy"
ROWS = {
    "Bayes ceiling": "bayes",
    "Bayes on the embeddings' linear read-out": "bayes_readout",
    "oracle": "oracle",
    "low-rank baseline": "lowrank",
    "SPL |": "spl",
    "SPL, latent refined": "spl+refine",
    "VPL |": "vpl",
    "VPL, latent refined": "vpl+refine",
    "BTL": "btl",
}


def _table_row(label: str) -> list[float]:
    """The numbers of the README table row starting with ``| label``."""
    for line in README.splitlines():
        if line.startswith(f"| {label}"):
            return [float(cell) for cell in line.strip("|").split("|")[1:]]
    raise AssertionError(f"README has no table row starting with '| {label}'")


def test_the_table_header_is_the_reports_k() -> None:
    header = next(line for line in README.splitlines() if line.startswith("| | k=0"))
    assert header == "| | " + " | ".join(f"k={k}" for k in REPORT["k"]) + " |"


@pytest.mark.parametrize("label, key", ROWS.items())
def test_every_readme_row_is_the_reports(label: str, key: str) -> None:
    expected = [round(a, 3) for a in REPORT["accuracy"][key]]
    assert _table_row(label) == pytest.approx(expected, abs=5e-4), key


def test_the_sentences_quote_the_report() -> None:
    personas = REPORT["personas_k2"]
    assert f"SPL {personas['spl']:.3f}, Bayes {personas['bayes']:.3f}" in PROSE
    assert f"expected calibration error {REPORT['confidence_ece']:.3f}" in PROSE
    assert f"saves {round(100 * REPORT['labels_saved_active'])}% of the labels" in PROSE


def test_the_persona_sentence_quotes_the_check() -> None:
    hits = json.loads((RESULTS / "persona_check.json").read_text(encoding="utf-8"))["hits"]
    assert f"the long, warm answer first on {hits['spl']['long']} of 4" in PROSE
    assert f"the terse answer first on {hits['spl']['terse']} of 4" in PROSE


def test_the_committed_report_markdown_renders_from_its_json() -> None:
    from train.personalize import _markdown

    rendered = _markdown(REPORT, "personalize.png")
    assert rendered == (RESULTS / "personalize.md").read_text(encoding="utf-8")
