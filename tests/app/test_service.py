"""Tests for app.service and app.runs: loading runs, embeddings, posterior, latent, ranking."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from app.runs import RunError, find_run_folders, model_card
from app.service import REPEAT_SUFFIX, STOP_AT, Service, ServiceError
from app_fixtures import CALIBRATION

ROOT = Path(__file__).resolve().parents[2]


def test_find_run_folders(assets_dir: Path, tmp_path: Path) -> None:
    runs = assets_dir / "runs"
    assert [p.name for p in find_run_folders(str(runs))] == ["spl", "vpl", "btl"]
    joined = os.pathsep.join([str(runs / "btl"), str(runs / "spl")])
    assert [p.name for p in find_run_folders(joined)] == ["btl", "spl"]
    with pytest.raises(RunError, match="No trained runs were found"):
        find_run_folders(str(tmp_path))


def test_service_loads_runs_and_session_items(service: Service) -> None:
    assert list(service.runs) == ["spl", "vpl", "btl"]
    assert all(not r.model.training for r in service.runs.values())
    pack = service.pack
    assert len(service.items) == len(pack["pairs"]) + 1
    assert service.items[-1]["pair_id"] == pack["attention_check"] + REPEAT_SUFFIX
    assert service.item("nope") is None


def test_pack_texts_need_no_backbone_and_typed_texts_are_cached(service: Service,
                                                                 embedder) -> None:
    pair = service.pack["pairs"][0]
    vec = service.vectors(pair["prompt"], [pair["a"], pair["b"]])
    assert vec.shape == (2, 384) and vec.dtype == torch.float32
    assert embedder.calls == 0  # precomputed
    service.vectors("A typed prompt", ["one", "two"])
    service.vectors("A typed prompt", ["two", "one", "three"])
    assert embedder.texts == 3  # "three" only, the rest from the LRU


def test_lru_is_bounded(assets_dir: Path, embedder) -> None:
    svc = Service.from_folders(find_run_folders(str(assets_dir / "runs")), assets_dir,
                               embedder=embedder, cache_size=4)
    svc.vectors("p", [f"c{i}" for i in range(10)])
    assert len(svc._cache) == 4


def test_personalise_prior_and_posterior(service: Service) -> None:
    prior = service.personalise([])
    assert set(prior.z) == {"spl", "vpl"}  # BTL has no latent
    assert prior.n_context == 0 and torch.equal(prior.z["spl"], torch.zeros(8))
    assert prior.samples["spl"].shape == (32, 8)
    pair = service.pack["pairs"][0]
    post = service.personalise([(pair["prompt"], pair["a"], pair["b"])])
    assert post.n_context == 1 and post.z["vpl"].shape == (8,)
    assert not torch.equal(post.z["spl"], prior.z["spl"])


def test_latent_point_uses_the_runs_projection(service: Service) -> None:
    pair = service.pack["pairs"][0]
    person = service.personalise([(pair["prompt"], pair["a"], pair["b"])])
    latent = service.latent(person)
    lmap = service.runs["spl"].latent_map
    expected = (person.z["spl"] - torch.tensor(lmap["mean"])) @ torch.tensor(lmap["components"]).T
    assert latent["spl"]["x"] == pytest.approx(float(expected[0]), abs=1e-5)
    assert latent["spl"]["y"] == pytest.approx(float(expected[1]), abs=1e-5)
    assert len(latent["spl"]["samples"]) == 32 and len(latent["spl"]["sd"]) == 2
    assert sum(latent["spl"]["type_shares"].values()) == pytest.approx(1.0)
    assert "btl" not in latent


def test_confidence_is_the_calibrated_top_pick_probability(service: Service) -> None:
    """The number shown: the run's calibrator applied to the features of each ranking set,
    averaged over the sets; the same answers always give the same number."""
    from spl_model.calibration import Calibrator, confidence_features

    pairs = service.pack["pairs"]
    person = service.personalise([(p["prompt"], p["a"], p["b"]) for p in pairs[:2]])
    conf = service.confidence(person)
    assert set(conf) == {"spl", "vpl"} and all(0.0 <= v <= 1.0 for v in conf.values())
    probe, slices = service._probe_vectors()
    chosen, rejected = person.context
    ctx = (chosen[None], rejected[None], torch.ones(1, 2, dtype=torch.bool))
    calib = Calibrator(tuple(CALIBRATION))
    model = service.runs["spl"].model
    by_hand = [calib(*confidence_features(model, ctx, probe[part][None], seed=0)[:3])
               for part in slices]
    assert conf["spl"] == pytest.approx(float(torch.cat(by_hand).mean()), abs=1e-4)
    again = service.personalise([(p["prompt"], p["a"], p["b"]) for p in pairs[:2]])
    assert service.confidence(again) == conf


def test_a_run_without_calibrator_shows_no_confidence(service: Service) -> None:
    run = service.runs["vpl"]
    saved, run.calibrator = run.calibrator, None
    try:
        assert "vpl" not in service.confidence(service.personalise([]))
    finally:
        run.calibrator = saved


def test_no_type_shares_before_the_first_answer(service: Service) -> None:
    assert service.latent(service.personalise([]))["spl"]["type_shares"] == {}
    pair = service.pack["pairs"][0]
    after = service.latent(service.personalise([(pair["prompt"], pair["a"], pair["b"])]))
    assert sum(after["spl"]["type_shares"].values()) == pytest.approx(1.0)


def test_stability_starts_low_and_is_one_when_nothing_is_left_to_ask(service: Service) -> None:
    pairs = service.pack["pairs"]
    first = service.stability(service.personalise([]))
    assert first["spl"] < STOP_AT  # no "you can stop" before the first answer
    everything = service.personalise([(p["prompt"], p["a"], p["b"]) for p in pairs])
    assert service.stability(everything, []) == {"spl": 1.0, "vpl": 1.0}
    # repeats of the attention check are never counted as a pair to ask
    repeat = [{**pairs[0], "pair_id": pairs[0]["pair_id"] + REPEAT_SUFFIX}]
    assert service.stability(everything, repeat) == {"spl": 1.0, "vpl": 1.0}


def test_rank_sorts_every_model_best_first(service: Service) -> None:
    cands = ["Short answer.", "A much longer, friendlier answer!", "1. Step one\n2. Step two"]
    result = service.rank("How do I start?", cands, service.personalise([]))
    assert set(result) == {"spl", "vpl", "btl"}
    for ranking in result.values():
        assert sorted(r["response"] for r in ranking) == sorted(cands)
        scores = [r["score"] for r in ranking]
        assert scores == sorted(scores, reverse=True)
    # BTL ignores the visitor: the same ranking whatever the context
    pair = service.pack["pairs"][0]
    other = service.rank("How do I start?", cands,
                         service.personalise([(pair["prompt"], pair["a"], pair["b"])]))
    assert other["btl"] == result["btl"]


def test_mixed_backbones_are_refused(assets_dir: Path, tmp_path: Path, embedder) -> None:
    import shutil

    other = tmp_path / "vpl"
    shutil.copytree(assets_dir / "runs" / "vpl", other)
    config = json.loads((other / "config.json").read_text())
    config["backbone"] = {"name": "llama", "quantize": "4bit"}
    (other / "config.json").write_text(json.dumps(config))
    with pytest.raises(ServiceError, match="different backbones"):
        Service.from_folders([assets_dir / "runs" / "spl", other], assets_dir, embedder=embedder)


def test_model_card_reports_collapse(service: Service) -> None:
    card = model_card(service.runs["spl"], {"accuracy": 0.95})
    assert "| accuracy | 0.800 |" in card and "| latent collapsed | no: " in card
    assert "oracle accuracy" in card
    assert "latent collapsed" not in model_card(service.runs["btl"])


def test_app_does_not_import_peft(assets_dir: Path) -> None:
    """Building the app and ranking typed candidates never imports the trainer's peft."""
    code = f"""
import sys
sys.path[:0] = [{str(ROOT)!r}, {str(Path(__file__).parent)!r}]
from app_fixtures import FakeEmbedder
from pathlib import Path
from app.runs import find_run_folders
from app.service import Service
from app.settings import Settings
from app.store import Store
from app.ui import build_app
import app.handlers as h, tempfile
svc = Service.from_folders(find_run_folders({str(assets_dir / 'runs')!r}), Path({str(assets_dir)!r}),
                           embedder=FakeEmbedder())
store = Store.open(Path(tempfile.mkdtemp()) / "db.sqlite")
build_app(store, svc, Settings())
sid = h.start_session(store, "p")
h.rank(store, svc, sid, "typed", ["x", "y"])
print(sorted(m for m in ("peft", "bitsandbytes", "accelerate") if m in sys.modules))
"""
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"


