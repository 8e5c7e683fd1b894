"""``fit`` number by number: it trains exactly like the loop written out (weights bit for bit),
with the paper's defaults, the schedule and the seeded batches checked by hand; LoRA mode with a
fake tuned backbone; config-only runs (issue 13: mutants of ``train/fit.py`` survived the
end-to-end tests, which compare a run only with another run of the same code)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from fit_helpers import fill_cache, make_dataset
from train.fit import FitConfig, fit, model_config, prepare_data

SMALL = {"latent_dim": 8, "hidden_dim": 16}


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("fit-numbers")
    data_dir = make_dataset(root / "data")
    fill_cache(data_dir, root / "cache")
    return root, prepare_data(data_dir, root / "cache")




def test_fit_config_defaults_are_the_papers_settings() -> None:
    """The defaults every published run starts from (README/SPL.md: the paper's UF recipe)."""
    assert FitConfig() == FitConfig(epochs=2.0, max_steps=0, batch_size=64, lr=1e-4,
                                    weight_decay=1e-3, warmup_ratio=0.03, eval_every=100,
                                    eval_rows=512, seed=31, targets_per_context=1, lora_r=0,
                                    lora_alpha=256, lora_dropout=0.1)
    import dataclasses

    with pytest.raises(dataclasses.FrozenInstanceError):
        FitConfig().lr = 1.0  # type: ignore[misc]


@pytest.mark.parametrize("values, message", [
    ({"epochs": 0, "max_steps": 0}, "set epochs > 0 or max_steps > 0"),
    ({"epochs": -1, "max_steps": 0}, "set epochs > 0 or max_steps > 0"),
    ({"batch_size": 0}, "batch_size=0 must be >= 1"),
    ({"warmup_ratio": 1.0}, "warmup_ratio=1.0 must be in [0, 1)"),
    ({"warmup_ratio": -0.01}, "warmup_ratio=-0.01 must be in [0, 1)"),
    ({"targets_per_context": 0}, "targets_per_context=0 must be >= 1"),
    ({"targets_per_context": 2, "lora_r": 1}, "not supported with LoRA"),
])
def test_fit_config_refuses_settings_outside_their_range(values, message) -> None:
    import re

    with pytest.raises(ValueError, match=re.escape(message)):
        FitConfig(**values)


@pytest.mark.parametrize("values", [{"epochs": 0, "max_steps": 1}, {"epochs": 0.5, "max_steps": 0},
                                    {"batch_size": 1}, {"warmup_ratio": 0.0},
                                    {"targets_per_context": 2}, {"lora_r": 1},
                                    {"targets_per_context": 1, "lora_r": 4}])
def test_fit_config_accepts_the_edges_of_each_range(values) -> None:
    FitConfig(**values)


def test_schedule_is_linear_warmup_then_cosine_to_zero() -> None:
    from train.fit import _schedule

    def lrs(start: int) -> list[float]:
        opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=2.0)
        sched = _schedule(opt, warmup=4, total=12, step=start)
        out = []
        for _ in range(start, 13):
            out.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
        return out

    import math

    expected = [2.0 * t / 4 for t in range(4)] + [
        2.0 * 0.5 * (1 + math.cos(math.pi * (t - 4) / 8)) for t in range(4, 13)]
    assert lrs(0) == pytest.approx(expected, abs=1e-12)
    assert lrs(6) == pytest.approx(expected[6:], abs=1e-12)  # a resumed run picks up its place
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    _schedule(opt, warmup=0, total=1, step=0)
    assert opt.param_groups[0]["lr"] == 1.0  # no warm-up: the full rate at once


def test_epoch_batches_are_a_seeded_shuffle_without_the_last_partial_batch() -> None:
    from train.fit import _epoch_batches

    order = torch.randperm(10, generator=torch.Generator().manual_seed(7 * 1000 + 2))
    batches = _epoch_batches(10, 4, seed=7, epoch=2)
    assert [b.tolist() for b in batches] == [order[:4].tolist(), order[4:8].tolist()]
    small = _epoch_batches(3, 4, seed=7, epoch=0)  # fewer rows than a batch: one short batch
    assert [b.tolist() for b in small] == [torch.randperm(
        3, generator=torch.Generator().manual_seed(7000)).tolist()]


