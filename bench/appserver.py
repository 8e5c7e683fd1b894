"""Run the real demo server (``python app.py``) as a subprocess, for load and crash tests.

``tiny_runs(root)`` writes SPL, VPL and BTL run folders with small random models that name the
embedded backbone (``minilm``, 384 dims), so ``python app.py`` serves them with the shipped demo
pack (``assets/demo_pack.json`` and its precomputed embeddings) and embeds typed candidates with
the real MiniLM, loaded in the background at start-up as in production. ``AppProcess`` starts
the server on a free port with a given ``SPL_DB``, waits until it answers, and can be killed
(SIGKILL) and started again on the same database.

Example:
    >>> with AppProcess(tiny_runs(tmp), db) as server:      # doctest: +SKIP
    ...     Client(server.url).predict("P1", api_name="/new_session")
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

__all__ = ["OFFLINE_ENV", "ROOT", "AppProcess", "free_port", "serve_in_process", "tiny_runs"]

ROOT = Path(__file__).resolve().parents[1]
OFFLINE_ENV = {"GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1",
               "TRANSFORMERS_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1"}


def free_port() -> int:
    """A port that was free a moment ago. Another process may take it before the caller
    binds it: callers must retry on a collision (``AppProcess.start`` does), or let the server
    choose its own port (:func:`serve_in_process`)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve_in_process(demo, **launch_options) -> str:
    """Launch a Gradio ``demo`` in this process on a port Gradio chooses, and return its URL.

    Gradio binds each candidate port itself and moves on to the next one when the bind fails,
    so two test runs starting servers at once never race for one port (a port picked with
    :func:`free_port` and handed to ``server_port`` can be taken in between)."""
    if os.environ.get("GRADIO_SERVER_PORT"):
        raise RuntimeError("unset GRADIO_SERVER_PORT: it pins every test server to one port")
    demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", quiet=True, **launch_options)
    return demo.local_url


def tiny_runs(root: Path, latent_dim: int = 16, hidden_dim: int = 256) -> str:
    """Write spl/, vpl/, btl/ under ``root`` (random weights, the demo's sizes by default) and
    return the value for ``SPL_RUNS``. Skips folders that already exist."""
    import torch

    from spl_model import ModelConfig, build_model, save_model

    meta_dataset = {"name": "synthetic", "user_types": ["concise", "friendly", "steps",
                                                        "cautious"]}
    for seed, kind in enumerate(("spl", "vpl", "btl")):
        folder = root / kind
        if (folder / "config.json").is_file():
            continue
        torch.manual_seed(seed)
        cfg = ModelConfig(kind=kind, embed_dim=384, latent_dim=0 if kind == "btl" else latent_dim,
                          hidden_dim=hidden_dim)
        metadata = {"backbone": {"name": "minilm", "quantize": "none"}, "embed_dim": 384,
                    "dataset": meta_dataset, "model_kind": kind}
        save_model(build_model(cfg).eval(), folder, metadata)
        (folder / "report.json").write_text(json.dumps({"model": kind, "accuracy": None}))
    return str(root)


class PortTaken(RuntimeError):
    """The server could not bind the port it was given: another process took it first."""


class AppProcess:
    """``python app.py`` on a free port with ``SPL_RUNS``/``SPL_DB``; ``start``, ``kill``,
    ``stop``; ``url`` once started. Output goes to ``log`` (a file) for post-mortems.
    ``runs=None`` leaves ``SPL_RUNS`` as the environment has it (the app's default runs)."""

    def __init__(self, runs: str | None, db: Path, *, admin_token: str | None = None,
                 env: dict[str, str] | None = None, log: Path | None = None,
                 nice: int = 0) -> None:
        self.runs, self.db, self.admin_token, self.nice = runs, Path(db), admin_token, nice
        self.extra_env = dict(env or {})
        self.log = Path(log) if log else self.db.with_suffix(".server.log")
        self.proc: subprocess.Popen | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self, timeout: float = 120.0, attempts: int = 3) -> AppProcess:
        """Start on a free port and wait until it answers; a port taken between
        :func:`free_port` and the server's bind (another test run) means another try."""
        for attempt in range(1, attempts + 1):
            try:
                return self._start_once(timeout)
            except PortTaken:
                if attempt == attempts:
                    raise
        raise AssertionError("unreachable")

    def _start_once(self, timeout: float) -> AppProcess:
        self.port = free_port()
        log_start = self.log.stat().st_size if self.log.exists() else 0
        runs = {} if self.runs is None else {"SPL_RUNS": self.runs}
        env = {**os.environ, **OFFLINE_ENV, **runs, "SPL_DB": str(self.db),
               "PORT": str(self.port), **self.extra_env}
        env.pop("GRADIO_SERVER_PORT", None)
        if self.admin_token:
            env["SPL_ADMIN_TOKEN"] = self.admin_token
        cmd = [sys.executable, str(ROOT / "app.py")]
        if self.nice:
            cmd = ["nice", "-n", str(self.nice), *cmd]
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                with open(self.log, "rb") as log:
                    log.seek(log_start)
                    output = log.read().decode(errors="replace")
                if "address already in use" in output.lower() or "empty port" in output:
                    raise PortTaken(f"port {self.port} was taken before app.py bound it")
                raise RuntimeError(f"app.py exited with {self.proc.returncode}: "
                                   f"{output[-2000:]}")
            try:
                with urllib.request.urlopen(self.url, timeout=2) as response:
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise TimeoutError(f"app.py did not answer within {timeout:.0f} s")

    def kill(self) -> None:
        """SIGKILL: no shutdown handlers run, as in a crash or an OOM kill."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()

    def rss_mb(self) -> float:
        if self.proc is None:
            return float("nan")
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
        return float("nan")

    def __enter__(self) -> AppProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
