"""app.service's set-up and plumbing, checked by what comes out: the backbone a run asks for,
the refusal of mixed widths, the attention repeat's texts, the user types, the probe set's
slices, the prior's empty context and the empty stability pool (mutation survivors of
app/service.py, issue 13)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch

import app.service as service_module
from app.runs import RunInfo
from app.service import REPEAT_SUFFIX, Service, ServiceError
from app_fixtures import FakeEmbedder


def _run(backbone: object, embed_dim: int = 384) -> RunInfo:
    from spl_model import ModelConfig, build_model

    model = build_model(ModelConfig(kind="spl", embed_dim=embed_dim, latent_dim=2,
                                    hidden_dim=4)).eval()
    return RunInfo(name="x", folder=Path("x"), model=model, config={"backbone": backbone})


@pytest.mark.parametrize(("backbone", "expected"), [
    ({"name": "/m/llama", "quantize": "4bit"}, (("/m/llama",), {"quantize": "4bit"})),
    ({"name": "/m/llama", "quantize": "none"}, (("/m/llama",), {"quantize": None})),
    ({"name": "/m/llama", "quantize": None}, (("/m/llama",), {"quantize": None})),
    ({"name": "/m/llama"}, (("/m/llama",), {"quantize": None})),
])
def test_a_run_without_a_kind_loads_its_backbone_by_name(
        monkeypatch: pytest.MonkeyPatch, backbone: dict, expected: tuple) -> None:
    import spl_model.backbones

    calls = []
    monkeypatch.setattr(spl_model.backbones, "load_backbone",
                        lambda *a, **k: calls.append((a, k)) or "loaded")
    assert service_module._load_backbone(_run(backbone)) == "loaded"
    assert calls == [expected]


def test_a_run_with_a_kind_loads_the_recorded_spec_without_unknown_fields(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import spl_model.backbones
    from spl_model.backbones import BackboneSpec

    calls = []
    monkeypatch.setattr(spl_model.backbones, "load_backbone",
                        lambda *a, **k: calls.append((a, k)) or "loaded")
    recorded = {"name": "/m/llama", "kind": "causal", "quantize": "4bit", "max_length": 64,
                "pooling": "last-token", "backbone": "llama", "dim": 1024}
    service_module._load_backbone(_run(recorded))
    assert calls == [((BackboneSpec(name="/m/llama", kind="causal", quantize="4bit",
                                    max_length=64, pooling="last-token"),), {})]


def test_runs_of_different_embedding_widths_are_refused(service: Service) -> None:
    with pytest.raises(ServiceError, match=r"embedding widths \[16, 384\]"):
        Service({"spl": service.runs["spl"], "narrow": _run({"name": "fake"}, 16)},
                service.pack)
    both = Service({"spl": service.runs["spl"], "same": _run({"name": "fake"})}, service.pack)
    assert both.embed_dim == 384 and both.backbone_name == "fake"


def test_the_attention_repeat_shows_the_checked_pairs_texts(service: Service) -> None:
    pairs = service.pack["pairs"]
    check = pairs[2]["pair_id"]
    items = Service(service.runs, {**service.pack, "attention_check": check}).items
    assert items[:-1] == pairs
    assert items[-1] == {**pairs[2], "pair_id": check + REPEAT_SUFFIX}
    plain = Service(service.runs, {k: v for k, v in service.pack.items()
                                   if k != "attention_check"})
    assert plain.items == pairs  # no check, no repeat


def test_user_types_come_from_the_packs_dataset(service: Service) -> None:
    pack = {k: v for k, v in service.pack.items() if k != "dataset"}
    assert Service(service.runs, {**pack, "dataset": {"user_types": ["a", "b"]}}).user_types \
        == ["a", "b"]
    assert Service(service.runs, {**pack, "dataset": {"name": "x"}}).user_types == []
    assert Service(service.runs, pack).user_types == []


def test_a_personalisation_cannot_be_changed_once_made(service: Service) -> None:
    person = service.personalise([])
    with pytest.raises(dataclasses.FrozenInstanceError):
        person.n_context = 3  # type: ignore[misc]


def test_warm_up_loads_the_backbone_even_when_the_pack_needs_none(service: Service) -> None:
    loads = []
    lazy = Service(service.runs, service.pack, service._pack_vectors,
                   embedder_loader=lambda: loads.append(1) or FakeEmbedder())
    lazy._probe_vectors()
    assert loads == []  # the probe set is in the pack's vectors
    lazy.warm_up()
    assert loads == [1] and lazy.backbone_loaded


def test_the_probe_sets_slices_cover_each_sets_candidates_in_order(service: Service) -> None:
    probe, slices = service._probe_vectors()
    sets = service.ranking_sets
    assert len(sets) >= 2 and len(slices) == len(sets)
    assert slices[0].start == 0 and slices[-1].stop == len(probe)
    for part, item in zip(slices, sets, strict=True):
        expected = service.vectors(item["prompt"], [c["response"] for c in item["candidates"]])
        assert torch.equal(probe[part], expected)


def test_a_latent_model_without_a_latent_map_gets_no_point(service: Service) -> None:
    person = service.personalise([(p["prompt"], p["a"], p["b"]) for p in service.pack["pairs"][:2]])
    run = service.runs["vpl"]
    saved, run.latent_map = run.latent_map, None
    try:
        latent = service.latent(person)
    finally:
        run.latent_map = saved
    assert set(latent) == {"spl"} and "vpl" in person.z


def test_with_no_answer_the_selector_sees_an_empty_context(
        service: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = []

    def spy(model, context, a, b, **kwargs):
        seen.append([tuple(t.shape) for t in context])
        return real(model, context, a, b, **kwargs)

    real = service_module.select_query
    monkeypatch.setattr(service_module, "select_query", spy)
    items = [i for i in service.items if not i["pair_id"].endswith(REPEAT_SUFFIX)]
    service.select_pair([], items, seed=0)
    assert seen == [[(1, 0, 384), (1, 0, 384), (1, 0)]]


def test_with_every_pair_answered_the_look_ahead_gets_an_empty_pool(
        service: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    """Stability is 1 then by definition (nothing left to ask), not by the model's luck."""
    pools = []

    def spy(model, context, probe, a, b, **kwargs):
        pools.append((tuple(a.shape), tuple(b.shape)))
        return real(model, context, probe, a, b, **kwargs)

    real = service_module.lookahead_stability
    monkeypatch.setattr(service_module, "lookahead_stability", spy)
    person = service.personalise([(p["prompt"], p["a"], p["b"]) for p in service.pack["pairs"][:2]])
    assert service.stability(person, []) == {"spl": 1.0, "vpl": 1.0}
    assert pools == [((0, 384), (0, 384))] * 2
