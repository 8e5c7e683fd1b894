"""``python -m train embed``: fill the embedding cache for one or more dataset folders.

Imports only click at module level; torch, transformers and the backbone load when the command
runs (and the backbone only when some text is not cached yet), so ``--help`` is instant.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Callable

import click

__all__ = ["backbone_options", "embed", "run_embed"]


def backbone_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Shared ``--backbone/--quantize/--max-length/--device`` flags (reuse them on fit/eval)."""
    options = [
        click.option("--backbone", default="minilm", show_default=True,
                     help="'minilm' (embedded, offline), a Hugging Face id already in the local "
                          "cache, or a folder saved with save_pretrained (e.g. a Llama)."),
        click.option("--quantize", type=click.Choice(["4bit", "8bit", "none"]), default="none",
                     show_default=True,
                     help="bitsandbytes quantization for causal LMs (4bit = nf4, double quant, "
                          "bf16 compute)."),
        click.option("--max-length", type=click.IntRange(min=2), default=None,
                     help="Tokens kept per text; longer texts are truncated. "
                          "[default: 256 for minilm, 1024 for causal LMs]"),
        click.option("--device", type=click.Choice(["cpu", "cuda"]), default=None,
                     help="Where the backbone runs. [default: cuda when available, else cpu]"),
    ]
    for option in reversed(options):
        command = option(command)
    return command


EXAMPLE = "Example: python -m train embed --data datasets/synthetic --backbone minilm --cache cache"


@click.command("embed", epilog="\b\n" + EXAMPLE)
@click.option("--data", "data_dirs", multiple=True, required=True,
              type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Dataset folder (train.jsonl, test.jsonl, survey.jsonl); repeat for several.")
@click.option("--cache", "cache_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("cache"), show_default=True,
              help="Cache root; each backbone identity gets its own sub-folder.")
@backbone_options
@click.option("--batch-size", type=click.IntRange(min=1), default=32, show_default=True,
              help="Texts per forward pass.")
@click.option("--chunk-size", type=click.IntRange(min=1), default=512, show_default=True,
              help="Texts per committed shard: an interruption redoes at most this many.")
@click.option("--repair", is_flag=True,
              help="Rebuild a corrupt cache index from its intact shards before filling.")
def embed(data_dirs: tuple[Path, ...], cache_dir: Path, backbone: str, quantize: str,
          max_length: int | None, device: str | None, batch_size: int, chunk_size: int,
          repair: bool) -> None:
    """Embed every text the datasets need (targets of all splits and survey pairs) once.

    Texts already in the cache are skipped, so re-running after an interruption (Ctrl-C)
    continues where it stopped. Prints a JSON summary: texts, newly_embedded, skipped, dim,
    bytes (cache folder size), seconds.
    """
    try:
        summary = run_embed(data_dirs, cache_dir, backbone, quantize, max_length, device,
                            batch_size, chunk_size, repair)
    except KeyboardInterrupt:
        raise click.ClickException(
            "Interrupted. Finished chunks are kept in the cache: run the same command again "
            "to continue.") from None
    except (ValueError, OSError, LookupError) as err:  # includes BackboneError, cache errors
        raise click.ClickException(str(err)) from err
    except Exception as err:
        from train.cache import CacheError

        if isinstance(err, CacheError):
            raise click.ClickException(str(err)) from err
        raise
    click.echo(json.dumps(summary, indent=2))


def run_embed(data_dirs: tuple[Path, ...], cache_dir: Path, backbone: str, quantize: str,
              max_length: int | None, device: str | None, batch_size: int, chunk_size: int,
              repair: bool = False) -> dict[str, Any]:
    """The command's work as a plain function; returns the summary dict it prints."""
    from spl_model.backbones import load_backbone, resolve_spec
    from train.cache import EmbeddingCache, dataset_texts

    started = time.perf_counter()
    texts = list(dict.fromkeys(t for folder in data_dirs for t in dataset_texts(folder)))
    spec = resolve_spec(backbone, quantize=quantize, max_length=max_length)  # type: ignore[arg-type]
    cache = EmbeddingCache(cache_dir, spec.identity(), repair=repair)
    todo = cache.missing(texts)
    load_seconds = 0.0
    if todo:
        loaded = time.perf_counter()
        model = load_backbone(spec, device=device)
        load_seconds = time.perf_counter() - loaded
        cache.fill(todo, lambda chunk: model.embed(chunk, batch_size=batch_size),
                   chunk_size=chunk_size, progress=True)
    stats = cache.stats()
    return {"backbone": spec.name, "cache": str(cache.folder), "texts": len(texts),
            "newly_embedded": len(todo), "skipped": len(texts) - len(todo), "dim": stats.dim,
            "bytes": stats.bytes, "load_seconds": round(load_seconds, 2),
            "seconds": round(time.perf_counter() - started, 2)}
