"""What a study owner needs to defend an export: versions, consent/finish times, completion
codes, rankings, per-session quality flags, and the fewest answers before a completion code."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from app import handlers as h
from app.admin import cli
from app.export import COLUMNS, export_text, label_rows, rankings_rows, session_quality
from app.service import Service
from app.settings import Settings
from app.store import NotEnoughAnswers, Store


def add(store: Store, sid: str, pair: str, choice: str = "A", seconds: float = 5.0,
        order: str = "AB", a: str | None = None, b: str | None = None) -> None:
    base = pair.removesuffix("#repeat")
    store.add_label(sid, pair, prompt=f"{base} prompt", response_a=a or f"{base} a",
                    response_b=b or f"{base} b", choice=choice, shown_order=order,
                    seconds=seconds)


def flags_by_participant(store: Store, **kw) -> dict[str, list[str]]:
    return {q["participant_id"]: q["flags"] for q in session_quality(store, **kw)}


def test_quality_flags_on_hand_made_sessions(store: Store) -> None:
    good = store.new_session("GOOD")
    for i in range(4):
        add(store, good, f"q{i}", "AB"[i % 2])
    add(store, good, "q0#repeat", "B", order="BA", a="q0 b", b="q0 a")  # same text: passes
    store.finish_session(good)
    skipper = store.new_session("SKIPPER")
    for i in range(8):
        add(store, skipper, f"q{i}", "skip", seconds=0.8)
    store.finish_session(skipper)
    fast = store.new_session("FAST")
    for i in range(4):
        add(store, fast, f"q{i}", "A", seconds=0.5)
    ties = store.new_session("TIES")
    for i in range(3):
        add(store, ties, f"q{i}", "tie")
    add(store, ties, "q0#repeat", "tie")  # tie/tie is not agreement
    empty = store.new_session("EMPTY")
    store.finish_session(empty)
    flags = flags_by_participant(store, min_answers=4)
    assert flags == {"GOOD": [], "SKIPPER": ["all_skips", "too_fast", "too_few_answers"],
                     "FAST": ["too_fast"], "TIES": ["failed_attention", "too_few_answers"],
                     "EMPTY": ["no_answers", "too_few_answers"]}
    quality = {q["participant_id"]: q for q in session_quality(store)}
    assert (quality["TIES"]["n_answers"], quality["TIES"]["n_ties"],
            quality["TIES"]["n_attention_repeats"]) == (0, 3, 1)
    assert quality["SKIPPER"]["n_answers"] == 0 and quality["SKIPPER"]["n_skips"] == 8
    assert quality["GOOD"]["attention"] is True and quality["TIES"]["attention"] is False
    counts = {c.participant_id: (c.n_labels, c.n_answers, c.n_ties, c.n_skips)
              for c in store.counts_per_participant()}
    assert counts["SKIPPER"] == (8, 0, 0, 8) and counts["GOOD"] == (5, 4, 0, 0)


def test_label_rows_carry_consent_finish_code_and_flags(store: Store) -> None:
    sid = store.new_session("P1", study_id="S1")
    add(store, sid, "q1", "A", seconds=0.3)
    code = store.finish_session(sid, "CODE123")
    (row,) = label_rows(store)
    assert list(row) == list(COLUMNS)
    assert row["completion_code"] == "CODE123" and row["finished_at"]
    assert row["consented_at"] <= row["session_started_at"] <= row["created_at"] <= \
        row["finished_at"]
    assert row["session_flags"] == ["too_fast"] and code == "CODE123"
    assert label_rows(store, fast_seconds=0.1)[0]["session_flags"] == []
    assert "too_fast" in export_text(store, "csv").splitlines()[1]


def test_active_labels_record_the_model_and_app_version(store: Store, service: Service) -> None:
    sid = h.start_session(store, "ACTIVE", mode="active")
    for choice in "ABAB":
        pair = h.next_pair(store, service, sid)
        h.label(store, service, sid, pair["pair_id"], choice, seconds=4.0)
    rows = label_rows(store)
    spl = service.runs["spl"].config["weights"]["sha256"]
    assert [r["query_order"] for r in rows] == ["fixed", "active", "active", "active"]
    assert [r["model_version"] for r in rows] == [None, spl, spl, spl]
    assert all(r["app_version"] and r["app_version"] != "" for r in rows)


def test_fewest_answers_before_a_completion_code(store: Store, service: Service) -> None:
    settings = Settings(min_answers=3)
    sid = h.start_session(store, "P2")
    for choice in ("skip", "A", "tie"):
        pair = h.next_pair(store, service, sid)
        h.label(store, service, sid, pair["pair_id"], choice)
    with pytest.raises(NotEnoughAnswers, match="at least 3 answers .* this session has 2"):
        h.finish(store, settings, sid)
    assert not store.get_session(sid).finished
    pair = h.next_pair(store, service, sid)
    h.label(store, service, sid, pair["pair_id"], "B")
    assert h.finish(store, settings, sid)["code"]
    assert Settings.from_env({"SPL_MIN_ANSWERS": "5"}).min_answers == 5
    with pytest.raises(ValueError, match="SPL_MIN_ANSWERS"):
        Settings.from_env({"SPL_MIN_ANSWERS": "five"})


def test_rankings_are_exported(store: Store, service: Service) -> None:
    sid = h.start_session(store, "RANKER")
    h.rank(store, service, sid, "How do I start running?", ["Walk first.", "Run daily."])
    (row,) = rankings_rows(store)
    assert row["participant_id"] == "RANKER" and row["candidates"] == ["Walk first.", "Run daily."]
    assert {"spl", "vpl", "btl"} <= set(row["results"]) and sid not in json.dumps(row)


def test_admin_cli_stats_and_rankings(store: Store, tmp_path) -> None:
    sid = store.new_session("CLI")
    for i in range(3):
        add(store, sid, f"q{i}", "skip", seconds=1.0)
    store.add_ranking(sid, "Hi", ["a", "b"], {"spl": []})
    runner = CliRunner()
    result = runner.invoke(cli, ["stats", "--db", str(store.path), "--min-answers", "2"])
    assert result.exit_code == 0, result.output
    stats = json.loads(result.output)
    assert stats["answers"] == {"ab": 0, "ties": 0, "skips": 3, "attention_repeats": 0}
    assert stats["flagged_sessions"] == {"all_skips": 1, "too_fast": 1, "too_few_answers": 1}
    assert stats["sessions"][0]["flags"] == ["all_skips", "too_fast", "too_few_answers"]
    assert sid not in result.output  # the secret session id never leaves the database
    result = runner.invoke(cli, ["export", "--db", str(store.path), "--format", "rankings"])
    assert result.exit_code == 0 and json.loads(result.output)["prompt"] == "Hi"


def test_the_models_tab_says_when_a_run_learned_nothing(service: Service) -> None:
    from dataclasses import replace

    from app.runs import model_card

    run = service.runs["spl"]
    assert "Learned nothing" not in model_card(run)
    warning = {"splits": {"test": {"accuracy": 0.51, "pairs": 160, "interval_95": [0.43, 0.59]}},
               "why": "It did not fit.", "try": ["more epochs"]}
    card = model_card(replace(run, report={**run.report, "learned_nothing": warning}))
    assert "**Learned nothing measurable** (test 0.510 on 160 pairs" in card
