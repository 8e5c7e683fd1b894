"""``python -m train --help`` and every sub-command's ``--help`` import no torch (STYLE.md 10)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

WALK = """
import json, sys
import click
from click.testing import CliRunner
from train.cli import cli

def paths(group, prefix):
    yield prefix
    for name, command in getattr(group, "commands", {}).items():
        yield from paths(command, [*prefix, name])

seen = {}
for path in paths(cli, []):
    result = CliRunner().invoke(cli, [*path, "--help"])
    seen[" ".join(path) or "(group)"] = [result.exit_code, "Usage:" in result.output]
heavy = sorted(m for m in ("torch", "transformers", "safetensors", "gradio", "matplotlib")
               if m in sys.modules)
print(json.dumps({"seen": seen, "heavy": heavy}))
"""


def test_every_help_is_fast_and_imports_no_torch() -> None:
    out = subprocess.run([sys.executable, "-c", WALK], cwd=ROOT, capture_output=True, text=True,
                         timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stderr[-2000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert {"fit", "eval", "embed", "study", "data", "data synthetic"} <= set(report["seen"])
    assert all(code == 0 and usage for code, usage in report["seen"].values()), report["seen"]
    assert report["heavy"] == []


def test_the_module_entry_point_prints_help_without_torch() -> None:
    code = ("import runpy, sys\nsys.argv = ['train', '--help']\ntry:\n"
            "    runpy.run_module('train', run_name='__main__')\nexcept SystemExit:\n    pass\n"
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "Usage: python -m train" in out.stdout and out.stdout.strip().endswith("False")
