"""tools/mutate.py: the mutants it makes, on a small hand-written module."""

from __future__ import annotations

import ast

from tools.mutate import mutants

SOURCE = '''"""A docstring: never mutated."""

__all__ = ["f"]


def f(x: int, flag: bool = True) -> float:
    """Neither is this."""
    if x < 2 and not flag:
        print(f"x={x + 1}")
    return -x * 0.5
'''


def test_each_operator_gives_one_mutant_and_every_mutant_parses() -> None:
    found = mutants(SOURCE)
    assert sorted(m.what for m in found) == sorted([
        "True -> False",  # the default
        "comparison 0: Lt -> LtE", "2 -> 3", "And -> Or", "Not removed",
        "call statement removed",
        "USub removed", "Mult -> Div", "0.5 -> 1.0",
    ])
    assert [m.line for m in found] == sorted(m.line for m in found)
    for mutant in found:
        tree = ast.parse(mutant.source)
        assert ast.get_docstring(tree) == "A docstring: never mutated."
        assert mutant.source != ast.unparse(ast.parse(SOURCE)) + "\n"


def test_a_mutant_changes_only_its_node() -> None:
    (mutant,) = [m for m in mutants(SOURCE) if m.what == "Mult -> Div"]
    assert "return -x / 0.5" in mutant.source and "x < 2 and (not flag)" in mutant.source
