"""Tests for app.handlers (fake backbone, temp store): the session flow and input validation."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from app import handlers as h
from app.service import REPEAT_SUFFIX, Service
from app.settings import Settings
from app.store import Store, UnknownSession
from app.ui import parse_candidates

ADMIN = Settings(admin_token="s3cret", completion_url="https://study.example/done?cc={code}")


def run_session(store: Store, service: Service, choices: str = "ABAB tBA") -> str:
    sid = h.start_session(store, "P1", study_id="S1", external_session_id="X1")
    for choice in choices:
        pair = h.next_pair(store, service, sid)
        h.label(store, service, sid, pair["pair_id"], {"t": "tie", " ": "skip"}.get(choice, choice))
    return sid


def test_full_session(store: Store, service: Service) -> None:
    sid = h.start_session(store, "P1")
    assert len(sid) >= 43  # 256 random bits, url-safe
    assert store.events(sid)[0]["kind"] == "consent"
    seen = []
    while (pair := h.next_pair(store, service, sid)) is not None:
        assert set(pair) == {"pair_id", "prompt", "a", "b"}
        result = h.label(store, service, sid, pair["pair_id"], "A", seconds=2.5)
        seen.append(pair["pair_id"])
        assert result["n_labels"] == len(seen) and result["n_total"] == 8
        assert 0.0 <= result["confidence"] <= 1.0
        assert {"x", "y", "sd", "type_shares"} <= set(result["latent"])
        assert "samples" not in result["latent"]
    assert seen == [i["pair_id"] for i in service.items]
    assert seen[-1].endswith(REPEAT_SUFFIX)
    labels = store.labels(sid)
    assert [lab.seconds for lab in labels] == [2.5] * 8
    assert result["n_context"] == 7  # the attention repeat is not used twice
    done = h.finish(store, ADMIN, sid)
    assert done["redirect_url"] == f"https://study.example/done?cc={done['code']}"
    assert h.next_pair(store, service, sid) is None


def test_sides_are_randomised_and_stored_as_shown(store: Store, service: Service) -> None:
    orders = set()
    for i in range(12):
        sid = h.start_session(store, f"P{i}")
        pair = h.next_pair(store, service, sid)
        item = service.item(pair["pair_id"])
        order = h.shown_order(sid, pair["pair_id"])
        orders.add(order)
        assert (pair["a"], pair["b"]) == ((item["a"], item["b"]) if order == "AB"
                                          else (item["b"], item["a"]))
        h.label(store, service, sid, pair["pair_id"], "B")
        record = store.labels(sid)[0]
        assert (record.response_a, record.response_b, record.shown_order) == (
            pair["a"], pair["b"], order)
        assert record.chosen == pair["b"]
        assert record.seconds is not None and record.seconds >= 0  # derived when not given
    assert orders == {"AB", "BA"}


def test_undo_then_relabel(store: Store, service: Service) -> None:
    sid = run_session(store, service, "AB")
    result = h.undo(store, service, sid)
    assert result["undone"] == service.items[1]["pair_id"] and result["n_labels"] == 1
    pair = h.next_pair(store, service, sid)
    assert pair["pair_id"] == service.items[1]["pair_id"]
    assert h.label(store, service, sid, pair["pair_id"], "A")["n_labels"] == 2
    assert len(store.labels(sid, live_only=False)) == 3  # undone row kept for the audit trail


def test_undo_with_nothing_to_undo(store: Store, service: Service) -> None:
    sid = h.start_session(store, "")
    assert h.undo(store, service, sid)["undone"] is None
    assert store.get_session(sid).participant_id.startswith("anon-")


@pytest.mark.parametrize("pair_id, choice, message", [
    ("p99-unknown", "A", "not part of the demo"),
    (None, "A", "not part of the demo"),
    ("__SECOND__", "A", "has not been shown yet"),
    ("__FIRST__", "maybe", "must be one of A, B, tie or skip"),
    ("__FIRST__", "a", "must be one of A, B, tie or skip"),
])
def test_label_refusals(store: Store, service: Service, pair_id, choice, message) -> None:
    sid = h.start_session(store, "P1")
    names = {"__FIRST__": service.items[0]["pair_id"], "__SECOND__": service.items[1]["pair_id"]}
    with pytest.raises(h.HandlerError, match=message):
        h.label(store, service, sid, names.get(pair_id, pair_id), choice)
    assert store.labels(sid) == []


def test_duplicate_label_is_refused(store: Store, service: Service) -> None:
    sid = run_session(store, service, "A")
    with pytest.raises(h.HandlerError, match="already has an answer"):
        h.label(store, service, sid, service.items[0]["pair_id"], "B")
    assert [lab.choice for lab in store.labels(sid)] == ["A"]


@pytest.mark.parametrize("session_id", ["", "   ", "x" * 43, "'; DROP TABLE labels; --",
                                        "A" * 500, None])
def test_unknown_or_forged_session(store: Store, service: Service, session_id) -> None:
    real = run_session(store, service, "A")
    with pytest.raises((h.HandlerError, UnknownSession)):
        h.next_pair(store, service, session_id)
    with pytest.raises((h.HandlerError, UnknownSession)):
        h.rank(store, service, session_id, "Hi", ["a", "b"])
    assert len(store.labels(real)) == 1 and store.integrity_check()


@pytest.mark.parametrize("candidates, message", [
    ([], "between 2 and 8"),
    (["only one"], "between 2 and 8"),
    ([f"c{i}" for i in range(9)], "between 2 and 8"),
    (["fine", "   "], "candidate 2 is empty"),
    (["fine", ""], "candidate 2 is empty"),
    (["x" * 50_000, "fine"], "candidate 1 has 50,000 characters; the limit is 2,000"),
    (["same", "same"], "Candidates 1 and 2 are the same"),
    ("a single string", "must be a list"),
    (["ok", 5], "candidate 2 must be text"),
    (["nul\x00byte", "ok"], "control characters"),
])
def test_rank_refusals(store: Store, service: Service, candidates, message) -> None:
    sid = h.start_session(store, "P1")
    with pytest.raises(h.HandlerError, match=message):
        h.rank(store, service, sid, "A prompt", candidates)


def test_rank_prompt_limits(store: Store, service: Service) -> None:
    sid = h.start_session(store, "P1")
    with pytest.raises(h.HandlerError, match="prompt is empty"):
        h.rank(store, service, sid, "  ", ["a", "b"])
    with pytest.raises(h.HandlerError, match="prompt has 5,000 characters"):
        h.rank(store, service, sid, "p" * 5000, ["a", "b"])


def test_rank_accepts_unicode_and_sql_text_verbatim(store: Store, service: Service) -> None:
    sid = run_session(store, service, "AB")
    cands = ["Sure! 🎉🙂 Let's go", "שלום, מה שלומך?", "مرحبا بالعالم",
             "Robert'); DROP TABLE labels;--", "x' OR '1'='1"]
    result = h.rank(store, service, sid, "Say hi 👋", cands)
    assert {r["response"] for r in result["spl"]} == set(cands)
    conn = sqlite3.connect(store.path)
    try:
        rows = conn.execute("SELECT prompt, candidates FROM rankings").fetchall()
        n_labels = conn.execute("SELECT COUNT(*) FROM labels").fetchone()[0]
    finally:
        conn.close()
    assert rows[0][0] == "Say hi 👋" and "DROP TABLE labels" in rows[0][1]
    assert n_labels == 2


def test_finished_session_takes_no_more_labels(store: Store, service: Service) -> None:
    sid = run_session(store, service, "A")
    h.finish(store, Settings(), sid)
    assert h.next_pair(store, service, sid) is None
    with pytest.raises(h.HandlerError, match="no pairs left"):
        h.label(store, service, sid, service.items[1]["pair_id"], "A")
    assert h.finish(store, Settings(), sid)["redirect_url"] is None


def test_admin_tools_need_the_token(store: Store, service: Service, tmp_path: Path) -> None:
    run_session(store, service, "ABABtBA" + "A")
    with pytest.raises(h.HandlerError, match="admin token is not valid"):
        h.admin_export(store, ADMIN, "wrong", tmp_path)
    with pytest.raises(h.HandlerError, match="admin token is not valid"):
        h.admin_stats(store, ADMIN, "")
    with pytest.raises(h.HandlerError, match="tools are off"):
        h.admin_stats(store, Settings(), "s3cret")
    paths = h.admin_export(store, ADMIN, "s3cret", tmp_path)
    assert sorted(p.name for p in paths) == ["labels.csv", "labels.jsonl", "rankings.jsonl",
                                             "trl.jsonl"]
    assert len(paths[0].read_text(encoding="utf-8").splitlines()) == 8
    exports = [e for e in store.events() if e["kind"] == "export"]  # the audit trail says so
    assert [e["payload"] for e in exports] == [{"files": ["labels.jsonl", "labels.csv",
                                                          "trl.jsonl", "rankings.jsonl"]}]
    stats = h.admin_stats(store, ADMIN, "s3cret")
    assert stats["participants"][0]["n_labels"] == 8
    assert stats["attention"]["n_judged_sessions"] == 1
    assert stats["attention"]["checks"][0]["pair_id"] == service.pack["attention_check"]


def test_parse_candidates() -> None:
    text = "First\nline two\n---\nSecond\n  ---  \n\n---\nThird"
    assert parse_candidates(text) == ["First\nline two", "Second", "Third"]
    assert parse_candidates("") == []


def test_settings_from_env(tmp_path: Path) -> None:
    volume = tmp_path / "data"
    env = {"SPACE_ID": "me/spl", "PORT": "9000", "SPL_ADMIN_TOKEN": "t"}
    settings = Settings.from_env(env, data_dir=volume)
    assert settings.port == 9000 and settings.admin_enabled and settings.host == "0.0.0.0"
    assert settings.storage_warning and "ephemeral" in settings.storage_warning
    volume.mkdir()
    assert Settings.from_env(env, data_dir=volume).storage_warning is None
    assert Settings.from_env({"GRADIO_SERVER_PORT": "7000"}, data_dir=volume).port == 7000
    assert Settings.from_env({}, data_dir=tmp_path / "none").storage_warning is None
    with pytest.raises(ValueError, match="not a port number"):
        Settings.from_env({"PORT": "abc"}, data_dir=volume)


@pytest.mark.parametrize("neutral", ["skip", "tie"])
def test_a_skip_or_a_tie_never_raises_the_confidence(store: Store, service: Service, neutral: str) -> None:
    """Neither adds information, so neither may move the number shown (nor suggest stopping)."""
    sid = h.start_session(store, "P-neutral")
    before = h.summary(store, service, sid)
    assert before["n_context"] == 0 and not before["stop_suggested"]
    assert before["latent"]["type_shares"] == {}  # no type shown before a real answer
    seen = [before["confidence_by_model"]]
    for _ in range(3):
        pair = h.next_pair(store, service, sid)
        result = h.label(store, service, sid, pair["pair_id"], neutral)
        assert result["n_context"] == 0 and result["confidence_by_model"] == seen[0]
        assert not result["stop_suggested"]
    pair = h.next_pair(store, service, sid)
    real = h.label(store, service, sid, pair["pair_id"], "A")
    assert real["n_context"] == 1
    pair = h.next_pair(store, service, sid)
    after = h.label(store, service, sid, pair["pair_id"], neutral)
    assert after["confidence_by_model"] == real["confidence_by_model"]


def test_progress_counts_distinct_pairs_and_names_the_repeat(store: Store, service: Service) -> None:
    """'Pair 8 of 8' used to count the attention check's repeat as a pair of its own."""
    from app.ui import progress_text

    n_checks = sum(i["pair_id"].endswith(REPEAT_SUFFIX) for i in service.items)
    assert n_checks == 1
    distinct = len(service.items) - n_checks
    sid = h.start_session(store, "P1")
    heads = []
    while (pair := h.next_pair(store, service, sid)) is not None:
        result = h.summary(store, service, sid)
        heads.append(progress_text({**result, "stop_suggested": False}, pair, n_checks))
        h.label(store, service, sid, pair["pair_id"], "A")
    done = progress_text(h.summary(store, service, sid), None, n_checks)
    assert heads[:distinct] == [f"**Pair {k} of {distinct}**" for k in range(1, distinct + 1)]
    assert "consistency check" in heads[-1] and f"of {distinct + 1}" not in "".join(heads)
    assert done.startswith(f"**All {distinct} pairs answered")


