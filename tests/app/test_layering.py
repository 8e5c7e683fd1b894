"""The app needs only the model library: nothing in ``app/`` imports the trainer (``train``)."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APP_MODULES = sorted(p for p in (ROOT / "app").glob("*.py"))


def _imported_modules(path: Path) -> list[str]:
    """Every module an ``import``/``from ... import`` in ``path`` names, at any depth."""
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
    return names


def test_no_app_module_names_the_trainer() -> None:
    assert len(APP_MODULES) > 5
    found = {p.name: [n for n in _imported_modules(p) if n == "train" or n.startswith("train.")]
             for p in APP_MODULES}
    assert {k: v for k, v in found.items() if v} == {}


def test_importing_the_app_loads_no_trainer_module() -> None:
    modules = ", ".join(f"app.{p.stem}" for p in APP_MODULES if p.stem != "__init__")
    code = (f"import sys, importlib\nfor m in '{modules}'.split(', '): importlib.import_module(m)\n"
            "print(sorted(m for m in sys.modules if m == 'train' or m.startswith('train.')))")
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         timeout=300, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"
