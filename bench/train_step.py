"""Benchmark: one SPL training step at the paper's size on this CPU, and inference latency.

Setting (issue 2): B = 64 users, D = 384, Z = H = 1024, K = 2 flows, 2..8 context pairs per
user, one target pair each. Prints one JSON line: users_per_s, ms_per_step (median over
``--steps`` steps after warm-up), the precision and optimizer used, and the latency of
inference for one user (posterior from 8 pairs + rewards of 8 candidates), p50 / p95 ms.

    python bench/train_step.py                       # bf16 autocast, fused AdamW (defaults)
    python bench/train_step.py --precision fp32 --optimizer plain
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from spl_model import ModelConfig, PreferenceBatch, build_model  # noqa: E402


def random_batch(users: int, dim: int, min_ctx: int, max_ctx: int, gen: torch.Generator) -> PreferenceBatch:
    sizes = torch.randint(min_ctx, max_ctx + 1, (users,), generator=gen)
    mask = torch.arange(max_ctx)[None, :] < sizes[:, None]  # [B, C]
    emb = lambda *shape: torch.nn.functional.normalize(torch.randn(*shape, dim, generator=gen), dim=-1)  # noqa: E731
    return PreferenceBatch(emb(users, max_ctx), emb(users, max_ctx), mask, emb(users, 1), emb(users, 1))


def make_optimizer(name: str, params) -> torch.optim.Optimizer:
    kwargs = {"lr": 1e-4, "weight_decay": 1e-3}
    if name == "fused":
        return torch.optim.AdamW(params, fused=True, **kwargs)
    if name == "foreach":
        return torch.optim.AdamW(params, foreach=True, **kwargs)
    return torch.optim.AdamW(params, foreach=False, **kwargs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=64)
    parser.add_argument("--embed-dim", type=int, default=384)
    parser.add_argument("--latent-dim", type=int, default=1024)
    parser.add_argument("--hidden-dim", type=int, default=1024)
    parser.add_argument("--flows", type=int, default=2)
    parser.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
    parser.add_argument("--optimizer", choices=["fused", "foreach", "plain"], default="fused")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--latency-runs", type=int, default=50)
    args = parser.parse_args()

    torch.manual_seed(31)
    gen = torch.Generator().manual_seed(31)
    cfg = ModelConfig(kind="spl", embed_dim=args.embed_dim, latent_dim=args.latent_dim,
                      hidden_dim=args.hidden_dim, n_flows=args.flows)
    model = build_model(cfg).train()
    optimizer = make_optimizer(args.optimizer, model.parameters())
    batches = [random_batch(args.users, args.embed_dim, 2, 8, gen) for _ in range(4)]
    dtype = torch.bfloat16 if args.precision == "bf16" else torch.float32

    times = []
    for step in range(args.warmup + args.steps):
        batch = batches[step % len(batches)]
        start = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.precision == "bf16"):
            loss = model.loss(batch, step=step)["total"]
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if step >= args.warmup:
            times.append(time.perf_counter() - start)
    step_s = statistics.median(times)

    model.eval()
    one = random_batch(1, args.embed_dim, 8, 8, gen)
    candidates = torch.randn(1, 8, args.embed_dim)
    latencies = []
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.precision == "bf16"):
        for i in range(args.latency_runs + 5):
            start = time.perf_counter()
            z = model.posterior(one.ctx_chosen, one.ctx_rejected, one.ctx_mask).z
            model.reward(candidates, z)
            if i >= 5:
                latencies.append((time.perf_counter() - start) * 1000)
    latencies.sort()
    print(json.dumps({
        "bench": "train_step",
        "model": "spl", "users": args.users, "embed_dim": args.embed_dim,
        "latent_dim": args.latent_dim, "hidden_dim": args.hidden_dim, "flows": args.flows,
        "context_pairs": [2, 8], "precision": args.precision, "autocast_dtype": str(dtype),
        "optimizer": f"AdamW({args.optimizer})", "threads": torch.get_num_threads(),
        "params": sum(p.numel() for p in model.parameters()),
        "steps_timed": len(times), "ms_per_step": round(step_s * 1000, 1),
        "users_per_s": round(args.users / step_s, 1),
        "ms_per_step_min": round(min(times) * 1000, 1),
        "infer_p50_ms": round(latencies[len(latencies) // 2], 2),
        "infer_p95_ms": round(latencies[int(len(latencies) * 0.95) - 1], 2),
    }))


if __name__ == "__main__":
    main()
