"""The study loop end to end: simulated participants label pairs through the real server, the
study owner exports through the admin API, `python -m train data import` reads the export
unchanged, `python -m train fit` trains SPL, VPL and BTL on it, and the app serves them
(SPL_RUNS). Embeddings come from the suite's fake backbone (hash vectors, the same ones the
fake embedder gives the app), filled into the cache under minilm's identity, so no
transformer is loaded; the models are tiny and train for a few steps."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

gradio_client = pytest.importorskip("gradio_client")
from click.testing import CliRunner  # noqa: E402
from gradio_client import Client  # noqa: E402

from app.store import Store  # noqa: E402

TOKEN = "study-loop-token"
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:gradio.queueing",
                                        "ignore:.*no_silent_downcasting.*",
                                        "ignore:The copy keyword is deprecated")


def simulated_choice(kind: str, pair: dict) -> str:
    """'short' prefers the shorter response, 'long' the longer; 'skip' and 'tie' do that."""
    if kind in ("skip", "tie"):
        return kind
    shorter = "A" if len(pair["a"]) <= len(pair["b"]) else "B"
    return shorter if kind == "short" else {"A": "B", "B": "A"}[shorter]


def collect(url: str, participants: dict[str, str]) -> None:
    client = Client(url, verbose=False)
    for pid, kind in participants.items():
        sid = client.predict(pid, api_name="/new_session")
        while (pair := client.predict(sid, api_name="/next_pair")) is not None:
            client.predict(sid, pair["pair_id"], simulated_choice(kind, pair), api_name="/label")
        client.predict(sid, api_name="/finish")


def fill_fake_cache(data_dir: Path, cache_dir: Path) -> None:
    from app_fixtures import FakeEmbedder

    from spl_model.backbones import resolve_spec
    from train.cache import EmbeddingCache, dataset_texts

    cache = EmbeddingCache(cache_dir, resolve_spec("minilm").identity())
    cache.fill(dataset_texts(data_dir), FakeEmbedder().embed, progress=False)


def test_collect_export_import_train_serve(tmp_path: Path, assets_dir: Path) -> None:
    from app_fixtures import FakeEmbedder, launch_demo

    from app.runs import find_run_folders
    from app.service import Service
    from app.settings import Settings
    from app.ui import build_app, launch_options
    from bench.appserver import serve_in_process
    from train.cli_data import data
    from train.cli_fit import fit
    from train.data.schema import load_dataset
    from train.data.study_import import pseudonym

    # 1. collect: 12 participants of two kinds, one who skips everything, one who ties
    participants = {f"PID-short-{i}": "short" for i in range(6)}
    participants |= {f"PID-long-{i}": "long" for i in range(6)}
    participants |= {"PID-skipper": "skip", "PID-tier": "tie"}
    store = Store.open(tmp_path / "spl.db")
    demo, url, _ = launch_demo(store, assets_dir, TOKEN)
    try:
        collect(url, participants)
        files = Client(url, verbose=False).predict(TOKEN, api_name="/admin_export")
        stats = Client(url, verbose=False).predict(TOKEN, api_name="/admin_stats")
    finally:
        demo.close()
        store.close()
    export = next(Path(f) for f in files if Path(f).name == "labels.jsonl")
    rows = [json.loads(line) for line in export.read_text(encoding="utf-8").splitlines()]
    assert {r["participant_id"] for r in rows} == set(participants)
    skipper = {p["participant_id"]: p for p in stats["participants"]}["PID-skipper"]
    assert skipper["n_answers"] == 0 and skipper["n_skips"] == skipper["n_labels"] > 0
    flags = {r["participant_id"]: r["session_flags"] for r in rows}
    assert "all_skips" in flags["PID-skipper"] and "failed_attention" in flags["PID-tier"]
    assert all(r["completion_code"] and r["consented_at"] and r["app_version"] for r in rows)
    active = [r for r in rows if r["query_order"] == "active"]
    assert active and all(r["model_version"] for r in active)

    # 2. import the export unchanged (format detected)
    ds = tmp_path / "study-data"
    result = CliRunner().invoke(data, ["import", str(export), "--out", str(ds),
                                       "--test-fraction", "0.3", "--min-context", "1"])
    assert result.exit_code == 0, result.output
    assert "Detected format: study" in result.output
    dataset = load_dataset(ds)
    counts = dataset.card["import_counts"]
    repeats = [r for r in rows if r["pair_id"].endswith("#repeat")]
    assert counts["participants"] == 14 and counts["participants_too_few_answers"] == 2
    assert counts["attention_repeats"] == len(repeats)
    assert counts["skips"] == sum(r["choice"] == "skip" and r not in repeats for r in rows)
    assert counts["ties"] == sum(r["choice"] == "tie" and r not in repeats for r in rows)
    users = {pseudonym(p) for p, kind in participants.items() if kind in ("short", "long")}
    assert {r["user"] for r in dataset.train} == {r["user"] for r in dataset.test} == users
    assert not any("PID" in json.dumps(r) for r in dataset.train + dataset.test)
    # every context is the user's own train answers, never the row's own pair
    answers = {(pseudonym(r["participant_id"]), r["prompt"], r["chosen"]): r["rejected"]
               for r in rows if r["choice"] in ("A", "B") and not r["pair_id"].endswith("#repeat")}
    def key(user: str, prompt: str, x: str, y: str) -> tuple:
        return user, prompt, frozenset((x, y))

    test_pairs = {key(r["user"], r["prompt"], r["chosen"], r["rejected"]) for r in dataset.test}
    for split in (dataset.train, dataset.test):
        for row in split:
            assert answers[(row["user"], row["prompt"], row["chosen"])] == row["rejected"]
            assert row["context"], "every row has a context"
            for item in row["context"]:
                pair = dataset.survey[item["id"]]
                chosen = pair["a"] if item["chosen"] == "a" else pair["b"]
                assert (row["user"], pair["prompt"], chosen) in answers  # the user's own answer
                seen = key(row["user"], pair["prompt"], pair["a"], pair["b"])
                assert seen != key(row["user"], row["prompt"], row["chosen"], row["rejected"])
                assert seen not in test_pairs  # a held-out answer is in no context

    # 3. train SPL, VPL and BTL (tiny, a few steps)
    cache, runs = tmp_path / "cache", tmp_path / "runs"
    fill_fake_cache(ds, cache)
    for kind in ("spl", "vpl", "btl"):
        result = CliRunner().invoke(fit, [
            "--data", str(ds), "--cache", str(cache), "--model", kind, "--out", str(runs / kind),
            "--latent-dim", "4", "--hidden-dim", "16", "--epochs", "3", "--batch-size", "8",
            "--eval-every", "5", "--quiet"])
        assert result.exit_code == 0, result.output
        report = json.loads((runs / kind / "report.json").read_text())
        assert report["n_eval_pairs"] == len(dataset.test) and report["dataset"] == "imported"

    # 4. serve them: SPL_RUNS points at the folder holding spl/, vpl/, btl/
    settings = Settings.from_env({"SPL_RUNS": str(runs)})
    service = Service.from_folders(find_run_folders(settings.runs), assets_dir,
                                   embedder=FakeEmbedder())
    assert {n: r.folder for n, r in service.runs.items()} == {k: runs / k for k in ("spl", "vpl", "btl")}
    with Store.open(tmp_path / "serve.db") as serve_store:
        app = build_app(serve_store, service, Settings(db_path=serve_store.path))
        url = serve_in_process(app, show_error=False, **launch_options(service))
        try:
            client = Client(url, verbose=False)
            sid = client.predict("VISITOR", api_name="/new_session")
            pair = client.predict(sid, api_name="/next_pair")
            out = client.predict(sid, pair["pair_id"], "A", api_name="/label")
            # a study's users have no known true taste to calibrate against: no number shown
            assert out["n_labels"] == 1 and out["confidence"] is None
            ranked = client.predict(sid, "How do I start running?",
                                    ["Walk first, then jog.", "Buy good shoes."], api_name="/rank")
            assert set(ranked) == {"spl", "vpl", "btl"}
        finally:
            app.close()
