"""Privacy through the API: a participant never sees another session's data, exports need the
admin token, and nothing identifying beyond the study ids reaches the database (request headers
such as an IP address or a user agent included)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

gradio_client = pytest.importorskip("gradio_client")
from gradio_client import Client  # noqa: E402

from app_fixtures import deadline_client  # noqa: E402

from app.store import Store  # noqa: E402

TOKEN = "privacy-admin-token"
FAKE_IP, FAKE_UA = "203.0.113.77", "PrivacyProbe/9.9 (secret-device)"
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:gradio.queueing",
                                        "ignore:.*no_silent_downcasting.*",
                                        "ignore:The copy keyword is deprecated")
# every column the app may store; a new one must be added here on purpose (and to docs/privacy.md)
ALLOWED_COLUMNS = {
    "schema_version": {"version", "name", "applied_at"},
    "participants": {"participant_id", "study_id", "consented_at"},
    "sessions": {"session_id", "participant_id", "study_id", "external_session_id", "mode",
                 "status", "created_at", "finished_at", "completion_code"},
    "labels": {"id", "session_id", "pair_id", "position", "prompt", "response_a", "response_b",
               "shown_order", "choice", "seconds", "created_at", "undone_at",
               "query_order", "model_version", "app_version"},
    "rankings": {"id", "session_id", "prompt", "candidates", "results", "created_at"},
    "events": {"id", "session_id", "kind", "payload", "created_at"},
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, assets_dir: Path):
    from app_fixtures import launch_demo

    store = Store.open(tmp_path_factory.mktemp("privacy") / "spl.db")
    demo, url, _ = launch_demo(store, assets_dir, TOKEN)
    try:
        yield url, store
    finally:
        demo.close()
        store.close()


def session(client: Client, pid: str, study: str, external: str, choice: str) -> tuple[str, list]:
    """A full session; returns the session id and every response the participant saw."""
    seen: list = []
    sid = client.predict(pid, study, external, api_name="/new_session")
    while (pair := client.predict(sid, api_name="/next_pair")) is not None:
        seen.append(pair)
        seen.append(client.predict(sid, pair["pair_id"], choice, api_name="/label"))
    seen.append(client.predict(sid, "Secret question of " + pid + "?",
                               [f"{pid} answer one", f"{pid} answer two"], api_name="/rank"))
    seen.append(client.predict(sid, api_name="/finish"))
    return sid, seen


def test_participants_never_see_each_others_data(server) -> None:
    url, store = server
    alice = deadline_client(url, verbose=False, headers={"X-Forwarded-For": FAKE_IP, "User-Agent": FAKE_UA})
    bob = deadline_client(url, verbose=False)
    bob_sid, _ = session(bob, "BOB-PID", "STUDY-7", "BOB-EXT-SESSION", "B")
    alice_sid, seen = session(alice, "ALICE-PID", "STUDY-7", "ALICE-EXT", "A")
    text = json.dumps(seen, ensure_ascii=False)
    for secret in (bob_sid, "BOB-PID", "BOB-EXT-SESSION", "BOB-PID answer"):
        assert secret not in text  # nothing of Bob's reaches Alice
    # Alice's progress is her own: her labels count from 0, Bob's do not show
    assert [s["n_labels"] for s in seen if isinstance(s, dict) and "n_labels" in s] == \
        list(range(1, 9))
    # what Alice knows of Bob (participant id, study id, external session id) opens nothing
    for guess in ("BOB-PID", "STUDY-7", "BOB-EXT-SESSION", bob_sid[:20], bob_sid.upper()):
        for endpoint in ("/next_pair", "/undo", "/finish"):
            with pytest.raises(Exception, match="does not exist|No session"):
                alice.predict(guess, api_name=endpoint)
    assert [lab.choice for lab in store.labels(bob_sid)] == ["B"] * 8


def test_exports_need_the_admin_token(server) -> None:
    url, _ = server
    client = deadline_client(url, verbose=False)
    session(client, "CAROL-PID", "STUDY-8", "CAROL-EXT", "A")  # something to export
    for token in ("", "wrong", TOKEN[:-1], TOKEN.upper()):
        for endpoint in ("/admin_export", "/admin_stats"):
            with pytest.raises(Exception, match="admin token is not valid"):
                client.predict(token, api_name=endpoint)
    files = client.predict(TOKEN, api_name="/admin_export")
    exported = "".join(Path(f).read_text(encoding="utf-8-sig") for f in files)
    with sqlite3.connect(server[1].path) as conn:
        sids = [r[0] for r in conn.execute("SELECT session_id FROM sessions")]
    assert sids and not any(sid in exported for sid in sids)  # bearer tokens never exported


def test_nothing_identifying_is_stored(server) -> None:
    url, store = server
    probe = deadline_client(url, verbose=False, headers={"X-Forwarded-For": FAKE_IP, "User-Agent": FAKE_UA})
    session(probe, "ALICE-PID", "STUDY-7", "ALICE-EXT", "A")  # a session with identifying headers
    with sqlite3.connect(store.path) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        columns = {t: {r[1] for r in conn.execute(f"PRAGMA table_info({t})")} for t in tables}
        dump = "\n".join(conn.iterdump())
    assert columns == ALLOWED_COLUMNS
    assert "ALICE-PID" in dump  # the study id is stored, as documented
    for secret in (FAKE_IP, FAKE_UA, "secret-device", "127.0.0.1", "python-httpx", "Mozilla"):
        assert secret not in dump
