"""The model kinds have one home (``spl_model.config.MODEL_KINDS``) that every listing derives from."""

from __future__ import annotations

import dataclasses
from typing import get_args

from spl_model.config import MODEL_KINDS, ModelConfig, ModelKind


def test_every_kind_has_one_entry_in_the_literal_order() -> None:
    assert tuple(MODEL_KINDS) == get_args(ModelKind)
    for kind, info in MODEL_KINDS.items():
        assert info.label and info.about and "\n" not in info.about, kind


def test_config_help_lists_the_kinds() -> None:
    (field,) = [f for f in dataclasses.fields(ModelConfig) if f.name == "kind"]
    assert field.metadata["help"] == "spl | vpl | ivpl | btl | oracle"


def test_the_cli_the_app_and_the_study_use_the_same_kinds() -> None:
    from app.figures import _LABELS
    from app.runs import KNOWN
    from train.cli_fit import KINDS
    from train.study import VARIANTS

    assert KINDS == ["spl", "vpl", "ivpl", "btl", "oracle"]
    assert KNOWN == ("spl", "vpl", "ivpl", "btl")
    assert _LABELS == {"spl": "SPL", "vpl": "VPL", "ivpl": "IAF-VPL", "btl": "BTL"}
    assert {v.kind for v in VARIANTS.values()} <= set(MODEL_KINDS)


def test_the_model_card_describes_the_kind_from_the_registry() -> None:
    from types import SimpleNamespace

    from app.runs import model_card

    cfg = SimpleNamespace(kind="ivpl", embed_dim=8, z_dim=4, hidden_dim=16, has_latent=True,
                          film=True, linear_reward=False, latent_head=False)
    run = SimpleNamespace(name="ivpl", model=SimpleNamespace(cfg=cfg), config={}, report=None,
                          backbone={"backbone": "minilm"}, has_latent=True)
    card = model_card(run)
    assert "IAF-VPL: VPL plus an IAF flow (no swap split, no guide)." in card.splitlines()
