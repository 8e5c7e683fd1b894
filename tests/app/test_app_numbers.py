"""What the app does with the model's numbers (issue 13: these mutations passed the suite):
the active order is the selector's choice, the stop suggestion follows the stopping signal,
its pool leaves answered pairs out, a busy database is a plain StoreError, and a damaged
backup is refused."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
import torch

from app import handlers as h
from app.service import N_SAMPLES, QUERY_METHOD, REPEAT_SUFFIX, STOP_AT, Service
from app.store import Store, StoreError
from spl_model.active import select_query


def _answer(store: Store, service: Service, sid: str, choice: str = "A") -> dict:
    pair = h.next_pair(store, service, sid)
    assert pair is not None
    return h.label(store, service, sid, pair["pair_id"], choice)


# -- the active order -----------------------------------------------------------------------


def _vectors(service: Service, items: list[dict], side: str) -> torch.Tensor:
    return torch.cat([service.vectors(i["prompt"], [i[side]]) for i in items])


def test_select_pair_is_the_selectors_best_pair(service: Service) -> None:
    pool = [i for i in service.items if not i["pair_id"].endswith(REPEAT_SUFFIX)]
    context = [(pool[0]["prompt"], pool[0]["a"], pool[0]["b"]),
               (pool[1]["prompt"], pool[1]["b"], pool[1]["a"])]
    rest = pool[2:]
    a, b = _vectors(service, rest, "a"), _vectors(service, rest, "b")
    chosen = torch.cat([service.vectors(p, [c]) for p, c, _ in context])[None]
    rejected = torch.cat([service.vectors(p, [r]) for p, _, r in context])[None]
    mask = torch.ones(1, 2, dtype=torch.bool)
    picks = []
    for seed in range(4):
        expected = select_query(service.runs["spl"].model, (chosen, rejected, mask), a, b,
                                n_samples=N_SAMPLES, seed=seed, method=QUERY_METHOD)
        got = service.select_pair(context, rest, seed=seed)
        assert got == int(expected.best[0])
        assert expected.scores[0, got] == expected.scores[0].max()
        picks.append(got)
    assert any(p != 0 for p in picks), "the selector must not always pick the first pair here"


def test_an_active_session_shows_the_pair_the_selector_picks(
        store: Store, service: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    sid = h.start_session(store, "P1", mode="active")
    _answer(store, service, sid)
    seen: list[list[str]] = []

    def last_of_pool(context, items, seed):
        seen.append([i["pair_id"] for i in items])
        return len(items) - 1

    monkeypatch.setattr(service, "select_pair", last_of_pool)
    pair = h.next_pair(store, service, sid)
    assert pair["pair_id"] == seen[-1][-1] != service.items[1]["pair_id"]
    h.label(store, service, sid, pair["pair_id"], "B")
    assert store.labels(sid)[-1].query_order == "active"
    h.next_pair(store, service, sid)  # the next pool leaves both answered pairs out
    assert pair["pair_id"] not in seen[-1] and service.items[0]["pair_id"] not in seen[-1]


# -- stopping and the confidence pool -------------------------------------------------------


@pytest.mark.parametrize("spl_stability, expected", [(STOP_AT, True), (0.97, True),
                                                     (STOP_AT - 0.01, False), (0.2, False)])
def test_stop_is_suggested_once_the_main_models_stability_reaches_stop_at(
        store: Store, service: Service, monkeypatch: pytest.MonkeyPatch,
        spl_stability: float, expected: bool) -> None:
    """The stop suggestion follows the stopping signal (``Service.stability``), not the
    calibrated confidence shown as a number."""
    monkeypatch.setattr(service, "stability",
                        lambda person, to_ask=None: {"spl": spl_stability, "vpl": 1 - spl_stability})
    monkeypatch.setattr(service, "confidence", lambda person: {"spl": 0.123, "vpl": 0.5})
    sid = h.start_session(store, "P1", mode="fixed")
    result = _answer(store, service, sid)
    assert result["confidence"] == 0.123  # the number shown is the confidence
    assert result["stop_suggested"] is expected


def test_no_stop_is_suggested_before_a_real_answer(
        store: Store, service: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "stability", lambda person, to_ask=None: {"spl": 1.0, "vpl": 1.0})
    sid = h.start_session(store, "P1", mode="fixed")
    result = _answer(store, service, sid, "skip")
    assert result["n_context"] == 0 and result["stop_suggested"] is False


def test_the_stability_pool_is_the_unanswered_pairs(
        store: Store, service: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    pools: list[list[str]] = []
    real = service.stability

    def spy(person, to_ask=None):
        pools.append([i["pair_id"] for i in to_ask])
        return real(person, to_ask)

    monkeypatch.setattr(service, "stability", spy)
    sid = h.start_session(store, "P1", mode="fixed")
    answered = [h.next_pair(store, service, sid)["pair_id"]]
    _answer(store, service, sid, "A")
    answered.append(h.next_pair(store, service, sid)["pair_id"])
    _answer(store, service, sid, "B")
    everything = [i["pair_id"] for i in service.items]
    assert pools[-1] == [p for p in everything if p not in answered]


def test_after_the_last_answer_stability_is_one_and_stop_is_suggested(
        store: Store, service: Service) -> None:
    """Nothing is left to ask, so no answer can move the top picks."""
    sid = h.start_session(store, "P1", mode="fixed")
    result = _answer(store, service, sid)
    while h.next_pair(store, service, sid) is not None:
        result = _answer(store, service, sid)
    assert result["n_labels"] == len(service.items)
    person = service.personalise(h._context(store.labels(sid)))
    assert service.stability(person, []) == {"spl": 1.0, "vpl": 1.0}
    assert result["stop_suggested"] is True
    assert 0.0 <= result["confidence"] <= 1.0


# -- the store ------------------------------------------------------------------------------


def test_a_busy_database_is_a_plain_store_error(tmp_path: Path) -> None:
    with Store.open(tmp_path / "spl.db", busy_timeout=0.2) as store:
        store.new_session("P1")
        holder = sqlite3.connect(tmp_path / "spl.db", timeout=5)
        holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock
        try:
            result: dict = {}

            def write() -> None:
                try:
                    store.new_session("P2")
                except Exception as exc:  # noqa: BLE001 - the test inspects it
                    result["error"] = exc

            worker = threading.Thread(target=write)
            worker.start()
            worker.join(timeout=30)
            assert not worker.is_alive(), "the write must give up after busy_timeout"
        finally:
            holder.rollback()
            holder.close()
        error = result.get("error")
        assert type(error) is StoreError, repr(error)
        assert str(error) == "The database is busy or unavailable; try again in a moment."
        store.new_session("P3")  # free again: writes work


def _damage(path: Path) -> None:
    """Redefine an index over other columns than it holds: still a readable SQLite file, but
    SQLite's integrity check finds rows missing from the index."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA writable_schema = ON")
    conn.execute("UPDATE sqlite_master SET sql = 'CREATE INDEX labels_session_position ON "
                 "labels(session_id, pair_id)' WHERE name = 'labels_session_position'")
    conn.commit()
    conn.close()


def test_restore_refuses_a_backup_that_fails_the_integrity_check(store: Store,
                                                                  tmp_path: Path) -> None:
    sid = store.new_session("P1")
    for n in range(30):
        store.log_event("visit", {"n": n}, session_id=sid)
        store.add_label(sid, f"p{n}", prompt="Hi", response_a="a", response_b="b", choice="A",
                        shown_order="AB")
    backup = store.backup(tmp_path / "backup.db")
    _damage(backup)
    check = sqlite3.connect(backup)
    assert check.execute("PRAGMA integrity_check").fetchone()[0] != "ok"
    assert check.execute("SELECT COUNT(*) FROM labels").fetchone()[0] == 30  # still readable
    check.close()
    with pytest.raises(StoreError, match="damaged"):
        Store.restore(backup, tmp_path / "restored.db")
    assert not (tmp_path / "restored.db").exists()
