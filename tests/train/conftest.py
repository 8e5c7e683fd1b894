"""Shared fixtures for the trainer tests: an offline tiny Llama and a tiny dataset folder.

``tiny_llama_dir`` (session scope) is a ``pathlib.Path`` to a folder written with
``save_pretrained``: a randomly initialised (seed 0) ``LlamaForCausalLM`` with hidden size 64,
2 layers, 4 heads, and a word-level tokenizer (``PreTrainedTokenizerFast``, lower-cased,
whitespace + punctuation split, special tokens ``<pad>`` = 0, ``<unk>`` = 1, ``<s>`` = 2,
``</s>`` = 3). Words outside its small vocabulary map to ``<unk>``, so any text works.
Load it exactly like a real backbone: ``load_backbone(str(tiny_llama_dir), quantize="4bit")``
exercises the same bitsandbytes + peft code path as Llama 3 without any download.

``tiny_dataset_dir`` (function scope) is a dataset folder with ``train.jsonl``, ``test.jsonl``
and ``survey.jsonl`` holding a handful of rows in the dataset-folder contract's columns.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

TINY_WORDS = (
    "human assistant the a an is are was be to of and in on for with it this that you i "
    "what why how when where who cat dog sat mat hello world good bad answer question help "
    "please thanks sure no yes can not do does make write code python story short long tell me"
).split()
TINY_SPECIALS = ["<pad>", "<unk>", "<s>", "</s>"]
TINY_PUNCT = [":", ",", ".", "?", "!", "'"]


@pytest.fixture(scope="session")
def tiny_llama_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random Llama (hidden 64, 2 layers) + word-level tokenizer, saved to a folder."""
    import torch
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    vocab = {token: i for i, token in enumerate(TINY_SPECIALS + TINY_WORDS + TINY_PUNCT)}
    core = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    core.normalizer = normalizers.Lowercase()
    core.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, unk_token="<unk>",
                                        pad_token="<pad>", bos_token="<s>", eos_token="</s>")
    config = LlamaConfig(hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=4, vocab_size=len(vocab),
                         max_position_embeddings=256, pad_token_id=0, bos_token_id=2,
                         eos_token_id=3)
    torch.manual_seed(0)
    model = LlamaForCausalLM(config)
    folder = tmp_path_factory.mktemp("tiny-llama")
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


CPU_PATHS = ["avx512_bf16", "plain"]
"""The two kinds of CPU bitsandbytes 0.50 tells apart for 4-bit layers (``has_avx512bf16()``)."""


@pytest.fixture(params=CPU_PATHS)
def bnb_cpu_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Make every ``Linear4bit`` built during the test believe it runs on one kind of CPU.

    ``Linear4bit.__init__`` sets ``support_avx512bf16_for_cpu = has_avx512bf16()``, read from
    ``bitsandbytes.nn.modules``; patching that name forces the fused-kernel branch of
    ``Linear4bit.forward`` on (``"avx512_bf16"``) or off (``"plain"``) whatever this CPU has, so
    both paths are exercised on every machine. Returns the path's name.
    """
    import bitsandbytes.nn.modules as bnb_modules

    monkeypatch.setattr(bnb_modules, "has_avx512bf16", lambda: request.param == "avx512_bf16")
    return request.param


def write_jsonl(path: Path, rows: list[dict]) -> None:
    """Write ``rows`` as one JSON object per line."""
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))


@pytest.fixture
def tiny_dataset_dir(tmp_path: Path) -> Path:
    """A 3-file dataset folder: 3 train rows, 2 test rows (one repeats a train text), 2 survey."""
    folder = tmp_path / "tiny-data"
    folder.mkdir()
    row = {"user": "u0", "controversial": False, "context": []}
    write_jsonl(folder / "train.jsonl", [
        {**row, "prompt": "hello", "chosen": "hello world", "rejected": "no"},
        {**row, "prompt": "tell me a story", "chosen": "a cat sat on a mat", "rejected": "no"},
        {**row, "prompt": "help", "chosen": "sure", "rejected": "can not help"},
    ])
    write_jsonl(folder / "test.jsonl", [
        {**row, "prompt": "hello", "chosen": "hello world", "rejected": "bad answer"},
        {**row, "prompt": "why", "chosen": "good question", "rejected": "no"},
    ])
    write_jsonl(folder / "survey.jsonl", [
        {"id": "s0", "prompt": "write code", "a": "print hello", "b": "no"},
        {"id": "s1", "prompt": "hello", "a": "hello world", "b": "yes"},
    ])
    return folder
