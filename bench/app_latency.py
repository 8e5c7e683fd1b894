"""Latency and memory of the demo app; prints one JSON object.

Measures (targets in brackets):

- ``label_service_ms``: one answer -> updated posterior (32 samples), latent point, confidence
  and the re-ranking of a cached demo candidate set, for all three models (p95 <= 50 ms);
- ``label_handler_ms``: the same through ``app.handlers.label`` + ``rank``, i.e. with the
  SQLite writes committed (``synchronous=FULL``) before returning;
- ``typed_rank_ms``: a typed prompt with 8 new candidates, embedding included (p95 <= 400 ms);
- ``start_to_serving_s``: ``python app.py`` until the page answers HTTP 200 (<= 15 s);
- ``rss_mb_after_warmup``: that process's resident memory after the backbone is loaded and a
  session has labelled and ranked (<= 1.5 GB).

Usage: ``python bench/app_latency.py [--runs DIR] [--repeats 40]`` (runs: ``SPL_RUNS`` or
``assets/runs``). Offline: set HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _pcts(samples: list[float], cpu: list[float] | None = None) -> dict[str, float]:
    """p50/p95 of wall times (ms), and of the calling thread's CPU times when given: with
    one torch thread, CPU time is what the wall time would be on an otherwise idle machine."""
    def pct(values: list[float], q: float) -> float:
        ordered = sorted(values)
        return round(ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))], 2)
    out = {"p50": round(statistics.median(samples), 2), "p95": pct(samples, 0.95),
           "n": len(samples)}
    if cpu:
        out.update({"cpu_p50": round(statistics.median(cpu), 2), "cpu_p95": pct(cpu, 0.95)})
    return out


class _Timer:
    """Wall and thread-CPU milliseconds of a block, appended to two lists."""

    def __init__(self, wall: list[float], cpu: list[float]) -> None:
        self.wall, self.cpu = wall, cpu

    def __enter__(self) -> None:
        self._w, self._c = time.perf_counter(), time.thread_time()

    def __exit__(self, *exc: object) -> None:
        self.wall.append((time.perf_counter() - self._w) * 1000)
        self.cpu.append((time.thread_time() - self._c) * 1000)


def bench_in_process(runs: str | None, repeats: int) -> dict[str, object]:
    import torch

    from app.settings import Settings

    torch.set_num_threads(Settings.from_env().torch_threads)  # as app.py does
    from app import handlers as h
    from app.runs import find_run_folders
    from app.service import Service
    from app.store import Store

    service = Service.from_folders(find_run_folders(runs))
    service.warm_up()  # backbone + probe set
    cached = service.ranking_sets[0]
    cands = [c["response"] for c in cached["candidates"]]
    pairs = service.pack["pairs"]
    service_ms: list[float] = []
    service_cpu: list[float] = []
    for r in range(repeats):
        k = 1 + r % len(pairs)
        context = [(p["prompt"], p["a"], p["b"]) for p in pairs[:k]]
        with _Timer(service_ms, service_cpu):
            person = service.personalise(context)
            service.latent(person)
            service.confidence(person)
            service.rank(cached["prompt"], cands, person)

    handler_ms: list[float] = []
    handler_cpu: list[float] = []
    with Store.open(Path(tempfile.mkdtemp()) / "bench.db") as store:
        while len(handler_ms) < repeats:
            sid = h.start_session(store, "bench")
            while (pair := h.next_pair(store, service, sid)) is not None:
                with _Timer(handler_ms, handler_cpu):
                    h.label(store, service, sid, pair["pair_id"], "A", seconds=1.0)
                    h.rank(store, service, sid, cached["prompt"], cands)

    typed_ms: list[float] = []
    typed_cpu: list[float] = []
    for r in range(max(10, repeats // 2)):
        new = [f"Candidate {r}-{i}: try option {i} first, then check the result ({r * 8 + i})."
               for i in range(8)]
        person = service.personalise([(p["prompt"], p["a"], p["b"]) for p in pairs[:3]])
        with _Timer(typed_ms, typed_cpu):
            service.rank(f"Typed question number {r}: how should I plan my week?", new, person)
    return {"label_service_ms": _pcts(service_ms, service_cpu),
            "label_handler_ms": _pcts(handler_ms, handler_cpu),
            "typed_rank_ms": _pcts(typed_ms, typed_cpu), "torch_threads": torch.get_num_threads(),
            "backbone": service.backbone_name}


def bench_process(runs: str | None) -> dict[str, object]:
    """Start ``python app.py``, time it to HTTP 200, warm it up through the API, read RSS."""
    from gradio_client import Client

    from bench.appserver import AppProcess

    server = AppProcess(runs or None, Path(tempfile.mkdtemp()) / "s.db")
    start = time.perf_counter()
    server.start()
    try:
        serving = time.perf_counter() - start
        client = Client(server.url, verbose=False)
        sid = client.predict("bench", api_name="/new_session")
        while (pair := client.predict(sid, api_name="/next_pair")) is not None:
            client.predict(sid, pair["pair_id"], "B", api_name="/label")
        client.predict(sid, "A typed prompt?", ["One answer.", "Another answer!"],
                       api_name="/rank")
        return {"start_to_serving_s": round(serving, 2), "rss_mb_after_warmup": server.rss_mb()}
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", default=os.environ.get("SPL_RUNS"),
                        help="run folders (default SPL_RUNS or assets/runs)")
    parser.add_argument("--repeats", type=int, default=40)
    parser.add_argument("--skip-process", action="store_true", help="in-process timings only")
    args = parser.parse_args()
    result: dict[str, object] = {"cpu_count": os.cpu_count(),
                                 "load_avg_1min_before": round(os.getloadavg()[0], 2)}
    result.update(bench_in_process(args.runs, args.repeats))
    if not args.skip_process:
        result.update(bench_process(args.runs))
    result["targets"] = {"label_service_ms.p95": 50, "typed_rank_ms.p95": 400,
                         "start_to_serving_s": 15, "rss_mb_after_warmup": 1536}
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
