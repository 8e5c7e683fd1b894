"""Tests for app.figures: plot frames and the ranking table (escaping, disagreement)."""

from __future__ import annotations

from pathlib import Path

from app.figures import (CONFIDENCE_LABEL, SAMPLES, YOU, confidence_frame, latent_frame,
                         ranking_html)


def test_latent_frame_groups_types_samples_and_visitor() -> None:
    lmap = {"points": [{"x": 1.0, "y": 2.0, "user_type": "concise"},
                       {"x": 0.0, "y": 1.0, "user_type": "friendly"}]}
    you = {"x": 0.5, "y": 0.5, "samples": [[0.4, 0.6], [0.6, 0.4]]}
    frame = latent_frame(lmap, you)
    assert list(frame["group"]) == ["concise", "friendly", SAMPLES, SAMPLES, YOU]
    assert len(latent_frame(lmap, None)) == 2


def test_confidence_frame_one_row_per_model_and_answer() -> None:
    frame = confidence_frame([{"n_labels": 0, "confidence": {"spl": 0.5, "vpl": 0.4}},
                              {"n_labels": 1, "confidence": {"spl": 0.7}}])
    assert list(frame["model"]) == ["SPL", "VPL", "SPL"]
    assert list(frame["confidence"]) == [0.5, 0.4, 0.7]


def test_ranking_html_escapes_and_flags_disagreement() -> None:
    evil = '<script>alert("x")</script>'
    results = {"spl": [{"response": evil, "score": 1.0}, {"response": "b & c", "score": 0.5}],
               "vpl": [{"response": evil, "score": 0.2}, {"response": "b & c", "score": 0.1}],
               "btl": [{"response": "b & c", "score": 0.3}, {"response": evil, "score": 0.2}]}
    page = ranking_html(results)
    assert "<script>" not in page and "&lt;script&gt;" in page and "b &amp; c" in page
    assert "The models disagree on the best response" in page
    assert "SPL and VPL pick" in page and "BTL pick" in page
    assert page.count('class="spl-differs"') == 4  # both personalized columns vs BTL
    agree = {k: v for k, v in results.items() if k != "btl"}
    assert "All models agree" in ranking_html(agree)


def test_the_confidence_plot_says_what_the_confidence_measures(service, store, tmp_path: Path) -> None:
    """Issue 12: the plot still said "share of posterior samples that keep the top pick", the
    measure the app replaced with the look-ahead stability (app.service)."""
    from app.settings import Settings
    from app.ui import build_app

    demo = build_app(store, service, Settings(db_path=tmp_path / "spl.db"))
    plot = next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "confidence")
    assert plot.label == CONFIDENCE_LABEL
    assert "posterior samples" not in plot.label
    assert "next answer" in plot.label and "most unsettling question left" in plot.label
