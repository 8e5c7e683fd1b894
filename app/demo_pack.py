"""The demo pack: the labelling pairs and ranking sets the app ships, and their embeddings.

``build_demo_pack(dataset_folder)`` picks, from a dataset folder's TEST prompts (never seen in
training):

- ``pairs``: ``n_pairs`` labelling pairs ``{pair_id, prompt, a, b, attributes_a,
  attributes_b}``, one per prompt, chosen to be informative like the survey pools: each pair's
  answer splits the user types as evenly as possible, and the pairs cycle through the different
  splits, so a few answers tell the types apart. Without attribute vectors in the data, the
  controversial test rows are used instead (``a`` = their chosen side).
- ``ranking_sets``: ``n_prompts`` sets ``{prompt, candidates: [{response, attributes}]}`` of
  ``n_candidates`` (4-6) diverse responses each, on prompts the pairs do not use: every user
  type's favourite first, then the most different remaining responses.
- ``attention_check``: the pair id shown a second time (as ``<pair_id>#repeat``) in every
  session, for the study owner's agreement statistics.

``write_demo_pack`` also writes ``demo_embeddings.safetensors``: every pack text rendered with
``spl_model.render.render(prompt, response)`` and embedded, fp16, one tensor per text keyed by
the sha256 hex of the rendered text, with the backbone identity in the file's metadata.

CLI: ``python -m app.demo_pack --data DIR --out assets/``.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from spl_model.atomic import atomic_write

__all__ = ["EMBEDDINGS_FILE", "PACK_FILE", "build_demo_pack", "main", "pack_texts",
           "text_key", "write_demo_pack"]

PACK_FILE = "demo_pack.json"
EMBEDDINGS_FILE = "demo_embeddings.safetensors"
PACK_VERSION = 1


def text_key(rendered: str) -> str:
    """The embedding key of a rendered text: its UTF-8 sha256 in hex."""
    return hashlib.sha256(rendered.encode("utf-8")).hexdigest()


def _read_rows(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _responses_by_prompt(rows: list[dict[str, Any]]) -> dict[str, dict[str, tuple[float, ...] | None]]:
    """prompt -> {response text: attribute vector or None}, in first-seen order."""
    out: dict[str, dict[str, tuple[float, ...] | None]] = {}
    for row in rows:
        seen = out.setdefault(row["prompt"], {})
        for side in ("chosen", "rejected"):
            attrs = row.get(f"attributes_{side}")
            seen.setdefault(row[side], tuple(attrs) if attrs else None)
    return out


def _type_weights(card: dict[str, Any]) -> list[list[float]] | None:
    """One-hot weights of each user type over the attributes (types named after attributes).

    A population world (every user a weighted mix of all attributes) gets one axis per
    attribute instead: a balanced split over the axes is a pair that trades three attributes
    against the other three, so every answer says something about every attribute.
    """
    attributes, types = card.get("attributes") or [], card.get("user_types") or []
    if (card.get("world") or {}).get("kind") == "population" and attributes:
        return [[1.0 if a == b else 0.0 for a in attributes] for b in attributes]
    if not attributes or not types or any(t not in attributes for t in types):
        return None
    return [[1.0 if a == t else 0.0 for a in attributes] for t in types]


def _split(weights: list[list[float]], a: Sequence[float], b: Sequence[float]) -> tuple[int, ...]:
    """Each type's preference sign between a and b: +1 prefers a, -1 prefers b, 0 indifferent."""
    signs = []
    for w in weights:
        margin = sum(wi * (x - y) for wi, x, y in zip(w, a, b))
        signs.append(0 if abs(margin) < 1e-9 else (1 if margin > 0 else -1))
    return tuple(signs)


def _canonical(split: tuple[int, ...]) -> tuple[int, ...]:
    """The same split up to swapping the sides (the first non-zero sign made +1)."""
    first = next((s for s in split if s), 1)
    return tuple(s * first for s in split)