def test_progress_offers_finishing_only_with_the_button() -> None:
    from app.ui import progress_text

    pair = {"pair_id": "p1"}
    text = progress_text({"n_labels": 4, "n_total": 8, "stop_suggested": True}, pair, 1)
    assert text.startswith("**Pair 5 of 7**") and "finish with the button below" in text
    assert "finish" not in progress_text({"n_labels": 4, "n_total": 8}, pair, 1)


def test_finish_button_shows_when_the_progress_line_offers_it() -> None:
    """The line said 'you can finish whenever you like' from pair 5 while the button only
    appeared after the last pair."""
    from app.ui import controls

    pair = {"pair_id": "p1"}
    assert controls({"session_id": "s", "pair": pair}) == (True, True, False)
    assert controls({"session_id": "s", "pair": pair, "stop_suggested": True}) == (True, True, True)
    assert controls({"session_id": "s", "pair": None}) == (False, True, True)
    assert controls({"session_id": "s", "pair": None, "finish": "done"}) == (False, False, False)
    assert controls({}) == (False, False, False)


def test_study_owner_tab_is_hidden_from_participants(service: Service, tmp_path: Path) -> None:
    from app.ui import build_app, show_owner_tab

    with Store.open(tmp_path / "owner.db") as store:
        demo = build_app(store, service, Settings(db_path=store.path, admin_token="s3cret"))
        config = demo.get_config_file()
    tabs = [c for c in config["components"] if c.get("props", {}).get("label") == "Study owner"]
    assert len(tabs) == 1 and tabs[0]["props"]["visible"] is False
    assert show_owner_tab({"owner": ""}) and show_owner_tab({"owner": "1", "STUDY_ID": "S"})
    assert not show_owner_tab({"PROLIFIC_PID": "p", "STUDY_ID": "S", "SESSION_ID": "x"})


