"""Tests for app.figures: plot frames and the ranking table (escaping, disagreement)."""

from __future__ import annotations

from app.figures import SAMPLES, YOU, confidence_frame, latent_frame, ranking_html


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