def _informative_pairs(by_prompt, weights, prompts: list[str], n_pairs: int,
                       rng: random.Random) -> list[dict[str, Any]]:
    """One pair per prompt; balanced splits first, cycling through the distinct splits."""
    candidates: dict[tuple[int, ...], list[tuple[str, str, str]]] = {}
    for prompt in prompts:
        responses = [(text, attrs) for text, attrs in by_prompt[prompt].items() if attrs]
        for (ta, xa), (tb, xb) in itertools.combinations(responses, 2):
            split = _split(weights, xa, xb)
            plus, minus = split.count(1), split.count(-1)
            if plus and minus and plus + minus == len(split) and abs(plus - minus) <= 1:
                candidates.setdefault(_canonical(split), []).append((prompt, ta, tb))
    if not candidates:
        return []
    pools = [candidates[key] for key in sorted(candidates)]
    for pool in pools:
        rng.shuffle(pool)
    chosen: list[tuple[str, str, str]] = []
    used: set[str] = set()
    while len(chosen) < n_pairs:
        before = len(chosen)
        for pool in pools:  # one pair of each split per round
            pick = next((p for p in pool if p[0] not in used), None)
            if pick is not None and len(chosen) < n_pairs:
                chosen.append(pick)
                used.add(pick[0])
        if len(chosen) == before:
            break
    pairs = []
    for prompt, ta, tb in chosen:
        if rng.random() < 0.5:
            ta, tb = tb, ta
        pairs.append({"prompt": prompt, "a": ta, "b": tb,
                      "attributes_a": list(by_prompt[prompt][ta]),
                      "attributes_b": list(by_prompt[prompt][tb])})
    return pairs


def _controversial_pairs(rows, prompts: list[str], n_pairs: int) -> list[dict[str, Any]]:
    """Fallback without attributes: the first controversial row of each prompt."""
    pairs, used = [], set()
    for row in rows:
        if row["prompt"] in prompts and row["prompt"] not in used and row.get("controversial"):
            used.add(row["prompt"])
            pairs.append({"prompt": row["prompt"], "a": row["chosen"], "b": row["rejected"],
                          "attributes_a": row.get("attributes_chosen"),
                          "attributes_b": row.get("attributes_rejected")})
        if len(pairs) >= n_pairs:
            break
    return pairs


def _diverse_candidates(responses: dict[str, tuple[float, ...] | None], weights, k: int,
                        rng: random.Random) -> list[dict[str, Any]]:
    """Each type's clear favourite first, then the responses farthest from those picked."""
    items = list(responses.items())
    picked: list[tuple[str, tuple[float, ...] | None]] = []
    if weights and all(attrs for _, attrs in items):
        for w in weights:
            def lead(item, w=w):  # how much this type prefers it over the other types
                score = sum(wi * x for wi, x in zip(w, item[1]))
                others = max(sum(vi * x for vi, x in zip(v, item[1])) for v in weights if v != w)
                return (score - others, score)
            best = max((item for item in items if item not in picked), key=lead)
            if len(picked) < k:
                picked.append(best)
        while len(picked) < k and len(picked) < len(items):
            def distance(item):
                return min(sum(abs(x - y) for x, y in zip(item[1], other[1])) for other in picked)
            rest = [item for item in items if item not in picked]
            picked.append(max(rest, key=distance))
    else:
        picked = rng.sample(items, min(k, len(items)))
    rng.shuffle(picked)
    return [{"response": text, "attributes": list(attrs) if attrs else None}
            for text, attrs in picked]