# -- exact limits and what each label stores ------------------------------------------------


def test_text_limits_are_inclusive_and_line_breaks_are_text(store: Store, service: Service) -> None:
    sid = h.start_session(store, "P1")
    prompt = "p" * h.MAX_PROMPT_CHARS
    longest = ["x" * h.MAX_CANDIDATE_CHARS, "two\nlines\tand\r\nbreaks"]
    h.rank(store, service, sid, prompt, longest)  # exactly at each limit: accepted
    with pytest.raises(h.HandlerError, match="prompt has 1,001 characters; the limit is 1,000"):
        h.rank(store, service, sid, prompt + "p", ["a", "b"])
    with pytest.raises(h.HandlerError, match="candidate 2 has 2,001 characters"):
        h.rank(store, service, sid, "p", ["a", "y" * 2001])
    with pytest.raises(h.HandlerError, match="control characters"):
        h.rank(store, service, sid, "p", ["a", "bell\x07"])
    assert h.clean_candidates(["  padded  ", "b"]) == ["padded", "b"]
    assert len(h.clean_candidates([f"c{i}" for i in range(h.MAX_CANDIDATES)])) == 8
    assert (h.MIN_CANDIDATES, h.MAX_CANDIDATES) == (2, 8)


@pytest.mark.parametrize("seconds", [-0.5, float("nan"), float("inf"), True, "3"])
def test_a_bad_time_to_label_is_refused(store: Store, service: Service, seconds) -> None:
    sid = h.start_session(store, "P1")
    pair = h.next_pair(store, service, sid)
    with pytest.raises(h.HandlerError, match="non-negative number of seconds"):
        h.label(store, service, sid, pair["pair_id"], "A", seconds=seconds)
    assert store.labels(sid) == []


