"""tools/mutate.py: the mutants it makes, on a small hand-written module."""

from __future__ import annotations

import ast
import json

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


def test_notes_that_match_no_mutant_or_no_survivor_are_reported() -> None:
    from tools.mutate import stale_notes

    equivalent = {"m.py": {"line 8: And -> Or": "still there", "line 7: And -> Or": "moved"}}
    harmless = {"m.py": {"line 10: 0.5 -> 1.0": "a survivor", "line 10: Mult -> Div": "killed",
                         "line 9: call statement removed": "killed by a later test"}}
    assert stale_notes("m.py", SOURCE, None, equivalent, harmless) == [
        "m.py: EQUIVALENT entry 'line 7: And -> Or' matches no mutant"]
    stored = {"survivors": ["line 10: 0.5 -> 1.0 in `return -x * 0.5`"]}
    assert stale_notes("m.py", SOURCE, stored, equivalent, harmless) == [
        "m.py: EQUIVALENT entry 'line 7: And -> Or' matches no mutant",
        "m.py: HARMLESS entry 'line 10: Mult -> Div' names no stored survivor"]
    assert stale_notes("other.py", SOURCE, stored, equivalent, harmless) == []


def test_a_forked_test_run_sees_the_tree_it_is_given_and_its_deadline(tmp_path) -> None:
    """_run_tests (in a fresh interpreter, as the tool runs it: not inside this pytest):
    pass, fail and timeout, each judged on the files of the tree it is given."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    import pytest

    if not hasattr(os, "fork"):
        pytest.skip("needs os.fork")
    root = Path(__file__).resolve().parents[2]
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    bodies = {"pass": "assert 1 + 1 == 2", "fail": "assert 1 - 1 == 2",
              "slow": "import time; time.sleep(30)"}
    for name, body in bodies.items():
        (tmp_path / f"test_{name}.py").write_text(f"def test_it():\n    {body}\n")
    code = ("import sys; from pathlib import Path; import tools.mutate as m; "
            "m.PRELOAD = ('pytest',); m._FORK = m._preload(); tree = Path(sys.argv[1]); "
            "print([m._run_tests(tree, [f'test_{n}.py'], t) "
            "for n, t in (('pass', 60), ('fail', 60), ('slow', 2))])")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], cwd=root, text=True,
                         capture_output=True, timeout=120)
    assert out.stdout.strip() == "['passed', 'failed', 'timeout']", out.stderr[-2000:]


def test_reclassify_moves_survivors_named_equivalent_and_rescores(monkeypatch) -> None:
    import tools.mutate as mutate

    monkeypatch.setattr(mutate, "EQUIVALENT", {"m.py": {"line 10: Mult -> Div": "same"}})
    stored = {"killed": 6, "survived": 2, "score": 0.75, "equivalent": ["line 1: x in `y`: z"],
              "survivors": ["line 10: Mult -> Div in `return -x * 0.5`",
                            "line 10: 0.5 -> 1.0 in `return -x * 0.5`"]}
    out = mutate.reclassify("m.py", stored)
    assert (out["killed"], out["survived"], out["score"], out["reclassified"]) == (6, 1, 0.8571, 1)
    assert out["survivors"] == ["line 10: 0.5 -> 1.0 in `return -x * 0.5`"]
    assert out["equivalent"] == ["line 1: x in `y`: z",
                                 "line 10: Mult -> Div in `return -x * 0.5`: same"]
    assert mutate.reclassify("other.py", stored) is stored


def test_no_note_is_written_twice() -> None:
    """A dict literal keeps the last of two equal keys silently: a note (or a module's block
    of notes) written twice would hide the first."""
    from pathlib import Path

    source = (Path(__file__).resolve().parents[2] / "tools" / "mutate.py").read_text()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Dict):
            keys = [k.value for k in node.keys if isinstance(k, ast.Constant)]
            assert len(keys) == len(set(keys)), sorted(k for k in keys if keys.count(k) > 1)


def test_mutants_run_side_by_side_get_the_outcomes_of_one_at_a_time(tmp_path) -> None:
    """``run_mutants`` with two trees: each mutant's outcome, in the mutants' order, is the one
    a run of its own gives, and every tree holds the original module afterwards."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    import pytest

    if not hasattr(os, "fork"):
        pytest.skip("needs os.fork")
    root = Path(__file__).resolve().parents[2]
    module = "def half(x):\n    return x / 2 if x > 0 else 0\n"
    test = ("import time\nfrom calc import half\n\ndef test_half():\n    time.sleep(0.3)\n"
            "    assert half(4) == 2 and half(1) == 0.5 and half(-4) == 0\n")
    trees = [tmp_path / "a", tmp_path / "b"]
    for tree in trees:
        tree.mkdir()
        (tree / "pytest.ini").write_text("[pytest]\npythonpath = .\n")
        (tree / "calc.py").write_text(module)
        (tree / "test_calc.py").write_text(test)
    code = ("import sys, json; from pathlib import Path; import tools.mutate as m; "
            "m.PRELOAD = ('pytest',); m._FORK = m._preload(); trees = [Path(p) for p in sys.argv[1:]]; "
            "found = m.mutants(trees[0].joinpath('calc.py').read_text()); "
            "side = m.run_mutants(trees, 'calc.py', found, ['test_calc.py'], 60); "
            "serial = m.run_mutants(trees[:1], 'calc.py', found, ['test_calc.py'], 60); "
            "print(json.dumps({'side': side, 'serial': serial, 'whats': [f.what for f in found]}))")
    out = subprocess.run([sys.executable, "-c", code, *map(str, trees)], cwd=root, text=True,
                         capture_output=True, timeout=300)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["side"] == result["serial"], out.stderr[-2000:]
    assert "passed" in result["side"] and "failed" in result["side"]  # both outcomes happen
    # x > 0 -> x >= 0 is the survivor: half(0) is 0 either way
    survivors = {w for w, o in zip(result["whats"], result["side"]) if o == "passed"}
    assert survivors == {"comparison 0: Gt -> GtE"}, result
    assert all((tree / "calc.py").read_text() == module for tree in trees)
