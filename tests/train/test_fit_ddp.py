"""Two processes on CPU (gloo) through accelerate: the DDP path ends with identical weights."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from fit_helpers import fill_cache, make_dataset

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def test_two_processes_end_with_identical_weights(tmp_path: Path) -> None:
    fill_cache(make_dataset(tmp_path / "data"), tmp_path / "cache")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    # --standalone: the rendezvous store binds a port of its own choosing (localhost:0), so
    # no port is picked here and released before use (another test run could take it)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           str(HERE / "ddp_fit.py"), str(tmp_path)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    first, second = (tmp_path / "rank0.sha").read_text(), (tmp_path / "rank1.sha").read_text()
    assert first == second
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["processes"] == 2  # really ran data-parallel, each on half of every batch
