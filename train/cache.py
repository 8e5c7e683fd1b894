"""The embedding cache: every unique rendered text is embedded once per backbone, stored in fp16.

Layout (one folder per backbone identity, so datasets and runs share embeddings)::

    CACHE_DIR/<backbone slug>-<12 hex of sha256(identity)>/
        backbone.json             the identity (BackboneSpec.identity()) and the format version
        index.json                the commit record: dim and the list of finished shards
        shard-000000.safetensors  "embeddings" (n, D) float16 + "sha256" (n, 32) uint8 text hashes
        ...

Why this shape: a chunk is written to a temporary name, renamed, and only then listed in
``index.json`` (itself replaced atomically). ``index.json`` is the single commit point: a crash
at any moment leaves either the old or the new index, a shard not listed is an orphan that is
deleted on the next fill, so an interrupted run redoes at most one chunk. Rows are found by the
sha256 of the text (kept inside each shard, 32 bytes per row), so the index stays O(shards).
On disk: ``U * D * 2`` bytes of fp16 plus ``U * 32`` bytes of hashes plus ~200 bytes per shard.

Shapes: U = unique texts in the cache, N = texts asked for, D = embedding width.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping

import torch

from spl_model.atomic import atomic_write

__all__ = [
    "CacheCorruptError",
    "CacheError",
    "CacheMismatchError",
    "CacheStats",
    "EmbeddingCache",
    "MissingEmbeddingError",
    "cache_key",
    "dataset_texts",
    "text_hash",
]

FORMAT = 1
_SHARD = re.compile(r"^shard-(\d{6})\.safetensors$")
_FIX = ("Delete the folder {folder} and run `python -m train embed` again (only this backbone's "
        "embeddings are lost), or run it with --repair to keep every intact shard.")


class CacheError(Exception):
    """Base class for embedding-cache errors."""


class CacheMismatchError(CacheError):
    """The cache folder was built by another backbone identity than the one given."""


class CacheCorruptError(CacheError):
    """``index.json``, ``backbone.json`` or a shard cannot be read or disagrees with the index."""


class MissingEmbeddingError(CacheError, KeyError):
    """Some asked-for texts have no embedding yet; ``.missing`` holds them."""

    def __init__(self, missing: list[str], asked: int, folder: Path):
        self.missing = missing
        super().__init__(
            f"{len(missing)} of {asked} texts have no embedding in {folder} (first: "
            f"{missing[0][:80]!r}). Run `python -m train embed --data <dataset> --cache ...` "
            "with the same backbone first."
        )

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0])


@dataclass(frozen=True)
class CacheStats:
    """Counts and sizes of one backbone's cache folder."""

    count: int  # unique texts stored (U)
    dim: int | None  # embedding width D; None until the first chunk
    bytes: int  # every file in the folder
    bytes_embeddings: int  # U * D * 2, the fp16 payload
    shards: int
    folder: str


def text_hash(text: str) -> bytes:
    """sha256 of the UTF-8 text: the row key (32 bytes)."""
    return hashlib.sha256(text.encode("utf-8")).digest()


def cache_key(identity: Mapping[str, Any]) -> str:
    """Folder name for an identity: readable slug + 12 hex of its canonical-JSON sha256."""
    canonical = json.dumps(dict(identity), sort_keys=True, separators=(",", ":"))
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", str(identity.get("backbone", "backbone")))[-48:]
    return f"{slug.strip('_.') or 'backbone'}-{hashlib.sha256(canonical.encode()).hexdigest()[:12]}"