def build_demo_pack(dataset_folder: str | os.PathLike[str], n_pairs: int = 7,
                    n_prompts: int = 6, n_candidates: int = 5, seed: int = 0) -> dict[str, Any]:
    """The demo pack of a dataset folder (see the module docstring for its keys).

    ``n_pairs`` distinct labelling pairs (a session shows ``n_pairs + 1``: the attention-check
    repeat comes last); ``n_prompts`` ranking sets of ``n_candidates`` (4 to 6) each.
    """
    folder = Path(dataset_folder)
    if not 4 <= n_candidates <= 6:
        raise ValueError(f"n_candidates={n_candidates}; the demo shows 4 to 6 candidates per set.")
    if n_pairs < 2 or n_prompts < 1:
        raise ValueError(f"n_pairs={n_pairs}, n_prompts={n_prompts}; need n_pairs >= 2 and "
                         "n_prompts >= 1.")
    card = json.loads((folder / "dataset.json").read_text(encoding="utf-8"))
    rows = _read_rows(folder / "test.jsonl")
    by_prompt = _responses_by_prompt(rows)
    rng = random.Random(seed)
    prompts = sorted(by_prompt)
    rng.shuffle(prompts)
    weights = _type_weights(card)
    pairs = _informative_pairs(by_prompt, weights, prompts, n_pairs, rng) if weights else []
    if len(pairs) < n_pairs:
        pairs = _controversial_pairs(rows, prompts, n_pairs)
    if len(pairs) < 2:
        raise ValueError(f"{folder}: found only {len(pairs)} informative test pairs; the demo "
                         "needs at least 2 (use a dataset with controversial test rows).")
    used = {p["prompt"] for p in pairs}
    rest = [p for p in prompts if p not in used and len(by_prompt[p]) >= n_candidates]
    rest = rest or [p for p in prompts if len(by_prompt[p]) >= n_candidates]
    ranking_sets = [{"prompt": p, "candidates": _diverse_candidates(by_prompt[p], weights,
                                                                     n_candidates, rng)}
                    for p in rest[:n_prompts]]
    for i, pair in enumerate(pairs):
        pair["pair_id"] = f"p{i:02d}-{text_key(pair['prompt'] + pair['a'] + pair['b'])[:8]}"
    pairs = [{k: p[k] for k in ("pair_id", "prompt", "a", "b", "attributes_a", "attributes_b")}
             for p in pairs]
    return {
        "version": PACK_VERSION,
        "dataset": {k: card.get(k) for k in ("name", "user_types", "attributes", "seed")},
        "seed": seed,
        "pairs": pairs,
        "attention_check": pairs[min(1, len(pairs) - 1)]["pair_id"],
        "ranking_sets": ranking_sets,
    }


def pack_texts(pack: dict[str, Any]) -> list[tuple[str, str]]:
    """Every (prompt, response) the pack shows, deduplicated, in a stable order."""
    seen: dict[tuple[str, str], None] = {}
    for pair in pack["pairs"]:
        seen[(pair["prompt"], pair["a"])] = None
        seen[(pair["prompt"], pair["b"])] = None
    for item in pack["ranking_sets"]:
        for cand in item["candidates"]:
            seen[(item["prompt"], cand["response"])] = None
    return list(seen)


def write_demo_pack(pack: dict[str, Any], out: str | os.PathLike[str], backbone: Any) -> tuple[Path, Path]:
    """Write ``demo_pack.json`` and ``demo_embeddings.safetensors`` into ``out``.

    ``backbone`` has ``.embed(texts) -> [N, D]`` (and ideally ``.identity()``).
    """
    import torch
    from safetensors.torch import save_file

    from spl_model.render import render

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rendered = [render(prompt, response) for prompt, response in pack_texts(pack)]
    vectors = backbone.embed(rendered).to(torch.float16)  # [N, D]
    tensors = {text_key(text): vectors[i].clone().contiguous() for i, text in enumerate(rendered)}
    identity = backbone.identity() if hasattr(backbone, "identity") else {"backbone": "unknown"}
    meta = {"backbone": json.dumps(identity, sort_keys=True), "dim": str(vectors.shape[1])}
    pack_path, emb_path = out / PACK_FILE, out / EMBEDDINGS_FILE
    atomic_write(pack_path, json.dumps(pack, indent=1, ensure_ascii=False) + "\n")

    def write_embeddings(tmp: Path) -> None:
        save_file(tensors, str(tmp), metadata=meta)
        os.chmod(tmp, 0o644)

    atomic_write(emb_path, write_embeddings)
    return pack_path, emb_path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m app.demo_pack",
        description="Build the demo pack (labelling pairs + ranking sets) and its embeddings. "
                    "Example: python -m app.demo_pack --data datasets/synthetic --out assets/")
    parser.add_argument("--data", required=True, help="dataset folder (its test prompts are used)")
    parser.add_argument("--out", default="assets", help="output folder (default: assets)")
    parser.add_argument("--pairs", type=int, default=7, help="distinct labelling pairs (default 7)")
    parser.add_argument("--prompts", type=int, default=6, help="ranking sets (default 6)")
    parser.add_argument("--candidates", type=int, default=5, help="candidates per set, 4-6")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--backbone", default="minilm", help="backbone to embed with (minilm)")
    args = parser.parse_args(argv)
    from spl_model.backbones import load_backbone

    pack = build_demo_pack(args.data, args.pairs, args.prompts, args.candidates, args.seed)
    paths = write_demo_pack(pack, args.out, load_backbone(args.backbone, device="cpu"))
    print(f"Wrote {paths[0]} ({len(pack['pairs'])} pairs, {len(pack['ranking_sets'])} ranking "
          f"sets) and {paths[1]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