def test_model_config_keeps_model_fields_and_gives_the_oracle_the_feature_width(prepared) -> None:
    _, data = prepared
    cfg = model_config("spl", 384, data, {"latent_dim": 6, "lr": 5.0, "beta": 0.2})
    assert (cfg.kind, cfg.embed_dim, cfg.latent_dim, cfg.beta) == ("spl", 384, 6, 0.2)
    oracle = model_config("oracle", 384, data, {"latent_dim": 6})
    assert oracle.latent_dim == data.splits["train"].features.shape[1] != 6


def _hand_loop(data, cfg, settings, total: int) -> torch.nn.Module:
    """What ``fit`` must do, written out: seed, build, AdamW, the schedule, the seeded batches,
    one loss + step each (no evaluation inside: ``eval_every`` > total)."""
    import math

    from accelerate.utils import set_seed

    from spl_model import build_model
    from train.fit import _epoch_batches, _schedule

    set_seed(settings.seed)
    model = build_model(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=settings.lr, weight_decay=settings.weight_decay,
                            fused=True)
    sched = _schedule(opt, int(settings.warmup_ratio * total), total, 0)
    train = data.splits["train"]
    per_epoch = len(_epoch_batches(len(train), settings.batch_size, settings.seed, 0))
    assert total == (settings.max_steps or math.ceil(per_epoch * settings.epochs))
    step = 0
    for epoch in range(math.ceil(total / per_epoch)):
        for rows in _epoch_batches(len(train), settings.batch_size, settings.seed, epoch):
            if step == total:
                break
            targets = None
            if settings.targets_per_context > 1:
                gen = torch.Generator().manual_seed(settings.seed * 1_000_003 + step)
                targets = train.same_user_rows(rows, settings.targets_per_context, gen)
            model.train()
            terms = model.loss(train.batch(rows, data.embeddings, target_rows=targets), step)
            opt.zero_grad()
            terms["total"].backward()
            opt.step()
            sched.step()
            step += 1
    return model


@pytest.mark.parametrize("settings, total", [
    (FitConfig(epochs=1.5, batch_size=16, lr=3e-3, weight_decay=0.05, warmup_ratio=0.4,
               eval_every=1000, seed=4), 6),
    (FitConfig(max_steps=3, batch_size=16, lr=2e-3, eval_every=1000, seed=9,
               targets_per_context=2), 3),
])
def test_fit_trains_exactly_like_the_loop_written_out(prepared, tmp_path: Path, settings,
                                                      total: int) -> None:
    """64 rows in batches of 16: 4 steps an epoch, so 1.5 epochs are 6 steps (the second
    epoch reshuffled); the weights after ``fit`` are those of the hand-written loop, bit for bit."""
    _, data = prepared
    cfg = model_config("spl", 384, data, {"latent_dim": 4, "hidden_dim": 8, "beta": 0.1,
                                           "anneal_steps": 4})
    result = fit(data, tmp_path / "run", cfg, settings, progress=False, plots=False)
    assert result.report["train_seconds"] >= 0
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["total_steps"] == total
    expected = _hand_loop(data, cfg, settings, total)
    for (name, x), (_, y) in zip(result.model.state_dict().items(), expected.state_dict().items()):
        torch.testing.assert_close(x, y, rtol=0, atol=1e-6, msg=name)
    assert [h["step"] for h in json.loads((tmp_path / "run" / "history.json").read_text())] == [total]


def test_fit_without_saving_weights_writes_the_config_only(prepared, tmp_path: Path) -> None:
    _, data = prepared
    cfg = model_config("vpl", 384, data, SMALL)
    fit(data, tmp_path / "run", cfg, FitConfig(max_steps=2, batch_size=16), progress=False,
        save_weights=False, plots=False)
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["weights"] is None and config["model"] == cfg.to_dict()
    assert config["total_steps"] == 2 and config["processes"] == 1
    assert not (tmp_path / "run" / "model.safetensors").exists()
    assert (tmp_path / "run" / "report.json").exists() and not (tmp_path / "run" / "plots").exists()


