"""Benchmark: minilm load time, embedding throughput through the cache, and cache size on disk.

Run from the repo root: ``python -m bench.embed_cache [--n 1000] [--batch-size 32]``; prints
one JSON object.
Texts are synthetic ``render(prompt, response)`` pairs of ~30-60 words (typical preference
data), so the figure is texts per second for realistic lengths, not for one-word strings.
"""

from __future__ import annotations

import json
import os
import random
import tempfile
import time

import click

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

__all__ = ["main"]

WORDS = ("the a model answer user prefers short long helpful polite direct detailed example "
         "code story question reason because however therefore simple clear").split()


def synthetic_texts(n: int, seed: int = 0) -> list[str]:
    """``n`` distinct rendered texts with 10-20 word prompts and 20-40 word responses."""
    from spl_model.render import render

    rng = random.Random(seed)
    return [render(" ".join(rng.choices(WORDS, k=rng.randint(10, 20))) + f" #{i}",
                   " ".join(rng.choices(WORDS, k=rng.randint(20, 40)))) for i in range(n)]


@click.command()
@click.option("--n", default=1000, show_default=True, help="Unique texts to embed.")
@click.option("--batch-size", default=32, show_default=True)
@click.option("--chunk-size", default=512, show_default=True)
def main(n: int, batch_size: int, chunk_size: int) -> None:
    """Measure minilm load, fill a fresh cache, re-open it, and report sizes."""
    import torch

    from spl_model.backbones import load_backbone
    from train.cache import EmbeddingCache

    texts = synthetic_texts(n)
    started = time.perf_counter()
    backbone = load_backbone("minilm")
    load_s = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as folder:
        cache = EmbeddingCache(folder, backbone.identity())
        started = time.perf_counter()
        cache.fill(texts + texts[: n // 4], lambda t: backbone.embed(t, batch_size=batch_size),
                   chunk_size=chunk_size, progress=False)
        fill_s = time.perf_counter() - started
        started = time.perf_counter()
        reopened = EmbeddingCache(folder, backbone.identity())
        matrix = reopened.matrix()[reopened.lookup_index(texts)]
        reopen_s = time.perf_counter() - started
        stats = reopened.stats()
    bound = 1.1 * n * backbone.dim * 2
    print(json.dumps({
        "device": str(backbone.device), "threads": torch.get_num_threads(), "texts": n,
        "load_seconds": round(load_s, 2), "fill_seconds": round(fill_s, 2),
        "texts_per_second": round(n / fill_s, 1), "reopen_and_gather_seconds": round(reopen_s, 3),
        "bytes_on_disk": stats.bytes, "bytes_fp16_payload": stats.bytes_embeddings,
        "ratio_to_payload": round(stats.bytes / stats.bytes_embeddings, 4),
        "bound_1.1x": int(bound), "matrix_shape": list(matrix.shape),
    }, indent=2))


if __name__ == "__main__":
    main()
