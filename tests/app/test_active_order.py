"""The query order (issue #6): active sessions pick pairs with the model, fixed ones follow the
pack, and every label stores the order that chose its pair (schema migration 2)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from app import handlers as h
from app.export import COLUMNS, label_rows
from app.schema import MIGRATIONS
from app.service import REPEAT_SUFFIX, Service
from app.settings import Settings
from app.store import InvalidInput, Store


def label_all(store: Store, service: Service, sid: str, choice: str = "A") -> list[str]:
    seen = []
    while (pair := h.next_pair(store, service, sid)) is not None:
        assert h.next_pair(store, service, sid) == pair  # repeated calls agree
        h.label(store, service, sid, pair["pair_id"], choice)
        seen.append(pair["pair_id"])
    return seen


@pytest.mark.parametrize("mode", ["active", "fixed"])
def test_mode_is_stored_with_each_label(store: Store, service: Service, mode: str) -> None:
    sid = h.start_session(store, "P1", mode=mode)
    assert store.get_session(sid).mode == mode
    seen = label_all(store, service, sid, "B")
    assert sorted(seen) == sorted(i["pair_id"] for i in service.items)
    assert seen[-1].endswith(REPEAT_SUFFIX)  # the attention check stays last in both modes
    orders = [lab.query_order for lab in store.labels(sid)]
    if mode == "fixed":
        assert seen == [i["pair_id"] for i in service.items] and set(orders) == {"fixed"}
    else:  # the first pair (no answer yet) and the attention repeat come from the fixed order
        assert seen[0] == service.items[0]["pair_id"]
        assert orders == ["fixed"] + ["active"] * (len(seen) - 2) + ["fixed"]
    rows = label_rows(store)
    assert "query_order" in COLUMNS and [r["query_order"] for r in rows] == orders


def test_active_order_never_repeats_a_pair(store: Store, service: Service) -> None:
    """Each session asks every pair once, whatever the seeded selector picks."""
    a1 = h.start_session(store, "P1", mode="active")
    a2 = h.start_session(store, "P2", mode="active")
    first, second = label_all(store, service, a1), label_all(store, service, a2)
    assert len(set(first)) == len(first) == len(second)


def test_tie_and_skip_keep_the_fixed_order_until_an_answer(store: Store,
                                                           service: Service) -> None:
    sid = h.start_session(store, "P1", mode="active")
    for choice in ("skip", "tie"):
        pair = h.next_pair(store, service, sid)
        h.label(store, service, sid, pair["pair_id"], choice)
    assert [lab.query_order for lab in store.labels(sid)] == ["fixed", "fixed"]
    result = h.undo(store, service, sid)
    assert result["n_labels"] == 1 and "stop_suggested" in result


def test_store_refuses_an_unknown_query_order(store: Store) -> None:
    sid = store.new_session("P1")
    with pytest.raises(InvalidInput, match="'active' or 'fixed'"):
        store.add_label(sid, "p1", prompt="Hi", response_a="a", response_b="b", choice="A",
                        shown_order="AB", query_order="random")  # type: ignore[arg-type]


def test_version_one_database_migrates_with_null_orders(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                 "applied_at TEXT NOT NULL)")
    for statement in MIGRATIONS[0].statements:
        conn.execute(statement)
    conn.execute("INSERT INTO schema_version VALUES (1, 'initial schema', 'then')")
    conn.execute("INSERT INTO participants VALUES ('P1', NULL, 'then')")
    conn.execute("INSERT INTO sessions (session_id, participant_id, mode, created_at) "
                 "VALUES (?, 'P1', 'fixed', 'then')", ["s" * 43])
    conn.execute("INSERT INTO labels (session_id, pair_id, position, prompt, response_a, "
                 "response_b, shown_order, choice, created_at) VALUES (?, 'p1', 0, 'Hi', 'a', "
                 "'b', 'AB', 'A', 'then')", ["s" * 43])
    conn.commit()
    conn.close()
    with Store.open(path) as store:
        assert store.schema_version == MIGRATIONS[-1].version >= 2
        assert [lab.query_order for lab in store.labels("s" * 43)] == [None]


def test_settings_read_the_query_order() -> None:
    assert Settings.from_env({}).query_order == "active"
    assert Settings.from_env({"SPL_QUERY_ORDER": "fixed"}).query_order == "fixed"
    with pytest.raises(ValueError, match="SPL_QUERY_ORDER"):
        Settings.from_env({"SPL_QUERY_ORDER": "random"})
