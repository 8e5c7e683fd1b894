"""Latency of the active-query selector and the stopping signal; prints one JSON object.

Measures, with 1 torch thread (as the app runs), on the demo-sized SPL model (D = 384,
Z = 16, H = 256; the trained run's weights when ``--run`` is given, else random ones: the
cost does not depend on the weights):

- ``select_ms``: ``select_query`` for one user with C context pairs, a pool of 64 pairs and
  32 posterior samples (target p95 <= 100 ms), for C = 0 (prior), 4 and 12;
- ``lookahead_select_ms``: the same with ``method="lookahead"`` (no samples: 2 x 64
  look-ahead posteriors, each scored on the 64 pool pairs);
- ``stability_ms``: ``top_stability`` over 6 candidates with 32 samples;
- ``lookahead_stability_ms``: ``lookahead_stability`` over 6 candidates, the pool's 64 pairs
  as the possible next questions.

Wall time on a shared machine includes waiting for the CPU; ``cpu_p50``/``cpu_p95`` (the
calling thread's CPU time) are what the wall time would be on an idle one.

Usage: ``python bench/active_query.py [--run runs/demo/spl] [--repeats 100]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from spl_model import ModelConfig, build_model, load_model  # noqa: E402
from spl_model.active import lookahead_stability, select_query, top_stability  # noqa: E402


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))], 2)


def _time(fn, repeats: int) -> dict[str, float]:
    fn()  # warm-up
    wall, cpu = [], []
    for _ in range(repeats):
        w, c = time.perf_counter(), time.thread_time()
        fn()
        wall.append((time.perf_counter() - w) * 1e3)
        cpu.append((time.thread_time() - c) * 1e3)
    return {"p50": round(statistics.median(wall), 2), "p95": _pct(wall, 0.95),
            "cpu_p50": round(statistics.median(cpu), 2), "cpu_p95": _pct(cpu, 0.95),
            "n": repeats}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run", type=Path, default=None, help="a trained SPL run folder")
    parser.add_argument("--repeats", type=int, default=100)
    parser.add_argument("--pool", type=int, default=64)
    parser.add_argument("--samples", type=int, default=32)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    torch.manual_seed(0)
    if args.run is not None:
        model = load_model(args.run).eval()
    else:
        model = build_model(ModelConfig(kind="spl", embed_dim=384, latent_dim=16,
                                        hidden_dim=256)).eval()
    D = model.cfg.embed_dim
    pool_a, pool_b = torch.randn(args.pool, D), torch.randn(args.pool, D)
    asked = torch.zeros(args.pool, dtype=torch.bool)
    asked[:3] = True
    out: dict = {"model": repr(model), "weights": str(args.run) if args.run else "random",
                 "pool": args.pool, "samples": args.samples,
                 "torch_threads": torch.get_num_threads(), "select_ms": {},
                 "lookahead_select_ms": {}}
    for C in (0, 4, 12):
        context = (torch.randn(1, C, D), torch.randn(1, C, D), torch.ones(1, C, dtype=torch.bool))
        out["select_ms"][f"C={C}"] = _time(
            lambda: select_query(model, context, pool_a, pool_b, asked, args.samples),
            args.repeats)
        out["lookahead_select_ms"][f"C={C}"] = _time(
            lambda: select_query(model, context, pool_a, pool_b, asked, method="lookahead"),
            args.repeats)
    context = (torch.randn(1, 4, D), torch.randn(1, 4, D), torch.ones(1, 4, dtype=torch.bool))
    candidates = torch.randn(6, D)
    out["stability_ms"] = _time(lambda: top_stability(model, context, candidates, args.samples),
                                args.repeats)
    out["lookahead_stability_ms"] = _time(
        lambda: lookahead_stability(model, context, candidates, pool_a, pool_b, asked),
        args.repeats)
    worst = max(v["p95"] for v in [*out["select_ms"].values(),
                                   *out["lookahead_select_ms"].values()])
    out["select_p95_ms_max"] = worst
    out["target_p95_ms"] = 100
    out["meets_target"] = worst <= 100
    print(json.dumps(out, indent=2))
    return out


if __name__ == "__main__":
    main()
