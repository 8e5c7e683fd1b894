"""Fixtures for the ``spl_model`` tests; the helpers behind them live in ``spl_fixtures.py``."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

from spl_fixtures import random_batch, random_context, tiny_model
from spl_model import PreferenceBatch, RewardModel


@pytest.fixture
def make_model() -> Callable[..., RewardModel]:
    """``make_model(kind, seed=0, **config_overrides)`` -> a freshly initialised tiny model."""
    return tiny_model


@pytest.fixture
def make_context() -> Callable[..., tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """``make_context(lengths, n_slots=None, seed=0)`` -> ``(ctx_chosen, ctx_rejected, mask)``."""
    return random_context


@pytest.fixture
def make_batch() -> Callable[..., PreferenceBatch]:
    """``make_batch(lengths=(2, 3, 1), n_pairs=5, seed=0)`` -> a random PreferenceBatch."""
    return random_batch


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """These tensors are tiny: one intra-op thread is as fast, and it does not slow down 50-fold
    when the 2-core machine is busy (OpenMP threads spin-waiting for a core)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
