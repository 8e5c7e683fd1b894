"""Hostile input, table-driven: every endpoint, the raw HTTP routes and the CLIs (``python -m
train``, ``python -m app.admin``, ``python app.py``). Each case must get a clear error, write
nothing (row counts of every table before/after), leave the server serving (a health check after
each case), and show the visitor no stack trace and no file path."""

from __future__ import annotations

import json
import os
import runpy
import secrets
import shutil
import sqlite3
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

gradio_client = pytest.importorskip("gradio_client")
from click.testing import CliRunner  # noqa: E402
from gradio_client import Client  # noqa: E402

from app_fixtures import deadline_client  # noqa: E402

from app.store import Store  # noqa: E402

TOKEN = "hostile-admin-token"
TABLES = ("participants", "sessions", "labels", "rankings", "events")
LEAKS = ("Traceback", "/work", ".py", "File \"")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:gradio.queueing",
                                        "ignore:.*no_silent_downcasting.*",
                                        "ignore:The copy keyword is deprecated")


@dataclass
class World:
    """The live server and the sessions the cases aim at."""

    url: str
    store: Store
    client: Client
    service: Any
    tmp: Path
    sid: str = ""  # an open session, first pair labelled
    victim: str = ""  # another participant's open session
    finished: str = ""  # a finished ("expired") session
    deleted: str = ""  # a session whose participant the study owner deleted
    labelled: dict[str, str] | None = None  # the label already given in `sid`


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, assets_dir: Path):
    from app_fixtures import launch_demo

    from app.admin import delete_participant

    tmp = tmp_path_factory.mktemp("hostile")
    store = Store.open(tmp / "spl.db")
    demo, url, service = launch_demo(store, assets_dir, TOKEN)
    try:
        client = deadline_client(url, verbose=False)
        w = World(url, store, client, service, tmp)
        w.sid = client.predict("ATTACKER", api_name="/new_session")
        pair = client.predict(w.sid, api_name="/next_pair")
        client.predict(w.sid, pair["pair_id"], "A", api_name="/label")
        w.labelled = pair
        w.victim = client.predict("VICTIM", "STUDY-1", "PROLIFIC-SESSION-9",
                                  api_name="/new_session")
        w.finished = client.predict("DONE", api_name="/new_session")
        client.predict(w.finished, api_name="/finish")
        w.deleted = client.predict("FORGOTTEN", api_name="/new_session")
        delete_participant(store, "FORGOTTEN")
        yield w
    finally:
        demo.close()
        store.close()


