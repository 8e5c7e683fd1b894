"""Root test configuration: every test and doctest starts from ``torch.manual_seed(0)``, and
doctests find ``torch`` already imported (zuko's pattern), so examples stay short and stable.

It sits at the repository root so that it reaches both ``tests/`` and the doctests inside
``spl_model/``.
"""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def _seed_everything(doctest_namespace: dict) -> None:
    torch.manual_seed(0)
    doctest_namespace["torch"] = torch


def pytest_ignore_collect(collection_path, config) -> bool | None:
    """Never collect a ``conftest.py`` as a doctest module (``--doctest-modules``): pytest has
    already loaded it as a conftest, and importing it again under the shared module name
    ``conftest`` clashes with another folder's conftest (so ``pytest tests/spl_model
    tests/app`` failed at collection). Loading conftests is unaffected; none holds doctests."""
    if collection_path.name == "conftest.py":
        return True
    return None
