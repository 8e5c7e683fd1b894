"""Functions a reader can hold (issue 16): no function over 80 lines and no module over 500
in the packages people read. Data files (``train/data/topics/*.txt``) are not Python."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("app", "train", "spl_model", "bench")
MAX_FUNCTION, MAX_MODULE = 80, 500


def _sizes() -> tuple[list[str], list[str]]:
    long_functions, long_modules = [], []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            text = path.read_text()
            name = path.relative_to(ROOT).as_posix()
            if len(text.splitlines()) > MAX_MODULE:
                long_modules.append(f"{name}: {len(text.splitlines())} lines")
            for node in ast.walk(ast.parse(text)):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    length = node.end_lineno - node.lineno + 1  # type: ignore[operator]
                    if length > MAX_FUNCTION:
                        long_functions.append(f"{name}:{node.lineno} {node.name}: {length} lines")
    return long_functions, long_modules


def test_no_function_or_module_is_too_long_to_read() -> None:
    long_functions, long_modules = _sizes()
    assert not long_functions, f"functions over {MAX_FUNCTION} lines: {long_functions}"
    assert not long_modules, f"modules over {MAX_MODULE} lines: {long_modules}"