# -- the numbers the page shows, by hand ------------------------------------------------------


def _context(service: Service, n: int) -> list[tuple[str, str, str]]:
    return [(p["prompt"], p["a"], p["b"]) for p in service.pack["pairs"][:n]]


def test_the_sample_cloud_is_seeded_by_the_number_of_answers(service: Service) -> None:
    """z is the eval-mode posterior; the 32 samples are sample_z under seed len(context)."""
    model = service.runs["spl"].model
    context = _context(service, 2)
    person = service.personalise(context)
    chosen = torch.cat([service.vectors(p, [c]) for p, c, _ in context])[None]
    rejected = torch.cat([service.vectors(p, [r]) for p, _, r in context])[None]
    mask = torch.ones(1, 2, dtype=torch.bool)
    with torch.no_grad():
        torch.manual_seed(2)
        samples = model.sample_z(chosen, rejected, mask, 32)[0]
        z = model.posterior(chosen, rejected, mask).z[0]
    torch.testing.assert_close(person.samples["spl"], samples)
    torch.testing.assert_close(person.z["spl"], z)
    assert person.context is not None and torch.equal(person.context[0], chosen[0])
    prior = service.personalise([])
    assert prior.context is None
    with torch.no_grad():
        torch.manual_seed(0)
        empty = torch.zeros(1, 0, 384)
        prior_samples = model.sample_z(empty, empty, torch.zeros(1, 0, dtype=torch.bool), 32)[0]
    torch.testing.assert_close(prior.samples["spl"], prior_samples)


