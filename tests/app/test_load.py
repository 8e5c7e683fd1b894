"""The load bench in reduced form (``bench/load.py`` runs it in full with ``python app.py``):
a few simultaneous participants through a launched server, every label checked against the
database. No timing asserts (timing belongs in bench/)."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import pytest

pytest.importorskip("gradio_client")

from app.settings import Settings  # noqa: E402
from app.store import Store  # noqa: E402
from bench.appserver import serve_in_process  # noqa: E402
from bench.load import run_level  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:gradio.queueing",
                                        "ignore:.*no_silent_downcasting.*",
                                        "ignore:The copy keyword is deprecated")


@pytest.mark.parametrize("client, n", [("raw", 3)])  # gradio_client: test_api, test_privacy
def test_simultaneous_participants_lose_no_label(tmp_path: Path, assets_dir: Path,
                                                 client: str, n: int) -> None:
    from app_fixtures import FakeEmbedder

    from app.runs import find_run_folders
    from app.service import Service
    from app.ui import build_app, launch_options

    store = Store.open(tmp_path / "spl.db")
    service = Service.from_folders(find_run_folders(str(assets_dir / "runs")), assets_dir,
                                   embedder=FakeEmbedder())
    demo = build_app(store, service, Settings(db_path=store.path))
    url = serve_in_process(demo, show_error=False, **launch_options(service))
    try:
        # run_level reads the server's CPU time from /proc/PID: here it is this process
        server = SimpleNamespace(url=url, db=store.path,
                                 proc=SimpleNamespace(pid=os.getpid()))
        level = run_level(server, n, service.ranking_sets[0], timeout=60, client=client)
    finally:
        demo.close()
    assert level["errors"] == 0, level["error_samples"]
    assert level["sessions_completed"] == n
    assert level["labels_acknowledged"] == n * len(service.items)
    assert (level["lost"], level["duplicated"], level["unexpected"],
            level["inconsistent_sessions"]) == (0, 0, 0, 0)
    assert level["integrity_ok"] and store.integrity_check()
    store.close()
