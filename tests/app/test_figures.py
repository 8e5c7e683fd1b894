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
    """Issue 12: the plot still said "share of posterior samples that keep the top pick", a
    measure the app no longer shows; it plots the calibrated top-pick probability (app.service)."""
    from app.settings import Settings
    from app.ui import build_app

    demo = build_app(store, service, Settings(db_path=tmp_path / "spl.db"))
    plot = next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "confidence")
    assert plot.label == CONFIDENCE_LABEL
    assert "posterior samples" not in plot.label
    assert "favourite" in plot.label and "top pick" in plot.label


def test_ranking_shows_a_stated_share_not_the_raw_reward() -> None:
    """Raw rewards differ in scale between models and visitors (+8 for one, +1.5 for
    another); the table shows each response's Bradley-Terry win share and says what it is."""
    import math

    from app.figures import win_rates

    wide = {"spl": [{"response": "x", "score": 8.0}, {"response": "y", "score": 0.0}]}
    page = ranking_html(wide)
    sig = 1 / (1 + math.exp(-8.0))
    assert f">{sig:.0%}<" in page and f">{1 - sig:.0%}<" in page
    assert "+8.000</span>" not in page and 'title="raw reward +8.000"' in page
    assert "probability that you prefer it to another candidate" in page
    rates = win_rates([1.5, 0.0, -1.5])
    assert rates[0] > rates[1] > rates[2] and abs(rates[1] - 0.5) < 1e-9
    assert abs(sum(rates) - 1.5) < 1e-9  # each pair's two shares add up to one
    assert win_rates([3.0]) == [0.5] and win_rates([]) == []


def test_latent_text_describes_the_map_and_the_visitor() -> None:
    from app.figures import latent_text

    maps = {"spl": {"points": [{"x": 1.0, "y": 2.0, "user_type": "concise"},
                               {"x": 0.0, "y": 1.0, "user_type": "friendly"}]}}
    before = latent_text({}, maps)
    assert "SPL map" in before and "2 training users of 2 types (concise, friendly)" in before
    assert "appear once you start answering" in before
    you = {"spl": {"x": 0.5, "y": -0.25, "sd": [0.1, 0.2],
                   "type_shares": {"concise": 0.25, "friendly": 0.75}}}
    after = latent_text(you, maps)
    assert "PC 1 = +0.50, PC 2 = -0.25" in after and "±0.10 across" in after
    assert after.index("friendly 75%") < after.index("concise 25%")
    assert latent_text(you, {}) == ""
