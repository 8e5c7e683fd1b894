"""The synthetic content is data (``train/data/topics/*.txt``), and moving it out of Python
modules changed no byte of what the builder writes."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from train.data.schema import DatasetError, write_dataset
from train.data.synthetic import TOPIC_FILES, SyntheticConfig, all_advice, build_synthetic
from train.data.synthetic_render import read_topics

ROOT = Path(__file__).resolve().parents[2]
# Digests taken from the build when the content still lived in synthetic_topics_*.py.
ADVICE = "d9cf4c62e4ed60dc5a1f363e3f9c312e8a138d7b97b45c832712b4840f97c259"
WRITTEN = {
    "types": "ae2578a62075e098e868f1412cd98c91dbb6c4da09f9eb86cf52af8aa42d45b1",
    "population": "c7649082074caface94fd7cbb579cd9617bbd0bda59d6cc3e52cd3585643b1f9",
}
CONFIGS = {
    "types": SyntheticConfig(train_rows=400, test_rows=100, unseen_users=10,
                             rows_per_unseen_user=3, seed=1),
    "population": SyntheticConfig(world="population", population_users=60, heldout_users=5,
                                  persona_users=2, seed=2),
}


def _advice_digest() -> str:
    rows = [dataclasses.astuple(a) for a in all_advice()]
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest()


def test_the_content_is_what_the_modules_held() -> None:
    assert len(all_advice()) == 206
    assert _advice_digest() == ADVICE


@pytest.mark.parametrize("world", sorted(WRITTEN))
def test_the_written_dataset_is_byte_identical(world: str, tmp_path: Path) -> None:
    built = build_synthetic(CONFIGS[world])
    write_dataset(tmp_path / "ds", built.card, built.splits)
    digest = hashlib.sha256()
    for path in sorted((tmp_path / "ds").iterdir()):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    assert digest.hexdigest() == WRITTEN[world]


def test_the_files_are_package_data_found_from_any_folder(tmp_path: Path) -> None:
    for name in TOPIC_FILES:
        assert (ROOT / "train" / "data" / "topics" / name).is_file()
    code = ("from train.data.synthetic import all_advice; import hashlib, json, dataclasses; "
            "print(hashlib.sha256(json.dumps([dataclasses.astuple(a) for a in all_advice()])"
            ".encode()).hexdigest())")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                         text=True, timeout=120, env={"PYTHONPATH": str(ROOT), "PATH": ""})
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == ADVICE


def test_read_topics_keeps_order_and_refuses_stray_content() -> None:
    assert list(read_topics("[b]\nQ: x\n[a]\nQ: y\n")) == ["b", "a"]
    with pytest.raises(DatasetError, match="before the first"):
        read_topics("Q: orphan\n[a]\nQ: y\n")
