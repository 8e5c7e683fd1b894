"""One atomic write (``spl_model.atomic``): whole or nothing, no temp file left, one home."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from spl_model.atomic import atomic_write

ROOT = Path(__file__).resolve().parents[2]


def test_bytes_text_and_writer_functions(tmp_path: Path) -> None:
    assert atomic_write(tmp_path / "a.bin", b"\x00\x01").read_bytes() == b"\x00\x01"
    assert atomic_write(tmp_path / "b.txt", "é\n").read_bytes() == "é\n".encode()
    atomic_write(tmp_path / "c.txt", lambda p: p.write_text("made by a writer"))
    assert (tmp_path / "c.txt").read_text() == "made by a writer"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.bin", "b.txt", "c.txt"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temp(tmp_path: Path) -> None:
    target = atomic_write(tmp_path / "report.json", "old")

    def half_then_crash(path: Path) -> None:
        path.write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, half_then_crash)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


@pytest.mark.parametrize("module", ["spl_model/checkpoint.py", "train/cache.py", "train/report.py",
                                    "train/resume.py", "app/export.py", "app/admin.py",
                                    "app/demo_pack.py", "app/store_backup.py"])
def test_writers_rename_only_through_the_one_home(module: str) -> None:
    tree = ast.parse((ROOT / module).read_text(encoding="utf-8"))
    calls = {f"{n.func.value.id}.{n.func.attr}" for n in ast.walk(tree)
             if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
             and isinstance(n.func.value, ast.Name)}
    assert not calls & {"os.replace", "os.rename", "os.fsync"}
    assert "atomic_write" in {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}


def test_the_file_is_synced_before_the_rename_and_the_folder_after(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The durability protocol of the module docstring, in order: fsync(file) -> replace ->
    fsync(folder). A power cut cannot be staged in a test; the calls that survive one can."""
    import os
    import stat

    events: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        events.append("fsync folder" if stat.S_ISDIR(os.fstat(fd).st_mode) else "fsync file")
        real_fsync(fd)

    def replace(src, dst) -> None:
        events.append("replace")
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    atomic_write(tmp_path / "a.json", "{}")
    assert events == ["fsync file", "replace", "fsync folder"]


def test_no_file_descriptor_is_left_open(tmp_path: Path) -> None:
    fds = Path("/proc/self/fd")
    if not fds.is_dir():
        pytest.skip("needs /proc (Linux)")
    before = len(list(fds.iterdir()))
    for i in range(20):
        atomic_write(tmp_path / f"{i}.txt", "x")
    assert len(list(fds.iterdir())) == before