class EmbeddingCache:
    """fp16 embeddings of rendered texts for one backbone identity, resumable and shared.

    Args:
        folder: the cache root (``CACHE_DIR``; the backbone's sub-folder is chosen by
            ``cache_key``) or an existing backbone sub-folder (has ``backbone.json``).
        backbone_identity: ``BackboneSpec.identity()``; a mismatch with the folder's
            ``backbone.json`` raises ``CacheMismatchError``.
        repair: rebuild a corrupt ``index.json`` from the intact shards (see ``repair()``)
            instead of raising ``CacheCorruptError``.

    Example:
        >>> import tempfile
        >>> cache = EmbeddingCache(tempfile.mkdtemp(), {"backbone": "fake"})
        >>> cache.fill(["a", "b"], lambda ts: torch.ones(len(ts), 3))
        2
        >>> cache.get(["b"]).shape
        torch.Size([1, 3])
    """

    def __init__(self, folder: str | Path, backbone_identity: Mapping[str, Any],
                 repair: bool = False):
        folder = Path(folder)
        self.identity = json.loads(json.dumps(dict(backbone_identity)))  # JSON round-trip
        self.folder = folder if (folder / "backbone.json").is_file() else folder / cache_key(
            self.identity)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._check_identity(repair)
        self._rows: dict[bytes, int] = {}
        self._shards: list[dict[str, Any]] = []
        self._dim: int | None = None
        self._matrix: torch.Tensor | None = None
        if repair:
            self.repair()
        else:
            self._reload()

    # -- opening ------------------------------------------------------------------------------

    def _check_identity(self, repair: bool) -> None:
        path = self.folder / "backbone.json"
        record = {"format": FORMAT, "identity": self.identity}
        if not path.is_file() or (repair and not _readable_json(path)):
            atomic_write(path, json.dumps(record, indent=2, sort_keys=True).encode())
            return
        try:
            seen = json.loads(path.read_text())["identity"]
        except (ValueError, KeyError, TypeError) as err:
            raise CacheCorruptError(f"{path} is unreadable ({err}). "
                                    + _FIX.format(folder=self.folder)) from err
        if seen != self.identity:
            raise CacheMismatchError(
                f"The cache folder {self.folder} holds embeddings of backbone {seen}, but "
                f"{self.identity} was asked for. Point --cache at the cache root (each backbone "
                "gets its own sub-folder) or at this backbone's own folder."
            )

    def _read_index(self) -> dict[str, Any]:
        path = self.folder / "index.json"
        if not path.is_file():
            return {"format": FORMAT, "dim": None, "shards": []}
        try:
            index = json.loads(path.read_text())
            if not isinstance(index["shards"], list):
                raise TypeError("'shards' is not a list")
        except (ValueError, KeyError, TypeError) as err:
            raise CacheCorruptError(f"The cache index {path} is corrupt ({err}). "
                                    + _FIX.format(folder=self.folder)) from err
        return index

    def _reload(self) -> None:
        """Read the index and the hashes of shards not yet known; check each against the index.

        Incremental: when the on-disk index extends the one in memory (the normal case after a
        commit), only the new shards are read, so filling stays linear in the number of texts.
        """
        index = self._read_index()
        known = len(self._shards)
        if index["shards"][:known] != self._shards or (known and index["dim"] != self._dim):
            self._rows, self._shards, known = {}, [], 0
        for shard in index["shards"][known:]:
            hashes = self._read_shard_hashes(shard, index["dim"])
            start = len(self._rows)
            for offset, digest in enumerate(hashes.numpy()):
                self._rows.setdefault(digest.tobytes(), start + offset)
            if len(self._rows) != start + len(hashes):
                raise CacheCorruptError(f"Shard {self.folder / shard['file']} repeats texts "
                                        "already stored. " + _FIX.format(folder=self.folder))
            self._shards.append(shard)
        self._dim = index["dim"]
        if len(self._shards) != known:
            self._matrix = None

    def _read_shard_hashes(self, shard: dict[str, Any], dim: int | None) -> torch.Tensor:
        """The ``(n, 32)`` uint8 hashes of a listed shard, after checking size and shape."""
        from safetensors import safe_open

        path = self.folder / str(shard.get("file"))
        try:
            if path.stat().st_size != shard["bytes"]:
                raise ValueError(f"{path.stat().st_size} bytes, index says {shard['bytes']}")
            with safe_open(str(path), framework="pt") as handle:
                hashes = handle.get_tensor("sha256")  # (n, 32) uint8
                shape = list(handle.get_slice("embeddings").get_shape())
            if shape != [shard["rows"], dim] or list(hashes.shape) != [shard["rows"], 32]:
                raise ValueError(f"shape {shape}, index says [{shard['rows']}, {dim}]")
        except Exception as err:  # noqa: BLE001 - any unreadable shard is corruption
            raise CacheCorruptError(f"Shard {path} is missing, truncated or corrupt ({err}). "
                                    + _FIX.format(folder=self.folder)) from err
        return hashes

    # -- queries ------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, text: str) -> bool:
        return text_hash(text) in self._rows

    @property
    def dim(self) -> int | None:
        """Embedding width D (None while the cache is empty)."""
        return self._dim

    def missing(self, texts: Iterable[str]) -> list[str]:
        """The texts without an embedding, deduplicated, in first-seen order."""
        seen: set[bytes] = set()
        out = []
        for text in texts:
            digest = text_hash(text)
            if digest not in self._rows and digest not in seen:
                seen.add(digest)
                out.append(text)
        return out

    def lookup_index(self, texts: Iterable[str]) -> torch.Tensor:
        """Row of each text in ``matrix()``: LongTensor ``(N,)``. Raises MissingEmbeddingError."""
        texts = list(texts)
        rows = [self._rows.get(text_hash(t), -1) for t in texts]
        if -1 in rows:
            raise MissingEmbeddingError([t for t, r in zip(texts, rows) if r < 0], len(texts),
                                        self.folder)
        return torch.tensor(rows, dtype=torch.long)

    def matrix(self, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """All stored embeddings as one ``(U, D)`` tensor (rows as in ``lookup_index``).

        The fp16 matrix is read once and kept; the trainer gathers batches with
        ``matrix()[lookup_index(texts)]``.
        """
        if self._matrix is None:
            from safetensors.torch import load_file

            parts = [load_file(str(self.folder / s["file"]))["embeddings"] for s in self._shards]
            self._matrix = (torch.cat(parts) if parts
                            else torch.empty(0, self._dim or 0, dtype=torch.float16))  # (U, D)
        return self._matrix.to(dtype)

    def get(self, texts: Iterable[str]) -> torch.Tensor:
        """Embeddings of ``texts``: ``(N, D)`` float32. Raises MissingEmbeddingError."""
        rows = self.lookup_index(texts)
        if self._matrix is None:
            self.matrix(torch.float16)
        return self._matrix[rows].float()  # (N, D)

    def stats(self) -> CacheStats:
        """Count, dim and bytes on disk (every file in the folder)."""
        size = sum(p.stat().st_size for p in self.folder.iterdir() if p.is_file())
        return CacheStats(len(self._rows), self._dim, size,
                          len(self._rows) * (self._dim or 0) * 2, len(self._shards),
                          str(self.folder))

    # -- filling ------------------------------------------------------------------------------

    def fill(self, texts: Iterable[str], embed_fn: Callable[[list[str]], torch.Tensor],
             chunk_size: int = 512, progress: bool = True) -> int:
        """Embed and store the texts not yet cached; returns how many were embedded.

        ``embed_fn(texts) -> (n, D)`` is called once per chunk of at most ``chunk_size``
        texts; each finished chunk is committed before the next starts, so an interrupted
        fill loses at most the chunk in flight and a re-run skips everything committed.
        """
        if chunk_size < 1:
            raise ValueError(f"chunk_size={chunk_size}; expected >= 1.")
        todo = self.missing(texts)
        if not todo:
            return 0
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(todo), desc="embed", unit="text")
        try:
            for chunk in _chunks(todo, chunk_size):
                vectors = embed_fn(chunk)
                self._commit(chunk, self._check_vectors(vectors, len(chunk)))
                if bar is not None:
                    bar.update(len(chunk))
        finally:
            if bar is not None:
                bar.close()
        return len(todo)

    def _check_vectors(self, vectors: torch.Tensor, n: int) -> torch.Tensor:
        if not isinstance(vectors, torch.Tensor) or vectors.ndim != 2 or vectors.shape[0] != n:
            shape = tuple(vectors.shape) if isinstance(vectors, torch.Tensor) else type(vectors)
            raise ValueError(f"embed_fn returned {shape}; expected a tensor of shape ({n}, D).")
        if self._dim is not None and vectors.shape[1] != self._dim:
            raise CacheMismatchError(
                f"embed_fn returned width {vectors.shape[1]} but {self.folder} stores width "
                f"{self._dim}; the backbone identity does not describe the model in use.")
        if not torch.isfinite(vectors).all():
            raise ValueError("embed_fn returned NaN or inf values; nothing was cached for "
                             "this chunk. Check the backbone (e.g. fp16 overflow).")
        return vectors.detach().to("cpu", torch.float16).contiguous()

    def _commit(self, chunk: list[str], vectors: torch.Tensor) -> None:
        """Write one shard (temp name, fsync, rename) then list it in index.json (atomic)."""
        from safetensors.torch import save

        hashes = torch.tensor([list(text_hash(t)) for t in chunk], dtype=torch.uint8)  # (n, 32)
        payload = save({"embeddings": vectors, "sha256": hashes},
                       metadata={"format": str(FORMAT)})
        with self._lock():
            self._reload()  # another process may have committed meanwhile
            index = self._read_index()
            self._remove_orphans(index)
            number = max((int(_SHARD.match(s["file"]).group(1)) for s in index["shards"]),
                         default=-1) + 1
            name = f"shard-{number:06d}.safetensors"
            atomic_write(self.folder / name, payload)
            index["dim"] = int(vectors.shape[1])
            index["shards"].append({"file": name, "rows": len(chunk), "bytes": len(payload)})
            atomic_write(self.folder / "index.json",
                          json.dumps(index, indent=1).encode())
            self._reload()

    def _remove_orphans(self, index: dict[str, Any]) -> None:
        listed = {s["file"] for s in index["shards"]}
        for path in self.folder.iterdir():
            if (_SHARD.match(path.name) and path.name not in listed) or path.name.endswith(".tmp"):
                path.unlink(missing_ok=True)

    def _lock(self) -> Any:
        return _FolderLock(self.folder / ".lock")

    # -- repair -------------------------------------------------------------------------------

    def repair(self) -> int:
        """Rebuild index.json from every intact shard (in file order); returns shards deleted.

        Intact shards, listed or not, are kept; unreadable ones and ones that repeat stored
        texts are deleted, so only their texts are embedded again by the next fill.
        """
        from safetensors.torch import load_file

        dropped = 0
        with self._lock():
            shards, dim, seen = [], None, set()
            for path in sorted(p for p in self.folder.iterdir() if _SHARD.match(p.name)):
                try:
                    tensors = load_file(str(path))
                    emb, hashes = tensors["embeddings"], tensors["sha256"]
                    if emb.ndim != 2 or len(emb) != len(hashes) or (dim and emb.shape[1] != dim):
                        raise ValueError("bad shapes")
                except Exception:  # noqa: BLE001 - anything unreadable is dropped
                    path.unlink()
                    dropped += 1
                    continue
                keys = [h.tobytes() for h in hashes.numpy()]
                if seen.intersection(keys):
                    path.unlink()
                    dropped += 1
                    continue
                seen.update(keys)
                dim = int(emb.shape[1])
                shards.append({"file": path.name, "rows": len(emb),
                               "bytes": path.stat().st_size})
            index = {"format": FORMAT, "dim": dim, "shards": shards}
            atomic_write(self.folder / "index.json", json.dumps(index, indent=1).encode())
            self._reload()
        return dropped