def counts(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        return {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES}


def healthy(w: World) -> None:
    """The server still serves: the page loads and the queue answers the attacker's session
    with its next pair (raw HTTP: a quarter of gradio_client's cost per call)."""
    with urllib.request.urlopen(w.url, timeout=30) as response:
        assert response.status == 200
    text = raw_api("/next_pair", lambda w: json.dumps({"data": [w.sid]}).encode(),
                   event="complete")(w)
    pair = json.loads(text.split("data:", 1)[1])[0]
    assert pair is not None and pair["pair_id"] != w.labelled["pair_id"]


def api(endpoint: str, make: Callable[[World], tuple]) -> Callable[[World], str]:
    def run(w: World) -> str:
        with pytest.raises(Exception) as info:
            w.client.predict(*make(w), api_name=endpoint)
        return str(info.value)
    return run


def http(method: str, path: str | Callable[[World], str], body: bytes | None = None,
         expect: tuple[int, ...] = (400, 403, 404, 405, 422)) -> Callable[[World], str]:
    def run(w: World) -> str:
        where = path(w) if callable(path) else path
        request = urllib.request.Request(w.url.rstrip("/") + where, data=body, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, text = response.status, response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as err:
            status, text = err.code, err.read().decode("utf-8", "replace")
        assert status in expect, (status, text[:300])
        assert "CREATE TABLE" not in text and "root:" not in text  # no DB or system file
        return text or f"HTTP {status}"
    return run


def raw_api(endpoint: str, body: Callable[[World], bytes],
            event: str = "error") -> Callable[[World], str]:
    """POST a raw JSON body to /gradio_api/call/<endpoint> and read the event stream: for
    payloads gradio_client cannot even encode (lone surrogates, raw escapes)."""
    def run(w: World) -> str:
        base = w.url.rstrip("/") + "/gradio_api/call" + endpoint
        request = urllib.request.Request(base, data=body(w), method="POST",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            event_id = json.loads(response.read())["event_id"]
        with urllib.request.urlopen(f"{base}/{event_id}", timeout=60) as response:
            text = response.read().decode("utf-8", "replace")
        assert f"event: {event}" in text, text[:300]
        return text
    return run


def cli(module: str, make_args: Callable[[World], list[str]],
        exit_codes: tuple[int, ...] = (1,)) -> Callable[[World], str]:
    def run(w: World) -> str:
        if module == "train":
            from train.cli import cli as group
        else:
            from app.admin import cli as group
        result = CliRunner().invoke(group, make_args(w))
        assert result.exit_code in exit_codes, (result.exit_code, result.output,
                                                result.exception)
        assert isinstance(result.exception, SystemExit), result.exception  # handled, not raised
        return result.output
    return run


# -- files the CLI cases need ---------------------------------------------------------------

def run_copy(w: World, name: str, damage: Callable[[Path], None]) -> Path:
    from app_fixtures import make_run

    folder = w.tmp / f"run-{name}"
    if not folder.exists():
        make_run(folder, "spl")
        damage(folder / "model.safetensors")
    return folder


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def garbage(path: Path) -> None:
    path.write_bytes(secrets.token_bytes(4096))


def pickled(path: Path) -> None:
    path.write_bytes(b"\x80\x04\x95" + secrets.token_bytes(64))  # a pickle's signature


def dataset_copy(w: World, name: str, line: bytes) -> Path:
    from app_fixtures import build_dataset

    folder = w.tmp / f"ds-{name}"
    if not folder.exists():
        base = w.tmp / "ds-base"
        if not base.exists():
            build_dataset(base)
        shutil.copytree(base, folder)
        train = folder / "train.jsonl"
        lines = train.read_bytes().splitlines(keepends=True)
        train.write_bytes(b"".join(lines[:3]) + line + b"\n" + b"".join(lines[3:]))
    return folder


def sqlite_file(w: World, name: str, data: bytes) -> Path:
    path = w.tmp / name
    path.write_bytes(data)
    return path


def snapshot(w: World) -> Path:
    path = w.tmp / "snap.db"
    if not path.exists():
        w.store.backup(path)
    return path


def truncated_snapshot(w: World) -> Path:
    path = w.tmp / "snap-cut.db"
    path.write_bytes(snapshot(w).read_bytes()[:3000])
    return path


def app_py(w: World, runs: Path) -> str:
    """``python app.py`` (run in-process) with SPL_RUNS at a damaged run folder."""
    env = {"SPL_RUNS": str(runs), "SPL_DB": str(w.tmp / "never.db"), "PORT": "1"}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    import torch

    threads = torch.get_num_threads()  # app.py sets it for the process
    try:
        with pytest.raises(SystemExit) as info:
            runpy.run_path(str(Path(__file__).resolve().parents[2] / "app.py"),
                           run_name="__main__")
    finally:
        torch.set_num_threads(threads)
        for k, v in old.items():
            os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)
    assert not (w.tmp / "never.db").exists()
    return str(info.value.code)


# -- the table ---------------------------------------------------------------------------------

S, LONG = "does not exist", "x" * 200_000
CASES: list[tuple[str, Callable[[World], str], str]] = [
    # /new_session: oversized, control characters, NUL, wrong types
    ("participant 200 chars", api("/new_session", lambda w: ("p" * 200,)), "at most 128"),
    ("participant 200k chars", api("/new_session", lambda w: (LONG,)), "at most 128"),
    ("participant NUL byte", api("/new_session", lambda w: ("P\x00X",)), "printable"),
    ("participant ANSI escape", api("/new_session", lambda w: ("\x1b[31mred",)), "printable"),
    ("participant lone surrogate",
     raw_api("/new_session", lambda w: b'{"data": ["\\ud800x", "", ""]}'), "printable"),
    ("participant escaped NUL",
     raw_api("/new_session", lambda w: b'{"data": ["a\\u0000b", "", ""]}'), "printable"),
    ("participant dict (NoSQL-style)", api("/new_session", lambda w: ({"$ne": 1},)), "must be text"),
    ("participant list", api("/new_session", lambda w: (["a", "b"],)), "must be text"),
    ("participant huge number", api("/new_session", lambda w: (10**30,)), "must be text"),
    ("study id 10k chars", api("/new_session", lambda w: ("P", "s" * 10_000)), "at most 128"),
    ("external session id with NUL", api("/new_session", lambda w: ("P", "S", "a\x00b")), "printable"),
    # /next_pair: forged, expired and other participants' session ids
    ("forged session id", api("/next_pair", lambda w: (secrets.token_urlsafe(32),)), S),
    ("session id, other case", api("/next_pair", lambda w: (w.victim.swapcase(),)), S),
    ("session id, truncated", api("/next_pair", lambda w: (w.victim[:-1],)), S),
    ("session id + NUL", api("/next_pair", lambda w: (w.victim + "\x00",)), S),
    ("session id + suffix", api("/next_pair", lambda w: (w.victim + "A",)), S),
    ("victim's participant id", api("/next_pair", lambda w: ("VICTIM",)), S),
    ("victim's Prolific SESSION_ID", api("/next_pair", lambda w: ("PROLIFIC-SESSION-9",)), S),
    ("SQL wildcard as session id", api("/next_pair", lambda w: ("%" * 43,)), S),
    ("session id of a deleted participant", api("/next_pair", lambda w: (w.deleted,)), S),
    ("session id as list", api("/next_pair", lambda w: ([w.sid],)), "No session is active"),
    ("session id as number", api("/next_pair", lambda w: (-1,)), "No session is active"),
    # /label: replay, traversal, oversized, wrong types, expired sessions
    ("replayed label", api("/label", lambda w: (w.sid, w.labelled["pair_id"], "A")),
     "already has an answer"),
    ("pair id path traversal", api("/label", lambda w: (w.sid, "../../../etc/passwd", "A")),
     "not part of the demo"),
    ("pair id 200k chars", api("/label", lambda w: (w.sid, LONG, "A")), "not part of the demo"),
    ("pair id as nested JSON", api("/label", lambda w: (w.sid, {"a": [{"b": 1}]}, "A")),
     "not part of the demo"),
    ("choice as list", api("/label", lambda w: (w.sid, w.labelled["pair_id"], ["A"])),
     "one of A, B, tie or skip"),
    ("choice with NUL", api("/label", lambda w: (w.sid, "p", "A\x00")), "one of A, B, tie or skip"),
    ("choice negative number", api("/label", lambda w: (w.sid, "p", -1)), "one of A, B, tie"),
    ("choice huge float", api("/label", lambda w: (w.sid, "p", 1e308)), "one of A, B, tie"),
    ("label on a finished session", api("/label", lambda w: (
        w.finished, w.service.items[0]["pair_id"], "A")), "no pairs left"),
    ("label on a forged session", api("/label", lambda w: (
        secrets.token_urlsafe(32), w.service.items[0]["pair_id"], "A")), S),
    # /undo and /finish
    ("undo on a forged session", api("/undo", lambda w: (secrets.token_urlsafe(40),)), S),
    ("undo on a finished session", api("/undo", lambda w: (w.finished,)), "finished"),
    ("finish a deleted participant's session", api("/finish", lambda w: (w.deleted,)), S),
    ("finish with nested JSON", api("/finish", lambda w: ({"session_id": w.sid},)),
     "No session is active"),
    # /rank
    ("prompt with NUL", api("/rank", lambda w: (w.sid, "Hi\x00", ["a", "b"])), "control characters"),
    ("prompt 1,001 chars", api("/rank", lambda w: (w.sid, "q" * 1001, ["a", "b"])), "limit is 1,000"),
    ("prompt as dict", api("/rank", lambda w: (w.sid, {"q": 1}, ["a", "b"])), "must be text"),
    ("candidates nested lists", api("/rank", lambda w: (w.sid, "Hi", [["a"], ["b"]])),
     "candidate 1 must be text"),
    ("candidates as dict", api("/rank", lambda w: (w.sid, "Hi", {"a": "b", "c": "d"})),
     "list of texts"),
    ("candidates as one string", api("/rank", lambda w: (w.sid, "Hi", "a\n---\nb")), "list of texts"),
    ("candidate bell character", api("/rank", lambda w: (w.sid, "Hi", ["\x07ring", "b"])),
     "control characters"),
    ("candidates numbers", api("/rank", lambda w: (w.sid, "Hi", [-1, 10**20])), "must be text"),
    ("1,000 candidates", api("/rank", lambda w: (w.sid, "Hi", [f"c{i}" for i in range(1000)])),
     "between 2 and 8"),
    ("rank on a forged session", api("/rank", lambda w: (w.victim[::-1], "Hi", ["a", "b"])), S),
    # admin endpoints
    ("export, wrong token", api("/admin_export", lambda w: ("guess",)), "not valid"),
    ("export, token + space", api("/admin_export", lambda w: (TOKEN + " ",)), "not valid"),
    ("export, token other case", api("/admin_export", lambda w: (TOKEN.upper(),)), "not valid"),
    ("export, token 200k chars", api("/admin_export", lambda w: (LONG,)), "not valid"),
    ("stats, token as list", api("/admin_stats", lambda w: ([TOKEN],)), "not valid"),
    ("stats, empty token", api("/admin_stats", lambda w: ("",)), "not valid"),
    # raw HTTP: file routes and malformed bodies
    ("file route to the database", http("GET", lambda w: f"/gradio_api/file={w.store.path}",
                                        expect=(403,)), "File not allowed"),
    ("file route traversal", http("GET", "/gradio_api/file=../../../../etc/passwd", expect=(403,)),
     "File not allowed"),
    ("file route encoded traversal", http("GET", "/gradio_api/file=%2e%2e%2f%2e%2e%2fetc%2fpasswd",
                                          expect=(403,)), "File not allowed"),
    ("invalid UTF-8 body", http("POST", "/gradio_api/call/next_pair", b'{"data": ["\xff\xfe"]}',
                                expect=(400,)), "error parsing the body"),
    ("deeply nested JSON body", http("POST", "/gradio_api/call/next_pair",
                                     b'{"data": [' + b"[" * 100_000 + b"]" * 100_000 + b"]}",
                                     expect=(400,)), "error parsing the body"),
    ("truncated JSON body", http("POST", "/gradio_api/call/label", b'{"data": ["abc", ',
                                 expect=(422,)), "JSON decode error"),
    # python -m train: corrupted checkpoints and datasets, traversal in file arguments
    ("eval: truncated model.safetensors", cli("train", lambda w: [
        "eval", "--run", str(run_copy(w, "cut", truncate)), "--data", str(w.tmp)]), "sha256"),
    ("eval: random bytes as safetensors", cli("train", lambda w: [
        "eval", "--run", str(run_copy(w, "junk", garbage)), "--data", str(w.tmp)]), "Error:"),
    ("eval: pickle as safetensors", cli("train", lambda w: [
        "eval", "--run", str(run_copy(w, "pickle", pickled)), "--data", str(w.tmp)]), "Error:"),
    ("fit: train.jsonl with a bad line", cli("train", lambda w: [
        "fit", "--data", str(dataset_copy(w, "bad", b'{"user": "u1", "prompt": ')),
        "--cache", str(w.tmp / "cache"), "--out", str(w.tmp / "fit-bad")]), "train.jsonl"),
    ("fit: train.jsonl with a NUL/invalid UTF-8 line", cli("train", lambda w: [
        "fit", "--data", str(dataset_copy(w, "utf8", b'{"user": "\xff\x00"}')),
        "--cache", str(w.tmp / "cache"), "--out", str(w.tmp / "fit-utf8")]), "train.jsonl"),
    ("eval: --run path traversal", cli("train", lambda w: [
        "eval", "--run", "../../../../../nonexistent-run", "--data", str(w.tmp)], (2,)),
     "does not exist"),
    ("app.py: truncated checkpoint in SPL_RUNS",
     lambda w: app_py(w, run_copy(w, "cut", truncate)), "Error:"),
    # python -m app.admin
    ("admin backup: missing database", cli("admin", lambda w: [
        "backup", "--db", str(w.tmp / "nope.db"), "--out", str(w.tmp / "b.db")]), "no database"),
    ("admin backup: not a database", cli("admin", lambda w: [
        "backup", "--db", str(sqlite_file(w, "text.db", b"hello" * 1000)),
        "--out", str(w.tmp / "b2.db")]), "damaged"),
    ("admin backup: refuses to overwrite", cli("admin", lambda w: [
        "backup", "--db", str(w.store.path), "--out", str(snapshot(w))]), "--force"),
    ("admin restore: truncated backup", cli("admin", lambda w: [
        "restore", "--backup", str(truncated_snapshot(w)), "--db", str(w.tmp / "r1.db")]),
     "Error:"),
    ("admin restore: over the live database", cli("admin", lambda w: [
        "restore", "--backup", str(snapshot(w)), "--db", str(w.store.path)]), "--force"),
    ("admin restore: backup path traversal", cli("admin", lambda w: [
        "restore", "--backup", "../../../../etc/passwd", "--db", str(w.tmp / "r2.db")]),
     "Error:"),
    ("admin export: unknown format", cli("admin", lambda w: [
        "export", "--db", str(w.store.path), "--format", "xml"], (2,)), "Invalid value"),
    ("admin delete: unknown participant", cli("admin", lambda w: [
        "delete", "--db", str(w.store.path), "--participant", "NOBODY\x00", "--yes"]),
     "no participant"),
]


@pytest.mark.parametrize("name, run, expected", CASES, ids=[c[0] for c in CASES])
def test_hostile_input(world: World, name: str, run: Callable[[World], str],
                       expected: str) -> None:
    before = counts(world.store.path)
    text = run(world)
    assert expected in text, text[:500]
    leaked = [s for s in LEAKS if s in text]
    assert not leaked, (leaked, text[:500])
    assert counts(world.store.path) == before  # nothing written
    healthy(world)
    assert world.store.integrity_check()


def test_the_table_is_big_enough() -> None:
    assert len(CASES) >= 30