def test_times_are_stored_as_given_capped_at_a_day_or_measured(store: Store, service: Service,
                                                               monkeypatch) -> None:
    sid = h.start_session(store, "P1")
    for seconds in (0, 3, 10 ** 9):
        pair = h.next_pair(store, service, sid)
        h.label(store, service, sid, pair["pair_id"], "A", seconds=seconds)
    assert [lab.seconds for lab in store.labels(sid)] == [0.0, 3.0, 24 * 3600.0]
    # not given: the time since the previous answer, never negative
    from datetime import datetime, timedelta, timezone

    last = datetime.fromisoformat(store.labels(sid)[-1].created_at)
    assert h._seconds_since((last + timedelta(hours=1)).isoformat()) == 0.0
    earlier = (datetime.now(timezone.utc) - timedelta(seconds=90)).isoformat()
    assert h._seconds_since(earlier) == pytest.approx(90, abs=5)
    pair = h.next_pair(store, service, sid)
    h.label(store, service, sid, pair["pair_id"], "A")
    assert 0 <= store.labels(sid)[-1].seconds < 60


def test_each_label_records_the_order_and_model_that_chose_it(store: Store,
                                                              service: Service) -> None:
    from app.runs import app_version

    sid = h.start_session(store, "P1", mode="active")
    for _ in range(2):
        pair = h.next_pair(store, service, sid)
        h.label(store, service, sid, pair["pair_id"], "A")
    first, second = store.labels(sid)
    assert (first.query_order, first.model_version) == ("fixed", None)
    assert (second.query_order, second.model_version) == ("active", service.runs["spl"].version)
    assert first.app_version == second.app_version == app_version()
    consent = store.events(sid)[0]
    assert consent["kind"] == "consent" and consent["payload"] == {"participant_given": True}
    anonymous = h.start_session(store, "  ")
    assert store.events(anonymous)[0]["payload"] == {"participant_given": False}