class _FakeTunedBackbone:
    """A stand-in for a LoRA backbone: ``forward_embed`` = the fake cached vector of each text
    times a trainable [D, D] "adapter" (identity at the start)."""

    def __init__(self) -> None:
        from fit_helpers import DIM

        self.adapter = torch.nn.Parameter(torch.eye(DIM))
        self.texts_seen: list[list[str]] = []

    def trainable_parameters(self):
        return [self.adapter]

    def forward_embed(self, texts: list[str]) -> torch.Tensor:
        from fit_helpers import fake_embed

        self.texts_seen.append(list(texts))
        return fake_embed(texts) @ self.adapter

    @torch.no_grad()
    def embed(self, texts: list[str]) -> torch.Tensor:  # the report's re-embedding
        from fit_helpers import fake_embed

        return fake_embed(texts) @ self.adapter

    def lora_state_dict(self) -> dict[str, torch.Tensor]:
        return {"adapter": self.adapter.detach().clone()}


def test_lora_mode_trains_the_adapters_on_re_embedded_targets(prepared, tmp_path: Path) -> None:
    """The adapters are in the optimizer and the loss reaches them through the targets, which
    are re-embedded every step (chosen texts, then rejected), and they are saved."""
    from safetensors.torch import load_file

    _, data = prepared
    backbone = _FakeTunedBackbone()
    cfg = model_config("spl", 384, data, {"latent_dim": 4, "hidden_dim": 8})
    settings = FitConfig(max_steps=2, batch_size=16, eval_every=1000, lr=1e-2, seed=2)
    fit(data, tmp_path / "run", cfg, settings, progress=False, plots=False,
        tuned_backbone=backbone)
    assert not torch.equal(backbone.adapter.detach(), torch.eye(384)), "the adapters must train"
    from train.fit import _epoch_batches

    train = data.splits["train"]
    rows = _epoch_batches(len(train), 16, 2, 0)[0]
    first = backbone.texts_seen[0]
    assert first == [data.texts[i] for i in train.chosen[rows].tolist()] + [
        data.texts[i] for i in train.rejected[rows].tolist()]
    saved = load_file(str(tmp_path / "run" / "lora.safetensors"))
    torch.testing.assert_close(saved["adapter"], backbone.adapter.detach())


def test_the_code_version_is_the_checkout_commit_or_none() -> None:
    import re
    import subprocess

    from train.fit import _code_version

    version = _code_version()
    head = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                          cwd=Path(__file__).parent).stdout.strip() or None
    assert version == head
    assert version is None or re.fullmatch(r"[0-9a-f]{40}", version)


def test_prepared_data_and_fit_results_are_frozen(prepared) -> None:
    import dataclasses

    from train.fit import FitResult

    _, data = prepared
    with pytest.raises(dataclasses.FrozenInstanceError):
        data.texts = []  # type: ignore[misc]
    result = FitResult(model=None, report={})  # type: ignore[arg-type]
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.report = {"x": 1}  # type: ignore[misc]


def test_prepare_data_embeds_what_the_cache_lacks_with_the_backbone(tmp_path: Path,
                                                                     monkeypatch) -> None:
    """An empty cache: every text is embedded once by the backbone (here a fake one), stored,
    and a second call needs no backbone."""
    import spl_model.backbones as backbones  # where prepare_data loads it from
    from fit_helpers import fake_embed

    calls = []

    class FakeBackbone:
        def embed(self, texts):
            calls.append(len(texts))
            return fake_embed(texts)

    monkeypatch.setattr(backbones, "load_backbone", lambda spec, device=None: FakeBackbone())
    data_dir = make_dataset(tmp_path / "data", train_rows=16, test_rows=8, unseen_users=0)
    data = prepare_data(data_dir, tmp_path / "cache")
    assert sum(calls) == len(data.texts) > 0
    torch.testing.assert_close(data.embeddings, fake_embed(data.texts), rtol=0, atol=1e-4)  # fp16 cache
    assert set(data.splits) == {"train", "test"} and data.backbone["name"] == "minilm"
    again = prepare_data(data_dir, tmp_path / "cache")
    assert sum(calls) == len(data.texts) and torch.equal(again.embeddings, data.embeddings)


def test_fit_returns_the_trained_model_in_eval_mode(prepared, tmp_path: Path) -> None:
    """The report's evaluation restores the mode it found; fit hands back an eval-mode model,
    so the caller's margins are deterministic."""
    _, data = prepared
    cfg = model_config("spl", 384, data, {"latent_dim": 4, "hidden_dim": 8})
    result = fit(data, tmp_path / "run", cfg, FitConfig(max_steps=1, batch_size=16),
                 progress=False, plots=False)
    assert not result.model.training
