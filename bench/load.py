"""Load test of the real server: N simultaneous participants through ``python app.py``; prints
one JSON object (and writes it to ``--out``).

The server runs as a subprocess (``bench/appserver.py``): ``SPL_RUNS`` = ``--runs`` (default:
random SPL/VPL/BTL runs at the demo's size, latent 16, hidden 256, naming the embedded MiniLM
backbone, so the shipped demo pack and the real MiniLM serve them), a temp ``SPL_DB``, and the
app's own concurrency settings. Each participant is a thread with its own ``gradio_client``:
consent (``/new_session``), every pair the app offers (``/next_pair`` + ``/label``; 7 pairs and
the attention repeat with the shipped pack), a ranking of a demo prompt, a ranking of typed
candidates (new texts: MiniLM embeds them), ``/finish``. All start together (a barrier). By
default there is no think time, a worst case; ``--think 3,10`` waits a uniform 3-10 s before each
answer (reading the pair), as real participants do, and ``--ramp 30`` lets them arrive evenly
over 30 s rather than in the same second.

Checked against the database afterwards: every acknowledged label is stored exactly once, in
order (``lost`` / ``duplicated`` / ``unexpected``), 2 rankings and a finished status per
session, ``PRAGMA integrity_check``. Reported per N: latency p50 / p95 / max per endpoint
(client-side, gradio_client included), throughput, the server's and the load generator's CPU
seconds (both share this machine's cores), and the knee: the first N whose label p95 > 1 s.

``--client raw`` drives the same queued endpoints over plain HTTP (POST
``/gradio_api/call/NAME`` + its event stream): gradio_client costs ~3x the server's CPU per
request, and here both share the cores, so raw shows what the server itself sustains.

**Memory**: ``--repeat R`` runs the levels R times against the same server (one wave after
another) and adds ``memory``: the server's RSS after the wave that reaches 200 sessions and after
the last, their ratio (target <= 1.2), and the median label p50 / p95 of the first and last
fifth of the waves (drift). Gradio keeps per-connection state (``app.state_bound`` bounds it).

Usage: ``python bench/load.py --clients 32`` or a sweep ``--clients 1,4,8,16,32 --client both``;
``--clients 64 --think 3,10`` (a study's pace); ``--clients 32 --client raw --repeat 63``
(2,016 sessions: the memory bench). ``--out`` writes the JSON (bench/results/ keeps ours).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.appserver import OFFLINE_ENV, AppProcess, tiny_runs  # noqa: E402

for _k, _v in OFFLINE_ENV.items():
    os.environ.setdefault(_k, _v)

ENDPOINTS = ("connect", "/new_session", "/next_pair", "/label", "/rank", "/rank_typed",
             "/finish")


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _summary(values: list[float]) -> dict[str, float]:
    if not values:
        return {"n": 0}
    ms = [v * 1000 for v in values]
    return {"n": len(ms), "p50_ms": round(statistics.median(ms), 1),
            "p95_ms": round(_pct(ms, 0.95), 1), "max_ms": round(max(ms), 1)}


def _machine_busy_seconds() -> float:
    """CPU seconds all processes on this machine have used (``/proc/stat``, all cores)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Participant:
    """One simulated participant's full session; timings and acknowledged labels."""

    def __init__(self, url: str, tag: str, demo_set: dict, timeout: float,
                 client: str = "gradio", think: tuple[float, float] = (0.0, 0.0),
                 delay: float = 0.0) -> None:
        self.url, self.tag, self.demo_set, self.timeout = url, tag, demo_set, timeout
        self.mode, self.think, self.delay = client, think, delay
        self.rng = random.Random(tag)
        self.times: dict[str, list[float]] = defaultdict(list)
        self.acked: list[tuple[str, str]] = []
        self.errors: list[str] = []
        self.sid: str | None = None

    def _call(self, name: str, *args: object, api_name: str) -> object:
        start = time.perf_counter()
        if self.mode == "raw":
            out = self._raw(api_name, list(args))
        else:
            out = self.client.submit(*args, api_name=api_name).result(timeout=self.timeout)
        self.times[name].append(time.perf_counter() - start)
        return out

    def _raw(self, api_name: str, data: list) -> object:
        """The same queued endpoint over plain HTTP: POST /gradio_api/call/NAME, then read
        its event stream (what gradio_client does, without its threads and handshakes)."""
        import urllib.request

        base = f"{self.url.rstrip('/')}/gradio_api/call{api_name}"
        request = urllib.request.Request(base, data=json.dumps({"data": data}).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            event_id = json.loads(response.read())["event_id"]
        with urllib.request.urlopen(f"{base}/{event_id}", timeout=self.timeout) as response:
            text = response.read().decode("utf-8")
        kind, _, payload = text.partition("\ndata:")
        if not kind.endswith("complete"):
            raise RuntimeError(f"{api_name}: {text[:200]}")
        return json.loads(payload)[0]

    def run(self, barrier: threading.Barrier) -> None:
        import urllib.request

        from gradio_client import Client

        try:
            barrier.wait()
            if self.delay:
                time.sleep(self.delay)  # arrives later (--ramp)
            start = time.perf_counter()
            if self.mode == "raw":
                urllib.request.urlopen(self.url, timeout=self.timeout).read()  # the page
            else:
                self.client = Client(self.url, verbose=False)
            self.times["connect"].append(time.perf_counter() - start)
            self.sid = self._call("/new_session", self.tag, "LOAD", "", api_name="/new_session")
            k = 0
            while (pair := self._call("/next_pair", self.sid, api_name="/next_pair")):
                choice = ("A", "B", "tie", "skip", "A", "B")[k % 6]
                if self.think[1] > 0:  # reading the pair before answering
                    time.sleep(self.rng.uniform(*self.think))
                result = self._call("/label", self.sid, pair["pair_id"], choice,
                                    api_name="/label")
                self.acked.append((pair["pair_id"], choice))
                if result["n_labels"] != len(self.acked):
                    self.errors.append(f"n_labels {result['n_labels']} != {len(self.acked)}")
                k += 1
            cands = [c["response"] for c in self.demo_set["candidates"]]
            self._call("/rank", self.sid, self.demo_set["prompt"], cands, api_name="/rank")
            typed = [f"{self.tag}: answer {i}, written by this participant only." for i in range(4)]
            self._call("/rank_typed", self.sid, f"What would {self.tag} ask?", typed,
                       api_name="/rank")
            self._call("/finish", self.sid, api_name="/finish")
        except Exception as exc:  # noqa: BLE001 - counted and reported
            self.errors.append(f"{type(exc).__name__}: {str(exc)[:200]}")


def check_database(db: Path, people: list[Participant]) -> dict[str, int | bool]:
    """Compare every participant's acknowledged labels with the stored rows."""
    lost = duplicated = unexpected = bad_sessions = 0
    with sqlite3.connect(db) as conn:
        for person in people:
            if person.sid is None:
                continue
            rows = conn.execute("SELECT pair_id, choice FROM labels WHERE session_id = ? AND "
                                "undone_at IS NULL ORDER BY position", [person.sid]).fetchall()
            stored = [tuple(r) for r in rows]
            lost += sum(1 for a in person.acked if a not in stored)
            duplicated += len(stored) - len(set(stored))
            unexpected += sum(1 for s in set(stored) if s not in person.acked)
            status = conn.execute("SELECT status FROM sessions WHERE session_id = ?",
                                  [person.sid]).fetchone()
            n_rank = conn.execute("SELECT COUNT(*) FROM rankings WHERE session_id = ?",
                                  [person.sid]).fetchone()[0]
            if not person.errors and (status != ("finished",) or n_rank != 2
                                      or stored != person.acked):
                bad_sessions += 1
        ok = conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    return {"lost": lost, "duplicated": duplicated, "unexpected": unexpected,
            "inconsistent_sessions": bad_sessions, "integrity_ok": ok}


def run_level(server: AppProcess, n: int, demo_set: dict, timeout: float,
              client: str = "gradio", think: tuple[float, float] = (0.0, 0.0),
              wave: int = 0, ramp: float = 0.0) -> dict:
    people = [Participant(server.url, f"LOAD{n}{client[0]}w{wave}-{i}", demo_set, timeout,
                          client, think, ramp * i / n) for i in range(n)]
    barrier = threading.Barrier(n + 1)
    threads = [threading.Thread(target=p.run, args=(barrier,), daemon=True) for p in people]
    for thread in threads:
        thread.start()
    server_cpu, client_cpu = _cpu_seconds(server.proc.pid), time.process_time()
    machine_cpu = _machine_busy_seconds()
    load_before = os.getloadavg()[0]
    barrier.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join(timeout=timeout * 40)
    wall = time.perf_counter() - start
    server_cpu = _cpu_seconds(server.proc.pid) - server_cpu
    client_cpu = time.process_time() - client_cpu
    others_cpu = _machine_busy_seconds() - machine_cpu - server_cpu - client_cpu
    times: dict[str, list[float]] = defaultdict(list)
    for person in people:
        for name, values in person.times.items():
            times[name].extend(values)
    n_labels = sum(len(p.acked) for p in people)
    n_requests = sum(len(v) for k, v in times.items() if k != "connect")
    errors = [e for p in people for e in p.errors]
    return {
        "clients": n, "client": client, "think_s": list(think), "ramp_s": ramp,
        "errors": len(errors),
        "error_samples": errors[:3],
        "sessions_completed": sum(1 for p in people if not p.errors),
        "labels_acknowledged": n_labels, **check_database(server.db, people),
        "wall_s": round(wall, 2), "throughput": {
            "labels_per_s": round(n_labels / wall, 2),
            "requests_per_s": round(n_requests / wall, 2),
            "sessions_per_min": round(60 * len(people) / wall, 1)},
        "latency": {name: _summary(times[name]) for name in ENDPOINTS},
        "cpu_s": {"server": round(server_cpu, 2), "load_generator": round(client_cpu, 2),
                  "server_per_request_ms": round(1000 * server_cpu / max(1, n_requests), 1),
                  "client_per_request_ms": round(1000 * client_cpu / max(1, n_requests), 1),
                  "other_processes": round(others_cpu, 2),
                  "other_processes_cores": round(others_cpu / wall, 2)},
        "load_avg_1min_before": round(load_before, 2),
    }


def memory_summary(levels: list[dict], mark: int = 200) -> dict:
    """RSS after the wave that reaches ``mark`` sessions and after the last; label latency of
    the first and last fifth of the waves (medians over waves), and totals."""
    total, rows = 0, []
    for lv in levels:
        total += lv["clients"]
        lat = lv["latency"]["/label"]
        rows.append({"sessions": total, "rss_mb": lv["server_rss_mb"],
                     "label_p50_ms": lat.get("p50_ms"), "label_p95_ms": lat.get("p95_ms")})
    at = next((r for r in rows if r["sessions"] >= mark), rows[-1])
    k = max(1, len(rows) // 5)

    def med(part: list[dict], key: str) -> float | None:
        values = [r[key] for r in part if r[key] is not None]
        return round(statistics.median(values), 1) if values else None

    return {"sessions": total,
            "after_mark": {"sessions": at["sessions"], "rss_mb": at["rss_mb"]},
            "after_all": {"sessions": total, "rss_mb": rows[-1]["rss_mb"]},
            "rss_ratio": round(rows[-1]["rss_mb"] / at["rss_mb"], 3),
            "rss_ratio_target": 1.2, "rss_max_mb": max(r["rss_mb"] for r in rows),
            "waves_per_fifth": k,
            "label_p50_ms_first_fifth": med(rows[:k], "label_p50_ms"),
            "label_p50_ms_last_fifth": med(rows[-k:], "label_p50_ms"),
            "label_p95_ms_first_fifth": med(rows[:k], "label_p95_ms"),
            "label_p95_ms_last_fifth": med(rows[-k:], "label_p95_ms"),
            "lost": sum(lv["lost"] for lv in levels),
            "duplicated": sum(lv["duplicated"] for lv in levels),
            "errors": sum(lv["errors"] for lv in levels), "by_wave": rows}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", default="32",
                        help="participants at once; a comma list sweeps (default 32)")
    parser.add_argument("--runs", default=None,
                        help="SPL_RUNS for the server (default: random runs at the demo size)")
    parser.add_argument("--client", default="gradio", help="gradio (gradio_client, as "
                        "asked) | raw (plain HTTP to the same queued endpoints: measures the "
                        "server without the client's CPU) | both")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per request")
    parser.add_argument("--think", default="0,0", help="LO,HI: uniform seconds each "
                        "participant waits before each answer (default 0,0: no think time)")
    parser.add_argument("--ramp", type=float, default=0.0, help="participants arrive evenly "
                        "over this many seconds instead of all at once (default 0)")
    parser.add_argument("--repeat", type=int, default=1, help="run the levels this many times "
                        "on the same server (the memory bench; adds 'memory' to the output)")
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    args = parser.parse_args(argv)
    levels = [int(x) for x in args.clients.split(",") if x.strip()] * max(1, args.repeat)
    lo, hi = (float(x) for x in args.think.split(","))
    if not 0 <= lo <= hi:
        parser.error("--think takes LO,HI with 0 <= LO <= HI, e.g. 3,10")
    work = Path(tempfile.mkdtemp(prefix="spl-load-"))
    runs = args.runs or tiny_runs(work / "runs")
    pack = json.loads((ROOT / "assets" / "demo_pack.json").read_text(encoding="utf-8"))
    demo_set = pack["ranking_sets"][0]
    result: dict = {"cpu_count": os.cpu_count(), "server": "python app.py (subprocess)",
                    "runs": "random spl/vpl/btl at latent 16, hidden 256, MiniLM backbone"
                    if not args.runs else args.runs,
                    "client": "one thread per participant, " + (
                        f"think time uniform {lo:g}-{hi:g} s before each answer" if hi
                        else "no think time"),
                    "argv": sys.argv[1:] if argv is None else list(argv),
                    "load_avg_1min_start": round(os.getloadavg()[0], 2), "levels": []}
    with AppProcess(runs, work / "load.db") as server:
        started = time.perf_counter()
        warm = Participant(server.url, "WARMUP", demo_set, args.timeout)  # loads MiniLM
        warm.run(threading.Barrier(1))
        result["warmup_s"] = round(time.perf_counter() - started, 2)
        clients = ["gradio", "raw"] if args.client == "both" else [args.client]
        for client in clients:
            for wave, n in enumerate(levels):
                level = run_level(server, n, demo_set, args.timeout, client, (lo, hi), wave,
                                  args.ramp)
                level["server_rss_mb"] = server.rss_mb()
                result["levels"].append(level)
                print(json.dumps({k: level[k] for k in ("clients", "client", "errors", "lost",
                                                         "duplicated", "wall_s",
                                                         "server_rss_mb")} | {
                    "label_p95_ms": level["latency"]["/label"].get("p95_ms")}), file=sys.stderr)
            if args.repeat > 1:
                result.setdefault("memory", {})[client] = memory_summary(
                    [lv for lv in result["levels"] if lv["client"] == client])
    result["load_avg_1min_end"] = round(os.getloadavg()[0], 2)
    result["label_p95_over_1s_from_clients"] = {}
    for client in clients:
        over = [lv["clients"] for lv in result["levels"] if lv["client"] == client
                and lv["latency"]["/label"].get("p95_ms", 0) > 1000]
        result["label_p95_over_1s_from_clients"][client] = over[0] if over else None
    text = json.dumps(result, indent=1)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    return result


if __name__ == "__main__":
    main()
