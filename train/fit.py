"""``fit``: train one model on a dataset folder and write its run folder.

The loop is a plain function: data (index tensors into one embedding matrix) -> model ->
AdamW with a cosine schedule and 3% warm-up -> the KL annealer (advanced on training steps
only) -> periodic evaluation -> ``model.safetensors`` + ``config.json`` + ``report.json`` +
plots. Device placement and multi-process data parallelism come from ``accelerate``
(``accelerate launch -m train fit ...``). Interrupted runs resume from ``<run>/resume/``.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from spl_model import ModelConfig, RewardModel, build_model, save_model
from train.batching import EncodedSplit, encode_split, split_texts, with_context_targets
from train.data.schema import Dataset, load_dataset
from train.fit_config import MODEL_FIELDS, FitConfig
from train.report import require_test_split
from train.resume import clear_progress, load_progress, save_progress

__all__ = ["MODEL_FIELDS", "FitConfig", "FitResult", "PreparedData", "fit", "prepare_data"]

@dataclass(frozen=True)
class PreparedData:
    """A dataset with its texts embedded: one ``[U, D]`` matrix and the splits as index tensors."""

    dataset: Dataset
    texts: list[str]
    embeddings: torch.Tensor
    splits: dict[str, EncodedSplit]
    backbone: dict[str, Any]


@dataclass(frozen=True)
class FitResult:
    """What ``fit`` returns on every process: the trained model and (main process) the report."""

    model: RewardModel
    report: dict[str, Any]


def prepare_data(data_dir: str | Path, cache_dir: str | Path, backbone: str = "minilm",
                 quantize: str = "none", device: str | None = None,
                 max_length: int | None = None, truncate: str = "keep-response") -> PreparedData:
    """Load a dataset, embed whatever the cache lacks (with a progress bar), encode the splits."""
    from spl_model.backbones import load_backbone, resolve_spec
    from train.cache import EmbeddingCache

    dataset = load_dataset(data_dir)
    names = [s for s in ("train", "test", "test_unseen") if getattr(dataset, s)]
    texts = list(dict.fromkeys(t for s in names for t in split_texts(dataset, s)))
    spec = resolve_spec(backbone, quantize=quantize, max_length=max_length,  # type: ignore[arg-type]
                        truncate=truncate)  # type: ignore[arg-type]
    cache = EmbeddingCache(cache_dir, spec.identity())
    missing = cache.missing(texts)
    if missing:
        model = load_backbone(spec, device=device)
        cache.fill(missing, lambda chunk: model.embed(chunk), progress=True)
        del model
    embeddings = cache.get(texts)  # [U, D] float32
    ids = {t: i for i, t in enumerate(texts)}
    splits = {s: encode_split(dataset, s, ids) for s in names}
    return PreparedData(dataset, texts, embeddings, splits, {"name": spec.name, **spec.identity()})


def _schedule(optimizer: torch.optim.Optimizer, warmup: int, total: int, step: int) -> torch.optim.lr_scheduler.LambdaLR:
    """Linear warm-up, then cosine decay to 0 (the paper's schedule), positioned at ``step``.

    Written out rather than imported from transformers, whose optimization module pulls in
    peft and bitsandbytes (~10 s of imports for six lines of arithmetic).
    """

    def factor(t: int) -> float:
        if t < warmup:
            return t / max(warmup, 1)
        progress = (t - warmup) / max(total - warmup, 1)
        return max(0.0, 0.5 * (1 + math.cos(math.pi * progress)))

    for group in optimizer.param_groups:
        group.setdefault("initial_lr", group["lr"])
    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor, last_epoch=step - 1)


def _epoch_batches(n_rows: int, batch_size: int, seed: int, epoch: int) -> list[torch.Tensor]:
    """The rows of each step of one epoch: a seeded shuffle, last partial batch dropped."""
    order = torch.randperm(n_rows, generator=torch.Generator().manual_seed(seed * 1000 + epoch))
    n = max(n_rows // batch_size, 1)
    return [order[i * batch_size:(i + 1) * batch_size] for i in range(n)]


def model_config(kind: str, embed_dim: int, data: PreparedData, overrides: dict[str, Any]) -> ModelConfig:
    """The ModelConfig for a kind on this data (the oracle's latent = the user features)."""
    values = {k: v for k, v in overrides.items() if k in MODEL_FIELDS}
    if kind == "oracle":
        values["latent_dim"] = data.splits["train"].features.shape[1]
    return ModelConfig(kind=kind, embed_dim=embed_dim, **values)  # type: ignore[arg-type]


def fit(
    data: PreparedData,
    out: str | Path,
    model_cfg: ModelConfig,
    fit_cfg: FitConfig,
    progress: bool = True,
    tuned_backbone: Any = None,
    save_weights: bool = True,
    plots: bool = True,
) -> FitResult:
    """Train ``model_cfg`` on ``data`` and write the run folder ``out`` (main process).

    Resumes from ``out/resume/`` when a previous run with the same settings was interrupted.
    ``tuned_backbone`` (LoRA mode) is a backbone with LoRA adapters whose ``forward_embed``
    re-embeds the target texts every step. The study turns ``save_weights`` (then only
    ``config.json`` is written, without the weights) and ``plots`` off for its many small cells.
    """
    from accelerate import Accelerator
    from accelerate.utils import set_seed
    from tqdm.auto import tqdm

    require_test_split(data)  # before training: the report is measured on the test rows
    out = Path(out)
    accelerator = Accelerator(cpu=not torch.cuda.is_available())
    set_seed(fit_cfg.seed)
    model = build_model(model_cfg)
    params = list(model.parameters())
    if tuned_backbone is not None:
        params += list(tuned_backbone.trainable_parameters())
    fused = accelerator.device.type in ("cpu", "cuda")  # fused AdamW: 4x faster on CPU here
    optimizer = torch.optim.AdamW(params, lr=fit_cfg.lr, weight_decay=fit_cfg.weight_decay, fused=fused)
    train = data.splits["train"]
    world, rank = accelerator.num_processes, accelerator.process_index
    global_batch = fit_cfg.batch_size * world  # each process takes batch_size rows of it
    per_epoch = len(_epoch_batches(len(train), global_batch, fit_cfg.seed, 0))
    total = fit_cfg.max_steps or math.ceil(per_epoch * fit_cfg.epochs)
    settings = {"model": model_cfg.to_dict(), "fit": dataclasses.asdict(fit_cfg), "total_steps": total}
    start_step, history, seconds = load_progress(out, settings, model, optimizer,
                                                 device=accelerator.device)
    scheduler = _schedule(optimizer, int(fit_cfg.warmup_ratio * total), total, start_step)
    model, optimizer = accelerator.prepare(model, optimizer)
    raw: RewardModel = accelerator.unwrap_model(model)
    embeddings = data.embeddings.to(accelerator.device)
    eval_split = data.splits.get("test")

    bar = tqdm(total=total, initial=start_step, desc=f"fit {model_cfg.kind}", unit="step",
               disable=not (progress and accelerator.is_main_process))
    started = time.perf_counter() - seconds
    step = start_step
    while step < total:
        epoch, offset = divmod(step, per_epoch)
        for rows in _epoch_batches(len(train), global_batch, fit_cfg.seed, epoch)[offset:]:
            if step >= total:
                break
            rows = rows[rank::world]  # each process its share of the global batch
            batch = _train_batch(data, rows, embeddings, fit_cfg, step, tuned_backbone,
                                 accelerator.device)
            model.train()
            terms = model(batch, step)  # forward = loss; through DDP when multi-process
            optimizer.zero_grad(set_to_none=True)
            accelerator.backward(terms["total"])
            optimizer.step()
            scheduler.step()
            step += 1
            bar.update(1)
            bar.set_postfix(loss=f"{terms['total'].item():.3f}", kl=f"{terms['kl'].item():.2f}")
            if eval_split is not None and (step % fit_cfg.eval_every == 0 or step == total):
                history.append(_quick_eval(raw, eval_split, embeddings, fit_cfg, step, terms))
                if accelerator.is_main_process:
                    save_progress(out, settings, raw, optimizer, step, history,
                                  time.perf_counter() - started, device=accelerator.device)
    bar.close()
    train_seconds = time.perf_counter() - started
    accelerator.wait_for_everyone()
    report: dict[str, Any] = {}
    if accelerator.is_main_process:
        report = _finish(out, raw, data, model_cfg, fit_cfg, history, train_seconds,
                         {"total_steps": total, "processes": world}, tuned_backbone,
                         save_weights, plots)
    return FitResult(raw, report)


def _train_batch(data: PreparedData, rows: torch.Tensor, embeddings: torch.Tensor,
                 fit_cfg: FitConfig, step: int, tuned_backbone: Any, device: torch.device) -> Any:
    """The training batch of ``rows``: with ``targets_per_context`` > 1 other rows of each user
    as extra targets (drawn with a per-step seed, so a resumed run draws the same), with
    ``context_targets`` the context's own answers scored too, and in LoRA mode the targets
    re-embedded by the tuned backbone."""
    train = data.splits["train"]
    targets, pairs = None, None
    if fit_cfg.targets_per_context > 1:
        gen = torch.Generator().manual_seed(fit_cfg.seed * 1_000_003 + step)
        if fit_cfg.answer_targets:  # also the user's answers this context has not seen
            pairs = train.same_user_targets(rows, fit_cfg.targets_per_context, gen)
        else:
            targets = train.same_user_rows(rows, fit_cfg.targets_per_context, gen)
    batch = train.batch(rows, embeddings, target_rows=targets, target_pairs=pairs).to(device)
    if tuned_backbone is not None:
        batch = _retarget(batch, tuned_backbone, data.texts, train, rows)
    if fit_cfg.context_targets:
        batch = with_context_targets(batch)
    return batch


def _finish(out: Path, raw: RewardModel, data: PreparedData, model_cfg: ModelConfig,
            fit_cfg: FitConfig, history: list[dict[str, Any]], train_seconds: float,
            steps: dict[str, int], tuned_backbone: Any, save_weights: bool,
            plots: bool) -> dict[str, Any]:
    """The main process's end of a fit: the weights (or, for a study cell, only
    ``config.json``), the LoRA weights if any, the report; the resume state is then removed."""
    from train.report import write_report

    raw.eval()
    metadata = {"model_kind": model_cfg.kind, "backbone": data.backbone,
                "embed_dim": model_cfg.embed_dim, "dataset": data.dataset.card,
                "fit": dataclasses.asdict(fit_cfg), "total_steps": steps["total_steps"],
                "processes": steps["processes"], "code_version": _code_version()}
    if save_weights:
        save_model(raw.cpu(), out, metadata)
    else:
        from train.report import write_json

        out.mkdir(parents=True, exist_ok=True)
        write_json(out / "config.json", {**metadata, "model": model_cfg.to_dict(), "weights": None})
    if tuned_backbone is not None:
        from safetensors.torch import save_file
        save_file(tuned_backbone.lora_state_dict(), str(out / "lora.safetensors"))
    report = write_report(out, raw, data, history, train_seconds, fit_cfg.seed, tuned_backbone,
                          plots=plots)
    clear_progress(out)
    return report


def _retarget(batch: Any, backbone: Any, texts: list[str], split: EncodedSplit, rows: torch.Tensor) -> Any:
    """LoRA mode: re-embed the targets with the tuned backbone (contexts stay cached)."""
    chosen = [texts[i] for i in split.chosen[rows].tolist()]
    rejected = [texts[i] for i in split.rejected[rows].tolist()]
    vectors = backbone.forward_embed(chosen + rejected).float().to(batch.chosen.device)  # [2B, D]
    n = len(chosen)
    return dataclasses.replace(batch, chosen=vectors[:n, None], rejected=vectors[n:, None])


@torch.no_grad()
def _quick_eval(model: RewardModel, split: EncodedSplit, emb: torch.Tensor, cfg: FitConfig,
                step: int, terms: dict[str, torch.Tensor]) -> dict[str, Any]:
    """Accuracy, AU and KL on a fixed subset of test rows: the curves of the training plots."""
    from train.evaluate import evaluate_split

    subset = split.select(torch.arange(min(cfg.eval_rows, len(split))))
    m = evaluate_split(model, subset, emb, context_curve=False).metrics
    return {"step": step, "train_loss": round(terms["total"].item(), 5),
            "train_bt": round(terms["bt"].item(), 5), "accuracy": m["accuracy"],
            "accuracy_controversial": m["accuracy_controversial"],
            "active_units_share": m["active_units_share"], "kl": m["kl"]}


def _code_version() -> str | None:
    """The git commit of this checkout, if it is one (stored with every run)."""
    import subprocess

    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                              cwd=Path(__file__).parent, timeout=5).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None
