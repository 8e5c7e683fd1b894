"""GPU check of the paper's path, without downloading anything: a random Llama (Llama-3-like
layer widths, few layers) saved locally, loaded in 4-bit with bitsandbytes on CUDA, used to embed
a small synthetic dataset, then a LoRA fit of SPL on it; plus the SPL training step at the
paper's size (B = 64, D = 4096, Z = H = 1024, K = 2) in fp32 and bf16 autocast.

    python bench/gpu_check.py --out results.json

Prints one JSON object (and writes it to --out). Run it on a machine with a GPU.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def tiny_llama(folder: Path, words: list[str], hidden: int, layers: int) -> Path:
    """A random Llama with a word-level tokenizer over ``words``, saved with save_pretrained."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    vocab = {t: i for i, t in enumerate(["<pad>", "<unk>", "<s>", "</s>"] + words)}
    core = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    core.normalizer = normalizers.Lowercase()
    core.pre_tokenizer = pre_tokenizers.Whitespace()
    tok = PreTrainedTokenizerFast(tokenizer_object=core, unk_token="<unk>", pad_token="<pad>",
                                  bos_token="<s>", eos_token="</s>")
    cfg = LlamaConfig(hidden_size=hidden, intermediate_size=int(hidden * 3.5), num_hidden_layers=layers,
                      num_attention_heads=hidden // 128, num_key_value_heads=max(hidden // 512, 1),
                      vocab_size=len(vocab), max_position_embeddings=1024, pad_token_id=0,
                      bos_token_id=2, eos_token_id=3)
    torch.manual_seed(0)
    LlamaForCausalLM(cfg).to(torch.bfloat16).save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


def paper_step(precision: str, steps: int = 10) -> dict:
    from train_step import random_batch

    from spl_model import ModelConfig, build_model

    gen = torch.Generator().manual_seed(31)
    model = build_model(ModelConfig(kind="spl", embed_dim=4096, latent_dim=1024, hidden_dim=1024)).cuda().train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, fused=True)
    batches = [random_batch(64, 4096, 2, 8, gen).to("cuda") for _ in range(3)]
    times = []
    for i in range(steps + 3):
        torch.cuda.synchronize()
        t = time.perf_counter()
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=precision == "bf16"):
            loss = model.loss(batches[i % 3], step=i)["total"]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        torch.cuda.synchronize()
        if i >= 3:
            times.append(time.perf_counter() - t)
    ms = statistics.median(times) * 1000
    return {"precision": precision, "ms_per_step": round(ms, 2), "users_per_s": round(64 / ms * 1000, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--hidden", type=int, default=4096)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--dry-run", action="store_true", help="allow CPU (checks the script, not the GPU)")
    args = parser.parse_args()
    if not (torch.cuda.is_available() or args.dry_run):
        raise SystemExit("this check needs a CUDA GPU (or --dry-run)")
    from spl_model.backbones import load_backbone
    from train.data.schema import write_dataset
    from train.data.synthetic import SyntheticConfig, build_synthetic
    from train.fit import FitConfig, fit, model_config, prepare_data

    cuda = torch.cuda.is_available()
    result: dict = {"gpu": torch.cuda.get_device_name(0) if cuda else "none (dry run)", "torch": torch.__version__}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        built = build_synthetic(SyntheticConfig(train_rows=512, test_rows=128, unseen_users=16))
        write_dataset(root / "data", built.card, built.splits)
        words = sorted({w.lower() for s in built.splits["train"] for w in (s["prompt"] + " " + s["chosen"]).split()})
        llama = tiny_llama(root / "llama", words[:8000], args.hidden, args.layers)
        result["backbone"] = {"hidden": args.hidden, "layers": args.layers, "quantize": "4bit"}

        t = time.perf_counter()
        data = prepare_data(root / "data", root / "cache", backbone=str(llama), quantize="4bit")
        result["embed"] = {"texts": len(data.texts), "seconds": round(time.perf_counter() - t, 2),
                           "dim": data.embeddings.shape[1]}
        if cuda:
            torch.cuda.reset_peak_memory_stats()
        backbone = load_backbone(str(llama), quantize="4bit")
        backbone.add_lora(r=16, alpha=32, dropout=0.1)
        cfg = model_config("spl", data.embeddings.shape[1], data, {"latent_dim": 64, "hidden_dim": 256})
        fit_cfg = FitConfig(max_steps=args.steps, batch_size=16, lr=3e-4, eval_every=args.steps, lora_r=16,
                            lora_alpha=32, lora_dropout=0.1)
        t = time.perf_counter()
        out = fit(data, root / "run", cfg, fit_cfg, progress=False, tuned_backbone=backbone)
        seconds = time.perf_counter() - t
        result["lora_fit"] = {"steps": args.steps, "batch_size": 16, "seconds_incl_eval": round(seconds, 2),
                              "peak_gpu_mb": round(torch.cuda.max_memory_allocated() / 2**20) if cuda else None,
                              "accuracy": out.report["accuracy"], "device": str(next(out.model.parameters()).device)}
    if cuda:
        result["paper_size_step"] = [paper_step("fp32"), paper_step("bf16")]
    text = json.dumps(result, indent=1)
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
