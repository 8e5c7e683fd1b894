"""Embedding cache: embed-once, resume after interruption, size bound, errors, and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from train.cache import (
    CacheCorruptError,
    CacheMismatchError,
    EmbeddingCache,
    MissingEmbeddingError,
    dataset_texts,
)

IDENTITY = {"backbone": "fake", "revision": "r1", "kind": "encoder", "pooling": "mean-l2",
            "max_length": 16, "quantize": "none"}
DIM = 48


class FakeEmbed:
    """Deterministic text -> (D,) vector; records every text it embeds; can fail on chunk k."""

    def __init__(self, fail_on_call: int | None = None):
        self.calls: list[list[str]] = []
        self.fail_on_call = fail_on_call

    def __call__(self, texts: list[str]) -> torch.Tensor:
        self.calls.append(list(texts))
        if self.fail_on_call is not None and len(self.calls) == self.fail_on_call:
            raise KeyboardInterrupt("simulated Ctrl-C")
        seeds = [sum(t.encode()) * 31 + len(t) for t in texts]
        return torch.stack([torch.randn(DIM, generator=torch.Generator().manual_seed(s))
                            for s in seeds])

    @property
    def embedded(self) -> list[str]:
        return [t for call in self.calls for t in call]


def texts(n: int, prefix: str = "t") -> list[str]:
    return [f"{prefix} {i}" for i in range(n)]


def test_each_unique_text_embedded_once(tmp_path: Path) -> None:
    fake = FakeEmbed()
    cache = EmbeddingCache(tmp_path, IDENTITY)
    assert cache.fill(texts(10) + texts(10), fake, chunk_size=4, progress=False) == 10
    assert sorted(fake.embedded) == sorted(texts(10))
    # a second dataset sharing 5 texts, in a fresh process (re-open)
    again = EmbeddingCache(tmp_path, IDENTITY)
    assert again.missing(texts(15)) == texts(15)[10:]
    assert again.fill(texts(15), fake, chunk_size=4, progress=False) == 5
    assert sorted(fake.embedded) == sorted(texts(15))
    assert again.fill(texts(15), fake, progress=False) == 0
    got = again.get(["t 3", "t 12", "t 3"])
    assert got.shape == (3, DIM) and got.dtype == torch.float32
    expected = FakeEmbed()(["t 3", "t 12", "t 3"]).half().float()
    assert torch.equal(got, expected)
    rows = again.lookup_index(["t 12", "t 0"])
    assert torch.equal(again.matrix()[rows], again.get(["t 12", "t 0"]))
    assert again.stats().count == 15 and again.stats().dim == DIM


def test_resume_after_interruption_redoes_only_the_remainder(tmp_path: Path) -> None:
    wanted = texts(20)
    clean = EmbeddingCache(tmp_path / "clean", IDENTITY)
    clean.fill(wanted, FakeEmbed(), chunk_size=4, progress=False)

    crashing = FakeEmbed(fail_on_call=3)
    cache = EmbeddingCache(tmp_path / "run", IDENTITY)
    with pytest.raises(KeyboardInterrupt):
        cache.fill(wanted, crashing, chunk_size=4, progress=False)
    assert len(EmbeddingCache(tmp_path / "run", IDENTITY)) == 8  # two chunks committed

    resumed = FakeEmbed()
    reopened = EmbeddingCache(tmp_path / "run", IDENTITY)
    assert reopened.fill(wanted, resumed, chunk_size=4, progress=False) == 12
    assert resumed.embedded == wanted[8:]
    assert torch.equal(reopened.get(wanted), clean.get(wanted))


def test_orphan_shard_from_a_crash_is_discarded(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path, IDENTITY)
    cache.fill(texts(4), FakeEmbed(), chunk_size=4, progress=False)
    shard = next(cache.folder.glob("shard-*.safetensors"))
    (cache.folder / "shard-000007.safetensors").write_bytes(shard.read_bytes())  # unlisted
    (cache.folder / ".junk.tmp").write_bytes(b"partial")
    reopened = EmbeddingCache(tmp_path, IDENTITY)
    assert len(reopened) == 4
    reopened.fill(texts(8), FakeEmbed(), chunk_size=4, progress=False)
    assert not (cache.folder / "shard-000007.safetensors").exists()
    assert not (cache.folder / ".junk.tmp").exists()
    assert len(EmbeddingCache(tmp_path, IDENTITY)) == 8


def test_size_on_disk_within_bound(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path, IDENTITY)
    unique = texts(600)
    cache.fill(unique + unique[:100], FakeEmbed(), chunk_size=256, progress=False)
    stats = cache.stats()
    payload = len(unique) * DIM * 2
    index_bytes = len(unique) * 32 + 4096  # 32-byte text hashes + JSON files
    assert stats.bytes_embeddings == payload
    assert stats.bytes <= 1.1 * payload + index_bytes, stats


def test_identity_mismatch_names_both(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path, IDENTITY)
    other = {**IDENTITY, "quantize": "4bit"}
    assert EmbeddingCache(tmp_path, other).folder != cache.folder  # root: one folder each
    with pytest.raises(CacheMismatchError) as err:
        EmbeddingCache(cache.folder, other)  # the backbone's own folder, wrong identity
    assert "'quantize': '4bit'" in str(err.value) and "'quantize': 'none'" in str(err.value)


def test_missing_embeddings_error(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path, IDENTITY)
    cache.fill(texts(3), FakeEmbed(), progress=False)
    with pytest.raises(MissingEmbeddingError, match="2 of 4 texts have no embedding") as err:
        cache.get(["t 0", "x", "t 1", "y"])
    assert isinstance(err.value, KeyError) and err.value.missing == ["x", "y"]


def test_corrupt_index_and_shard_errors_and_repair(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path, IDENTITY)
    cache.fill(texts(12), FakeEmbed(), chunk_size=4, progress=False)
    index = cache.folder / "index.json"
    good_index = index.read_text()
    index.write_text(good_index[:20])
    with pytest.raises(CacheCorruptError, match="index.*corrupt.*Delete the folder"):
        EmbeddingCache(tmp_path, IDENTITY)
    assert len(EmbeddingCache(tmp_path, IDENTITY, repair=True)) == 12

    shard = cache.folder / json.loads(good_index)["shards"][1]["file"]
    shard.write_bytes(shard.read_bytes()[:100])  # truncated
    with pytest.raises(CacheCorruptError, match="truncated or corrupt.*--repair"):
        EmbeddingCache(tmp_path, IDENTITY)
    repaired = EmbeddingCache(tmp_path, IDENTITY, repair=True)
    assert len(repaired) == 8
    fake = FakeEmbed()
    assert repaired.fill(texts(12), fake, progress=False) == 4
    assert sorted(fake.embedded) == sorted(texts(12)[4:8])


def test_fill_rejects_bad_vectors(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path, IDENTITY)
    with pytest.raises(ValueError, match="NaN"):
        cache.fill(["a"], lambda ts: torch.full((len(ts), 4), float("nan")), progress=False)
    with pytest.raises(ValueError, match=r"expected a tensor of shape \(2, D\)"):
        cache.fill(["a", "b"], lambda ts: torch.zeros(1, 4), progress=False)
    cache.fill(["a"], lambda ts: torch.zeros(len(ts), 4), progress=False)
    with pytest.raises(CacheMismatchError, match="width 5"):
        cache.fill(["b"], lambda ts: torch.zeros(len(ts), 5), progress=False)
    assert len(cache) == 1


def test_dataset_texts(tiny_dataset_dir: Path) -> None:
    got = dataset_texts(tiny_dataset_dir)
    assert len(got) == len(set(got)) == 12
    assert got[0] == "Human: hello\n\nAssistant: hello world"
    assert "Human: write code\n\nAssistant: print hello" in got
    assert got == dataset_texts(tiny_dataset_dir)
    with (tiny_dataset_dir / "test.jsonl").open("a") as handle:
        handle.write(json.dumps({"prompt": "p", "chosen": "c"}) + "\n")
    with pytest.raises(ValueError, match=r"test.jsonl:3: missing .*\['rejected'\]"):
        dataset_texts(tiny_dataset_dir)
    with pytest.raises(FileNotFoundError, match="no train.jsonl"):
        dataset_texts(tiny_dataset_dir / "nope")


def test_cli_embed_fills_then_skips(tiny_dataset_dir: Path, tiny_llama_dir: Path,
                                    tmp_path: Path) -> None:
    from click.testing import CliRunner

    from train.cli_embed import embed

    args = ["--data", str(tiny_dataset_dir), "--backbone", str(tiny_llama_dir),
            "--cache", str(tmp_path / "cache"), "--device", "cpu", "--chunk-size", "5"]
    first = CliRunner().invoke(embed, args)
    assert first.exit_code == 0, first.output
    summary = json.loads(first.stdout[first.stdout.index("{"):])
    assert (summary["texts"], summary["newly_embedded"], summary["skipped"]) == (12, 12, 0)
    assert summary["dim"] == 64 and summary["bytes"] > 12 * 64 * 2
    second = CliRunner().invoke(embed, args)
    summary = json.loads(second.stdout[second.stdout.index("{"):])
    assert (summary["newly_embedded"], summary["skipped"], summary["load_seconds"]) == (0, 12, 0)


def test_cli_embed_help_and_errors(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from train.cli_embed import embed

    help_text = CliRunner().invoke(embed, ["--help"]).output
    assert help_text.rstrip().splitlines()[-1].strip().startswith("Example: python -m train")
    result = CliRunner().invoke(embed, ["--data", str(tmp_path), "--cache", str(tmp_path / "c")])
    assert result.exit_code == 1
    assert result.output.startswith("Error: ") and "has no train.jsonl" in result.output
