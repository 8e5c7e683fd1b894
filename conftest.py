"""Root test configuration: every test and doctest starts from ``torch.manual_seed(0)``, and
doctests find ``torch`` already imported (zuko's pattern), so examples stay short and stable.

Registered as a plugin so it also reaches the doctests inside ``spl_model/`` (a conftest's own
fixtures only apply to the folder it sits in); ``pytest`` loads it through ``testpaths``.
"""

from __future__ import annotations

import pytest
import torch


class DoctestSetup:
    @pytest.fixture(autouse=True)
    def _seed_doctests(self, doctest_namespace: dict) -> None:
        torch.manual_seed(0)
        doctest_namespace["torch"] = torch


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(DoctestSetup(), "spl-doctest-setup")