def test_the_cloud_spread_and_type_shares_by_hand(service: Service) -> None:
    """The cloud is each sample projected like z; sd its per-axis std; a type's share is the
    share of samples nearest its centroid (held-out users are no type)."""
    person = service.personalise(_context(service, 3))
    run = service.runs["spl"]
    lmap = run.latent_map
    mean, comps = torch.tensor(lmap["mean"]), torch.tensor(lmap["components"])
    cloud = (person.samples["spl"] - mean) @ comps.T  # [32, 2]
    out = service.latent(person)["spl"]
    torch.testing.assert_close(torch.tensor(out["samples"]), cloud, atol=1e-6, rtol=0)
    torch.testing.assert_close(torch.tensor(out["sd"]), cloud.std(0), atol=1e-6, rtol=0)
    groups: dict[str, list] = {}
    for p in lmap["points"]:
        groups.setdefault(p["user_type"], []).append([p["x"], p["y"]])
    names = sorted(groups)
    centroids = torch.tensor([torch.tensor(groups[n]).mean(0).tolist() for n in names])
    nearest = torch.cdist(cloud, centroids).argmin(1)
    expected = {n: float((nearest == i).float().mean()) for i, n in enumerate(names)}
    assert out["type_shares"] == pytest.approx(expected)
    assert len(set(nearest.tolist())) > 1, "the cloud must straddle types for this to test much"


def test_type_shares_leave_out_held_out_users_and_need_points() -> None:
    from app.service import _type_shares

    cloud = torch.tensor([[0.0, 0.0], [0.1, 0.0], [5.0, 5.0], [4.0, 5.0]])
    points = [{"x": 0.0, "y": 0.0, "user_type": "a"}, {"x": 5.0, "y": 5.0, "user_type": "b"},
              {"x": 0.2, "y": 0.1, "user_type": "heldout"},
              {"x": 4.5, "y": 5.0, "user_type": None}, {"x": 1.0, "y": 1.0, "user_type": "None"}]
    assert _type_shares(cloud, points) == {"a": 0.5, "b": 0.5}
    assert _type_shares(cloud, points[2:]) == {}
    assert _type_shares(cloud[:0], points) == {}


def test_rankings_are_each_models_rewards_rounded_best_first_ties_in_given_order(
        service: Service) -> None:
    cands = ["first", "second", "third", "fourth"]
    person = service.personalise(_context(service, 1))
    x = service.vectors("prompt", cands)[None]
    result = service.rank("prompt", cands, person)
    for name, run in service.runs.items():
        z = person.z.get(name)
        z = torch.zeros(1, run.model.cfg.z_dim) if z is None else z[None]
        with torch.no_grad():
            scores = run.model.reward(x, z)[0].tolist()
        order = sorted(range(4), key=lambda i: (-scores[i], i))
        assert result[name] == [{"response": cands[i], "score": round(scores[i], 4)}
                                for i in order], name
    # equal rewards keep the order given
    btl = service.runs["btl"].model
    saved = btl.decoder.out.weight.detach().clone()
    with torch.no_grad():
        btl.decoder.out.weight.zero_()
    try:
        tied = service.rank("prompt", cands, person)["btl"]
    finally:
        with torch.no_grad():
            btl.decoder.out.weight.copy_(saved)
    assert [r["response"] for r in tied] == cands


def test_confidence_is_rounded_to_four_digits(service: Service) -> None:
    conf = service.confidence(service.personalise(_context(service, 2)))
    assert all(v == round(v, 4) for v in conf.values())
    assert any(round(v, 3) != v for v in conf.values()), "a value with 4 digits to check"


