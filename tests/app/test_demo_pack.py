"""Tests for app.demo_pack: informative pairs from test prompts, diverse ranking sets, embeddings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from safetensors import safe_open

from app.demo_pack import build_demo_pack, pack_texts, text_key, write_demo_pack
from spl_model.render import render

ASSETS = Path(__file__).resolve().parents[2] / "assets"


def _test_prompts(dataset_dir: Path) -> set[str]:
    lines = (dataset_dir / "test.jsonl").read_text(encoding="utf-8").splitlines()
    return {json.loads(line)["prompt"] for line in lines if line.strip()}


def test_pairs_come_from_test_prompts_and_split_the_types(dataset_dir: Path) -> None:
    pack = build_demo_pack(dataset_dir, n_pairs=7, n_prompts=4, seed=0)
    pairs = pack["pairs"]
    assert len(pairs) == 7
    assert len({p["pair_id"] for p in pairs}) == 7
    assert len({p["prompt"] for p in pairs}) == 7  # one pair per prompt
    assert {p["prompt"] for p in pairs} <= _test_prompts(dataset_dir)
    splits = set()
    for pair in pairs:
        # one-hot types over the four attributes: type t prefers a iff a[t] > b[t]
        signs = tuple(1 if a > b else -1 if a < b else 0
                      for a, b in zip(pair["attributes_a"], pair["attributes_b"]))
        assert signs.count(1) == 2 and signs.count(-1) == 2  # an even 2-vs-2 split
        splits.add(max(signs, tuple(-s for s in signs)))
    assert len(splits) == 3  # the pairs cycle through every distinct split
    assert pack["attention_check"] in {p["pair_id"] for p in pairs}


def test_ranking_sets_are_diverse_and_disjoint_from_pairs(dataset_dir: Path) -> None:
    pack = build_demo_pack(dataset_dir, n_pairs=5, n_prompts=3, n_candidates=5)
    assert len(pack["ranking_sets"]) == 3
    pair_prompts = {p["prompt"] for p in pack["pairs"]}
    for item in pack["ranking_sets"]:
        assert item["prompt"] not in pair_prompts
        assert len(item["candidates"]) == 5
        attrs = [tuple(c["attributes"]) for c in item["candidates"]]
        assert len(set(attrs)) == 5
        # each (one-hot) type has its own clear favourite: +1 on its attribute, the largest
        # lead over what the other types get from it
        def lead(i: int, t: int) -> float:
            return attrs[i][t] - max(attrs[i][u] for u in range(4) if u != t)
        favourites = {max(range(5), key=lambda i: lead(i, t)) for t in range(4)}
        assert len(favourites) == 4
        assert all(attrs[max(range(5), key=lambda i: lead(i, t))][t] == 1 for t in range(4))


def test_build_is_deterministic_and_validates(dataset_dir: Path) -> None:
    assert build_demo_pack(dataset_dir, seed=3) == build_demo_pack(dataset_dir, seed=3)
    with pytest.raises(ValueError, match="4 to 6"):
        build_demo_pack(dataset_dir, n_candidates=9)


def test_write_embeds_every_text_keyed_by_sha256(dataset_dir: Path, tmp_path: Path,
                                                 embedder) -> None:
    pack = build_demo_pack(dataset_dir)
    pack_path, emb_path = write_demo_pack(pack, tmp_path, embedder)
    assert json.loads(pack_path.read_text(encoding="utf-8")) == pack
    with safe_open(str(emb_path), framework="pt") as handle:
        keys = set(handle.keys())
        expected = {text_key(render(p, r)) for p, r in pack_texts(pack)}
        assert keys == expected
        tensor = handle.get_tensor(next(iter(keys)))
        assert str(tensor.dtype) == "torch.float16" and tensor.shape == (384,)
        assert json.loads(handle.metadata()["backbone"]) == {"backbone": "fake"}


def test_shipped_pack_matches_its_embeddings() -> None:
    pack = json.loads((ASSETS / "demo_pack.json").read_text(encoding="utf-8"))
    assert len(pack["pairs"]) >= 2 and pack["attention_check"] in {
        p["pair_id"] for p in pack["pairs"]}
    assert all(4 <= len(s["candidates"]) <= 6 for s in pack["ranking_sets"])
    with safe_open(str(ASSETS / "demo_embeddings.safetensors"), framework="pt") as handle:
        assert json.loads(handle.metadata()["backbone"])["backbone"] == "minilm"
        assert set(handle.keys()) == {text_key(render(p, r)) for p, r in pack_texts(pack)}
