"""What Gradio keeps per connection stays bounded (app.state_bound): the policy on a stand-in
holder, and the launched app under many plain-HTTP calls (each one a new Gradio session)."""

from __future__ import annotations

import datetime
import json
import threading
import urllib.request
from collections import OrderedDict
from pathlib import Path
from types import SimpleNamespace

import pytest

from app.settings import Settings
from app.state_bound import StateBound
from app.store import Store

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:gradio.queueing",
                                        "ignore:.*no_silent_downcasting.*",
                                        "ignore:The copy keyword is deprecated")


def _holder(entries: list[tuple[str, bool, float]]) -> SimpleNamespace:
    """A stand-in for gradio's StateHolder: (session hash, has gr.State data, idle seconds),
    oldest use first."""
    now = datetime.datetime.now()
    data = OrderedDict((sid, SimpleNamespace(state_data={1: {}} if visitor else {}))
                       for sid, visitor, _ in entries)
    used = {sid: now - datetime.timedelta(seconds=idle) for sid, _, idle in entries}
    return SimpleNamespace(session_data=data, time_last_used=used, lock=threading.Lock())


def test_api_sessions_keep_only_the_newest() -> None:
    holder = _holder([(f"api{i}", False, 100 - i) for i in range(10)] + [("tab", True, 50)])
    assert StateBound(max_api=3).prune(holder) == 7
    assert list(holder.session_data) == ["api7", "api8", "api9", "tab"]
    assert set(holder.time_last_used) == set(holder.session_data)


def test_visitor_sessions_go_when_idle_or_beyond_the_cap() -> None:
    entries = [("old-tab", True, 3 * 3600), *[(f"tab{i}", True, 60 - i) for i in range(5)]]
    holder = _holder(entries)
    assert StateBound(max_visitors=3, idle_s=3600).prune(holder) == 3
    assert list(holder.session_data) == ["tab2", "tab3", "tab4"]


def test_maybe_prune_is_throttled() -> None:
    holder = _holder([(f"api{i}", False, 10) for i in range(5)])
    bound = StateBound(max_api=1, every_s=3600, demo=SimpleNamespace(state_holder=holder))
    assert bound.maybe_prune() == 4
    holder.session_data.update({"new": SimpleNamespace(state_data={})})
    assert bound.maybe_prune() == 0  # ran less than every_s ago
    assert StateBound(demo=None).maybe_prune() == 0  # not launched yet: nothing to prune


def _call(url: str, name: str, data: list) -> object:
    base = f"{url}gradio_api/call/{name}"
    request = urllib.request.Request(base, data=json.dumps({"data": data}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        event_id = json.loads(response.read())["event_id"]
    with urllib.request.urlopen(f"{base}/{event_id}", timeout=60) as response:
        text = response.read().decode()
    assert "complete" in text.split("\n", 1)[0], text[:300]
    return json.loads(text.partition("\ndata:")[2])[0]


def test_launched_app_keeps_a_bounded_number_of_sessions(tmp_path: Path, assets_dir: Path) -> None:
    """Every plain-HTTP call is a new Gradio session hash; without the bound the holder keeps
    one config copy per call (10,000 by default)."""
    from app_fixtures import FakeEmbedder

    from app.runs import find_run_folders
    from app.service import Service
    from app.ui import build_app, launch_options
    from bench.appserver import serve_in_process

    store = Store.open(tmp_path / "spl.db")
    service = Service.from_folders(find_run_folders(str(assets_dir / "runs")), assets_dir,
                                   embedder=FakeEmbedder())
    demo = build_app(store, service, Settings(db_path=store.path))
    demo.state_bound.max_api, demo.state_bound.every_s = 8, 0.0
    url = serve_in_process(demo, show_error=False, **launch_options(service))
    try:
        sids = [_call(url, "new_session", [f"P{i}", "", ""]) for i in range(30)]
        for sid in sids[:5]:  # the API still works after its earlier sessions were evicted
            pair = _call(url, "next_pair", [sid])
            assert _call(url, "label", [sid, pair["pair_id"], "A"])["n_labels"] == 1
        assert len(demo.state_holder.session_data) <= 8 + 1  # the call that pruned
        pending = demo._queue.pending_event_ids_session
        assert len(pending) <= 8 + 2, len(pending)  # one (empty) set per hash, before
    finally:
        demo.close()
        store.close()


def test_app_caps_malloc_arenas_unless_the_environment_does(monkeypatch) -> None:
    import platform
    import runpy

    entry = runpy.run_path(str(Path(__file__).resolve().parents[2] / "app.py"))
    limit = entry["limit_malloc_arenas"]
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert limit() is False  # the operator's setting wins
    monkeypatch.delenv("MALLOC_ARENA_MAX")
    if platform.system() == "Linux" and platform.libc_ver()[0] == "glibc":
        assert limit() is True


def test_maybe_prune_trims_the_heap_when_due(monkeypatch) -> None:
    import app.state_bound as sb

    calls = []
    monkeypatch.setattr(sb, "trim_heap", lambda: calls.append(1) or True)
    holder = _holder([("api", False, 1)])
    bound = StateBound(every_s=0.0, trim_every_s=3600,
                       demo=SimpleNamespace(state_holder=holder))
    bound.maybe_prune()
    assert calls == []  # not due yet
    bound.trim_every_s = 0.0
    bound.maybe_prune()
    assert calls == [1]
