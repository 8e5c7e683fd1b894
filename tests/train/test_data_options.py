"""The dataset builders validate their shared options in one place (``schema.check_shares``)."""

from __future__ import annotations

import pytest

from train.data.importers import ImportConfig
from train.data.pets import PetsConfig
from train.data.schema import DatasetError
from train.data.synthetic import SyntheticConfig
from train.data.ufp import UFPConfig

HELD_OUT = [ImportConfig, PetsConfig, UFPConfig]  # a test split must be neither empty nor all


@pytest.mark.parametrize("config", HELD_OUT)
@pytest.mark.parametrize("value", [0.0, 1.0, -0.1, 1.5])
def test_test_fraction_out_of_bounds_is_refused_the_same_way(config: type, value: float) -> None:
    with pytest.raises(DatasetError, match=rf"^test_fraction must be in \(0, 1\), got {value}$"):
        config(test_fraction=value)


@pytest.mark.parametrize("config, name", [(PetsConfig, "controversial_share"),
                                          (SyntheticConfig, "controversial_share"),
                                          (SyntheticConfig, "noise"),
                                          (SyntheticConfig, "test_fraction")])
def test_closed_shares_are_refused_outside_zero_to_one(config: type, name: str) -> None:
    with pytest.raises(DatasetError, match=rf"^{name} must be in \[0, 1\], got 1.5$"):
        config(**{name: 1.5})
    config(**{name: 1.0})  # the bounds themselves are allowed


def test_every_builder_has_a_seed_and_a_test_fraction() -> None:
    import dataclasses

    for config in [*HELD_OUT, SyntheticConfig]:
        names = {f.name for f in dataclasses.fields(config)}
        assert {"seed", "test_fraction", "pool_size"} <= names, config.__name__