def test_the_lru_drops_the_least_recently_used_text(assets_dir: Path, embedder) -> None:
    svc = Service.from_folders(find_run_folders(str(assets_dir / "runs")), assets_dir,
                               embedder=embedder, cache_size=2)
    svc.vectors("p", ["one", "two"])
    svc.vectors("p", ["one"])  # "one" is now the most recent
    svc.vectors("p", ["three"])  # evicts "two"
    before = embedder.texts
    svc.vectors("p", ["one"])
    assert embedder.texts == before, "'one' stayed cached"
    svc.vectors("p", ["two"])
    assert embedder.texts == before + 1, "'two' was evicted"


def test_an_embedder_of_the_wrong_width_is_refused(assets_dir: Path) -> None:
    from app_fixtures import FakeEmbedder

    class Narrow(FakeEmbedder):
        def embed(self, texts):
            return super().embed(texts)[:, :10]

    svc = Service.from_folders(find_run_folders(str(assets_dir / "runs")), assets_dir,
                               embedder=Narrow())
    with pytest.raises(ServiceError, match="10-dim embeddings but the models expect 384"):
        svc.vectors("typed", ["new text"])


def test_pack_vectors_from_another_backbone_are_not_used(assets_dir: Path, tmp_path: Path) -> None:
    from app.demo_pack import EMBEDDINGS_FILE
    from app.service import _read_pack_vectors

    path = assets_dir / EMBEDDINGS_FILE
    assert len(_read_pack_vectors(path, "fake", 384)) > 0
    assert _read_pack_vectors(path, "other", 384) == {}
    assert _read_pack_vectors(path, "fake", 385) == {}
    assert _read_pack_vectors(tmp_path / "missing.safetensors", "fake", 384) == {}


def test_select_pair_uses_the_spl_run_and_needs_items(service: Service) -> None:
    items = [i for i in service.items if not i["pair_id"].endswith(REPEAT_SUFFIX)]
    assert service.select_pair(_context(service, 1), [], seed=0) is None
    runs = service.runs
    try:
        service.runs = {"btl": runs["btl"]}  # no latent model: nothing to choose with
        assert service.select_pair(_context(service, 1), items, seed=0) is None
    finally:
        service.runs = runs


def test_the_latent_map_centres_before_projecting(service: Service) -> None:
    """point = (z - mean) @ components.T and cloud = (samples - mean) @ components.T, checked
    with a non-zero mean (the tiny runs' maps are centred at 0, where + and - agree)."""
    run = service.runs["spl"]
    saved = run.latent_map
    shifted = {**saved, "mean": [0.5 * (i + 1) * (-1) ** i for i in range(len(saved["mean"]))]}
    run.latent_map = shifted
    try:
        person = service.personalise(_context(service, 2))
        latent = service.latent(person)["spl"]
    finally:
        run.latent_map = saved
    mean, comps = torch.tensor(shifted["mean"]), torch.tensor(shifted["components"])
    point = (person.z["spl"] - mean) @ comps.T
    cloud = (person.samples["spl"] - mean) @ comps.T
    assert (latent["x"], latent["y"]) == pytest.approx((float(point[0]), float(point[1])), abs=1e-5)
    assert latent["sd"] == pytest.approx([float(v) for v in cloud.std(0)], abs=1e-5)
    got = torch.tensor(latent["samples"])
    torch.testing.assert_close(got, cloud, atol=1e-4, rtol=0)


def test_two_runs_of_the_same_name_keep_both_under_their_folder_names(
        assets_dir: Path, tmp_path: Path, embedder) -> None:
    import shutil

    twin = tmp_path / "spl-copy"
    shutil.copytree(assets_dir / "runs" / "spl", twin)
    svc = Service.from_folders([assets_dir / "runs" / "spl", twin], assets_dir, embedder=embedder)
    assert list(svc.runs) == ["spl", "spl-copy"]
    assert [run.name for run in svc.runs.values()] == ["spl", "spl-copy"]


def test_the_backbone_loads_once_on_warm_up_or_first_use_and_never_without_a_loader(
        service: Service) -> None:
    from app_fixtures import FakeEmbedder

    loads = []

    def loader() -> FakeEmbedder:
        loads.append(1)
        return FakeEmbedder()

    lazy = Service(service.runs, service.pack, embedder_loader=loader)
    assert not lazy.backbone_loaded and loads == []
    lazy.warm_up()  # the backbone and the probe set, now
    assert lazy.backbone_loaded and loads == [1] and lazy._probe is not None
    lazy.warm_up()
    lazy.vectors("A typed prompt", ["new text"])
    assert loads == [1]  # loaded once
    first_use = Service(service.runs, service.pack, embedder_loader=loader)
    first_use.vectors("A typed prompt", ["another new text"])
    assert loads == [1, 1] and first_use.backbone_loaded
    none = Service(service.runs, service.pack)
    assert not none.backbone_loaded
    with pytest.raises(ServiceError, match="No backbone is available"):
        none.vectors("A typed prompt", ["never embedded"])