def test_the_active_seed_is_the_session_and_answer_count_hmac(store: Store, service: Service,
                                                              monkeypatch) -> None:
    import hashlib
    import hmac

    sid = h.start_session(store, "P1", mode="active")
    pair = h.next_pair(store, service, sid)
    h.label(store, service, sid, pair["pair_id"], "A")
    seeds = []
    real = service.select_pair
    monkeypatch.setattr(service, "select_pair",
                        lambda context, items, seed: seeds.append(seed) or real(context, items, seed))
    h.next_pair(store, service, sid)
    digest = hmac.new(sid.encode(), b"query-1", hashlib.sha256).digest()
    assert seeds == [int.from_bytes(digest[:4], "big")]


def test_a_participant_id_must_be_text_and_candidates_a_list(store: Store) -> None:
    with pytest.raises(h.HandlerError, match="participant id must be text"):
        h.start_session(store, participant=42)  # type: ignore[arg-type]
    assert h.start_session(store, participant=None)  # no id: an anonymous one
    for bad in ("one text, not a list", None, 3, {"a": "b"}):
        with pytest.raises(h.HandlerError, match="must be a list of texts"):
            h.clean_candidates(bad)
    assert h.clean_candidates(("a", "b")) == ["a", "b"]


def test_a_session_keeps_its_study_and_external_ids_and_blank_ones_are_none(store: Store) -> None:
    sid = h.start_session(store, "P1", study_id="S1", external_session_id="X1", mode="active")
    record = store.get_session(sid)
    assert (record.participant_id, record.study_id, record.external_session_id, record.mode) == \
        ("P1", "S1", "X1", "active")
    blank = store.get_session(h.start_session(store, "P2", study_id="", external_session_id=""))
    assert (blank.study_id, blank.external_session_id) == (None, None)


def test_summary_and_undo_leave_the_sample_cloud_out_unless_asked(
        store: Store, service: Service) -> None:
    sid = run_session(store, service, "AB")
    assert "samples" not in h.summary(store, service, sid)["latent"]
    assert len(h.summary(store, service, sid, samples=True)["latent"]["samples"]) == 32
    assert "samples" not in h.undo(store, service, sid)["latent"]


def test_the_main_model_is_spl_whatever_the_runs_order(store: Store, service: Service) -> None:
    reordered = Service({k: service.runs[k] for k in ("vpl", "btl", "spl")}, service.pack,
                        service._pack_vectors)
    sid = run_session(store, reordered, "AB")
    result = h.summary(store, reordered, sid)
    assert result["latent"] == result["latent_by_model"]["spl"]
    assert result["latent"] != result["latent_by_model"]["vpl"]
    assert result["confidence"] == result["confidence_by_model"]["spl"]


def test_no_stop_is_suggested_without_probe_sets(store: Store, service: Service) -> None:
    """No ranking set, no stopping signal (stability is {}): answering everything never
    reads as stable."""
    bare = Service(service.runs, {**service.pack, "ranking_sets": []}, service._pack_vectors)
    sid = h.start_session(store, "P3")
    while (pair := h.next_pair(store, bare, sid)) is not None:
        result = h.label(store, bare, sid, pair["pair_id"], "A")
    assert result["n_context"] > 0 and result["stop_suggested"] is False


def test_the_exports_flags_use_the_studys_thresholds(store: Store, service: Service,
                                                    tmp_path: Path) -> None:
    """A median of 4 s per answer is too fast for a study whose floor is 10 s (the default
    floor, 2 s, would not flag it), in both label exports."""
    import csv
    import json

    sid = h.start_session(store, "P4")
    for choice in "ABA":
        pair = h.next_pair(store, service, sid)
        h.label(store, service, sid, pair["pair_id"], choice, seconds=4.0)
    strict = Settings(admin_token="s3cret", fast_seconds=10.0)
    h.admin_export(store, strict, "s3cret", tmp_path)
    rows = [json.loads(line) for line in (tmp_path / "labels.jsonl").read_text().splitlines()]
    assert rows and all("too_fast" in r["session_flags"] for r in rows)
    with open(tmp_path / "labels.csv", encoding="utf-8-sig", newline="") as handle:
        flags = [r["session_flags"] for r in csv.DictReader(handle)]
    assert flags and all("too_fast" in f for f in flags)
    h.admin_export(store, ADMIN, "s3cret", tmp_path / "default")
    default = (tmp_path / "default" / "labels.jsonl").read_text()
    assert "too_fast" not in default
