"""Fixtures for the app tests: tiny run folders, a fake backbone, a demo pack, a service.

The helpers (``FakeEmbedder``, ``make_runs``, ``build_dataset``) live in ``app_fixtures.py``
so the browser tests can share them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from app_fixtures import FakeEmbedder, build_dataset, make_runs


@pytest.fixture(scope="session")
def dataset_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_dataset(tmp_path_factory.mktemp("ds") / "synthetic")


@pytest.fixture(scope="session")
def assets_dir(tmp_path_factory: pytest.TempPathFactory, dataset_dir: Path) -> Path:
    """assets/ with runs/{spl,vpl,btl}, demo_pack.json and fake-backbone embeddings."""
    from app.demo_pack import build_demo_pack, write_demo_pack

    root = tmp_path_factory.mktemp("assets")
    make_runs(root / "runs")
    write_demo_pack(build_demo_pack(dataset_dir), root, FakeEmbedder())
    return root


@pytest.fixture
def embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture
def service(assets_dir: Path, embedder: FakeEmbedder):
    from app.runs import find_run_folders
    from app.service import Service

    return Service.from_folders(find_run_folders(str(assets_dir / "runs")), assets_dir,
                                embedder=embedder)


@pytest.fixture
def store(tmp_path: Path):
    from app.store import Store

    with Store.open(tmp_path / "spl.db") as opened:
        yield opened
