"""The app driven through its named API with gradio_client against a launched server."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

gradio_client = pytest.importorskip("gradio_client")
from gradio_client import Client  # noqa: E402

from app_fixtures import deadline_client  # noqa: E402

from app.settings import Settings  # noqa: E402
from app.store import Store  # noqa: E402

TOKEN = "test-admin-token"
# gradio's queue calls pandas options that pandas 3 deprecates (third-party, harmless)
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:gradio.queueing",
                                        "ignore:.*no_silent_downcasting.*",
                                        "ignore:The copy keyword is deprecated")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, assets_dir: Path):
    """A launched app (fake backbone, temp DB, admin token set); yields (url, store, service)."""
    from app_fixtures import FakeEmbedder

    from app.runs import find_run_folders
    from app.service import Service
    from app.ui import build_app, launch_options

    db = tmp_path_factory.mktemp("db") / "spl.db"
    store = Store.open(db)
    service = Service.from_folders(find_run_folders(str(assets_dir / "runs")), assets_dir,
                                   embedder=FakeEmbedder())
    settings = Settings(db_path=db, admin_token=TOKEN,
                        completion_url="https://study.example/done?cc={code}")
    demo = build_app(store, service, settings)
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as app.py does (SPL_TORCH_THREADS)
    from bench.appserver import serve_in_process

    url = serve_in_process(demo, show_error=False, **launch_options(service))
    try:
        yield url, store, service
    finally:
        demo.close()
        store.close()
        torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def client(server) -> Client:
    return deadline_client(server[0], verbose=False)


def label_all(client: Client, sid: str, choice: str = "A") -> list[str]:
    done = []
    while (pair := client.predict(sid, api_name="/next_pair")) is not None:
        result = client.predict(sid, pair["pair_id"], choice, api_name="/label")
        done.append(pair["pair_id"])
        assert result["n_labels"] == len(done)
    return done


def test_api_is_documented(client: Client) -> None:
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert {"/new_session", "/next_pair", "/label", "/undo", "/rank", "/finish",
            "/admin_export", "/admin_stats"} <= set(endpoints)
    assert not any(name.startswith("/ui_") for name in endpoints)  # UI events stay private


def test_full_session(client: Client, server) -> None:
    store = server[1]
    sid = client.predict("PROLIFIC-1", api_name="/new_session")
    pair = client.predict(sid, api_name="/next_pair")
    assert set(pair) == {"pair_id", "prompt", "a", "b"}
    first = client.predict(sid, pair["pair_id"], "B", api_name="/label")
    assert first["n_labels"] == 1 and 0 <= first["confidence"] <= 1
    assert {"x", "y", "sd", "type_shares"} <= set(first["latent"])
    undone = client.predict(sid, api_name="/undo")
    assert undone["n_labels"] == 0 and undone["undone"] == pair["pair_id"]
    assert len(label_all(client, sid)) == 8
    ranking = client.predict(sid, "How do I start running?",
                             ["Just go.", "Start slow, 3 times a week!", "1. Shoes\n2. Walk"],
                             api_name="/rank")
    assert set(ranking) == {"spl", "vpl", "btl"}
    assert all(len(r) == 3 and r[0]["score"] >= r[-1]["score"] for r in ranking.values())
    end = client.predict(sid, api_name="/finish")
    assert end["redirect_url"].endswith(end["code"])
    assert len(store.labels(sid)) == 8 and store.get_session(sid).finished


def test_export_needs_the_token(client: Client, server) -> None:
    sid = client.predict("EXPORT-1", api_name="/new_session")
    label_all(client, sid, "B")
    with pytest.raises(Exception, match="admin token is not valid"):
        client.predict("wrong", api_name="/admin_export")
    with pytest.raises(Exception, match="admin token is not valid"):
        client.predict("", api_name="/admin_stats")
    files = client.predict(TOKEN, api_name="/admin_export")
    names = sorted(Path(f).name for f in files)
    assert names == ["labels.csv", "labels.jsonl", "rankings.jsonl", "trl.jsonl"]
    jsonl = next(Path(f) for f in files if Path(f).name == "labels.jsonl")
    assert sum("EXPORT-1" in line for line in jsonl.read_text(encoding="utf-8").splitlines()) == 8
    stats = client.predict(TOKEN, api_name="/admin_stats")
    assert any(p["participant_id"] == "EXPORT-1" and p["n_labels"] == 8
               for p in stats["participants"])


BAD_INPUTS = [
    ("/rank", lambda sid: (sid, "Hi", []), "between 2 and 8"),
    ("/rank", lambda sid: (sid, "Hi", ["   ", "ok"]), "candidate 1 is empty"),
    ("/rank", lambda sid: (sid, "Hi", ["one"]), "between 2 and 8"),
    ("/rank", lambda sid: (sid, "Hi", [f"c{i}" for i in range(9)]), "between 2 and 8"),
    ("/rank", lambda sid: (sid, "Hi", ["y" * 50_000, "ok"]), "the limit is 2,000"),
    ("/rank", lambda sid: (sid, "   ", ["a", "b"]), "prompt is empty"),
    ("/rank", lambda sid: ("forged" + sid[6:], "Hi", ["a", "b"]), "session does not exist"),
    ("/next_pair", lambda sid: ("'; DROP TABLE sessions; --",), "session does not exist"),
    ("/next_pair", lambda sid: ("",), "No session is active"),
    ("/label", lambda sid: (sid, "p99-nope", "A"), "not part of the demo"),
    ("/label", lambda sid: (sid, "__SECOND__", "A"), "has not been shown yet"),
    ("/label", lambda sid: (sid, "__FIRST__", "C"), "one of A, B, tie or skip"),
    ("/label", lambda sid: (sid, "__FIRST__", "A'; --"), "one of A, B, tie or skip"),
    ("/label", lambda sid: ("x" * 64, "__FIRST__", "A"), "session does not exist"),
]


@pytest.mark.parametrize("endpoint, make_args, message", BAD_INPUTS)
def test_bad_input_gets_a_clear_message(client: Client, server, endpoint, make_args,
                                        message) -> None:
    _, store, service = server
    sid = client.predict("BAD-1", api_name="/new_session")
    names = {"__FIRST__": service.items[0]["pair_id"], "__SECOND__": service.items[1]["pair_id"]}
    args = tuple(names.get(a, a) if isinstance(a, str) else a for a in make_args(sid))
    with pytest.raises(Exception) as info:
        client.predict(*args, api_name=endpoint)
    text = str(info.value)
    assert message in text
    assert "Traceback" not in text and "/work/" not in text and ".py" not in text
    # the server keeps serving and the database stays consistent
    assert client.predict(sid, api_name="/next_pair")["pair_id"] == names["__FIRST__"]
    assert store.labels(sid) == [] and store.integrity_check()


def test_duplicate_label_and_emoji_rtl_candidates(client: Client, server) -> None:
    store = server[1]
    sid = client.predict("DUP-1", api_name="/new_session")
    pair = client.predict(sid, api_name="/next_pair")
    client.predict(sid, pair["pair_id"], "tie", api_name="/label")
    with pytest.raises(Exception, match="already has an answer"):
        client.predict(sid, pair["pair_id"], "A", api_name="/label")
    cands = ["Sure! 🎉 Let's go", "שלום, מה שלומך?", "Robert'); DROP TABLE labels;--"]
    ranking = client.predict(sid, "مرحبا 👋", cands, api_name="/rank")
    assert sorted(r["response"] for r in ranking["spl"]) == sorted(cands)
    assert [lab.choice for lab in store.labels(sid)] == ["tie"]


def test_sixteen_concurrent_sessions(server) -> None:
    url, store, _ = server
    results: dict[int, tuple[str, list[str]]] = {}
    errors: list[BaseException] = []

    def visitor(i: int) -> None:
        try:
            client = deadline_client(url, verbose=False)
            sid = client.predict(f"CONC-{i}", api_name="/new_session")
            results[i] = (sid, label_all(client, sid, "AB"[i % 2]))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=visitor, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=240)
    assert not errors, errors[:3]
    assert len(results) == 16
    conn = sqlite3.connect(store.path)
    try:
        for i, (sid, pairs) in results.items():
            rows = conn.execute("SELECT pair_id, choice FROM labels WHERE session_id = ? AND "
                                "undone_at IS NULL ORDER BY position", [sid]).fetchall()
            assert [r[0] for r in rows] == pairs and len(set(pairs)) == 8
            assert {r[1] for r in rows} == {"AB"[i % 2]}
            owner = conn.execute("SELECT participant_id FROM sessions WHERE session_id = ?",
                                 [sid]).fetchone()[0]
            assert owner == f"CONC-{i}"
    finally:
        conn.close()
    assert store.integrity_check()
