"""The real 4-bit Llama code path, on a tiny Llama built from a LlamaConfig (CPU, offline):
embed the dataset, LoRA-fit a few steps, save, reload the run, get the same rewards."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from fit_helpers import make_dataset
from train.backbones import load_backbone
from train.fit import FitConfig, fit, model_config, prepare_data
from train.runs import load_run


@pytest.mark.parametrize("quantize", ["4bit"])
def test_lora_fit_on_a_tiny_4bit_llama_round_trips(tiny_llama_dir: Path, tmp_path: Path, quantize: str,
                                                   bnb_cpu_path: str) -> None:
    data_dir = make_dataset(tmp_path / "data", train_rows=16, test_rows=8, unseen_users=0)
    data = prepare_data(data_dir, tmp_path / "cache", backbone=str(tiny_llama_dir), quantize=quantize)
    assert data.embeddings.shape[1] == 64  # the tiny Llama's hidden size, last real token

    backbone = load_backbone(str(tiny_llama_dir), quantize=quantize)
    backbone.add_lora(r=4, alpha=8, dropout=0.0)
    cfg = model_config("spl", 64, data, {"latent_dim": 4, "hidden_dim": 8})
    settings = FitConfig(max_steps=3, batch_size=4, eval_every=100, lora_r=4, lora_alpha=8, lora_dropout=0.0)
    result = fit(data, tmp_path / "run", cfg, settings, progress=False, tuned_backbone=backbone)

    run_dir = tmp_path / "run"
    assert (run_dir / "lora.safetensors").is_file()
    config = json.loads((run_dir / "config.json").read_text())
    assert config["backbone"]["quantize"] == quantize and config["fit"]["lora_r"] == 4

    run = load_run(run_dir)
    assert run.tuned_backbone is not None
    texts = data.texts[:6]
    with torch.no_grad():
        before = backbone.embed(texts)
        after = run.tuned_backbone.embed(texts)
    assert torch.equal(before, after)  # the tuned adapters came back exactly
    z = torch.zeros(1, 4)
    assert torch.equal(result.model.reward(before[None], z), run.model.reward(after[None], z))
