"""Helpers for the fit tests: a tiny synthetic dataset and a cache filled with fake vectors.

Filling the cache under minilm's identity with deterministic hash vectors lets ``fit`` run
end to end (data -> cache -> model -> report) without loading any backbone.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import torch

from spl_model.backbones import resolve_spec
from train.cache import EmbeddingCache, dataset_texts
from train.data.schema import write_dataset
from train.data.synthetic import SyntheticConfig, build_synthetic

DIM = 384


def fake_embed(texts: list[str]) -> torch.Tensor:
    """Deterministic unit vectors from each text's sha256 (no model)."""
    rows = []
    for text in texts:
        seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
        rows.append(torch.randn(DIM, generator=torch.Generator().manual_seed(seed)))
    return torch.nn.functional.normalize(torch.stack(rows), dim=-1)


def make_dataset(folder: Path, train_rows: int = 64, test_rows: int = 32, unseen_users: int = 4) -> Path:
    built = build_synthetic(SyntheticConfig(train_rows=train_rows, test_rows=test_rows,
                                            unseen_users=unseen_users, rows_per_unseen_user=2))
    write_dataset(folder, built.card, built.splits)
    return folder


def fill_cache(data_dir: Path, cache_dir: Path) -> None:
    cache = EmbeddingCache(cache_dir, resolve_spec("minilm").identity())
    cache.fill(dataset_texts(data_dir), fake_embed, progress=False)