class _FolderLock:
    """An exclusive ``flock`` on a file, so two processes never interleave index updates."""

    def __init__(self, path: Path):
        self.path = path
        self.handle: Any = None

    def __enter__(self) -> "_FolderLock":
        self.handle = self.path.open("a")
        fcntl.flock(self.handle, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self.handle, fcntl.LOCK_UN)
        self.handle.close()


def _readable_json(path: Path) -> bool:
    try:
        json.loads(path.read_text())
    except (OSError, ValueError):
        return False
    return True


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


_PAIR_COLUMNS = (("chosen", "rejected"), ("a", "b"))
_SPLIT_ORDER = ("train.jsonl", "test.jsonl", "test_unseen.jsonl", "survey.jsonl")


def dataset_texts(folder: str | Path) -> list[str]:
    """Every rendered text a dataset folder needs, deduplicated, in a stable order.

    Reads ``train.jsonl``, ``test.jsonl``, ``test_unseen.jsonl`` (if present), ``survey.jsonl``
    and then any other ``*.jsonl`` in name order. Preference rows give
    ``render(prompt, chosen)`` and ``render(prompt, rejected)``; survey rows give
    ``render(prompt, a)`` and ``render(prompt, b)``. Order: first appearance.
    """
    from spl_model.render import render

    folder = Path(folder)
    if not (folder / "train.jsonl").is_file():
        raise FileNotFoundError(
            f"{folder} has no train.jsonl; expected a dataset folder with train.jsonl, "
            "test.jsonl and survey.jsonl. Build one with `python -m train data`.")
    files = [folder / n for n in _SPLIT_ORDER if (folder / n).is_file()]
    files += sorted(p for p in folder.glob("*.jsonl") if p.name not in _SPLIT_ORDER)
    texts: dict[str, None] = {}
    for path in files:
        for line_no, row in _read_jsonl(path):
            columns = next((c for c in _PAIR_COLUMNS if c[0] in row or c[1] in row), None)
            needed = ("prompt",) + (columns or _PAIR_COLUMNS[0])
            absent = [c for c in needed if not isinstance(row.get(c), str)]
            if absent:
                raise ValueError(f"{path}:{line_no}: missing or non-text column(s) {absent}; "
                                 f"each row needs {list(needed)} as strings.")
            for column in columns:
                texts.setdefault(render(row["prompt"], row[column]))
    return list(texts)


def _read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    with path.open(encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as err:
                raise ValueError(f"{path}:{line_no}: not valid JSON ({err}).") from err
            if not isinstance(row, dict):
                raise ValueError(f"{path}:{line_no}: expected a JSON object per line.")
            yield line_no, row
