"""Tiny models and random batches shared by the ``spl_model`` tests (``conftest.py`` turns
them into fixtures; test modules import them from here, never from ``conftest``, whose module
name other test folders share).

Sizes are named once: D = 6 (embedding), Z = 4 (latent), H = 8 (hidden), F = 3 (oracle user
features). Each factory takes a ``seed`` so every test builds exactly the data it describes.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from spl_model import ModelConfig, PreferenceBatch, RewardModel, build_model

D, Z, H, F = 6, 4, 8, 3


def tiny_config(kind: str, **overrides: object) -> ModelConfig:
    """A small ModelConfig of ``kind``; the oracle's latent is its F user features."""
    values: dict[str, object] = dict(
        kind=kind, embed_dim=D, latent_dim=F if kind == "oracle" else Z, hidden_dim=H
    )
    values.update(overrides)
    return ModelConfig(**values)  # type: ignore[arg-type]


def tiny_model(kind: str, seed: int = 0, **overrides: object) -> RewardModel:
    torch.manual_seed(seed)
    return build_model(tiny_config(kind, **overrides))


def random_context(
    lengths: Sequence[int], n_slots: int | None = None, seed: int = 0, embed_dim: int = D
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Context for ``len(lengths)`` users: user b has ``lengths[b]`` real pairs, placed at the
    front of ``n_slots`` (default: the longest) slots; padding holds random numbers too."""
    g = torch.Generator().manual_seed(seed)
    B, C = len(lengths), n_slots or max(lengths)
    chosen = torch.randn(B, C, embed_dim, generator=g)
    rejected = torch.randn(B, C, embed_dim, generator=g)
    mask = torch.arange(C)[None, :] < torch.tensor(lengths)[:, None]  # [B, C]
    return chosen, rejected, mask


def random_batch(
    lengths: Sequence[int] = (2, 3, 1), n_pairs: int = 5, seed: int = 0, n_features: int = F
) -> PreferenceBatch:
    """A PreferenceBatch with random context, ``n_pairs`` target pairs per user and user
    features (read by the oracle only)."""
    ctx_c, ctx_r, mask = random_context(lengths, seed=seed)
    g = torch.Generator().manual_seed(seed + 1)
    B = len(lengths)
    return PreferenceBatch(
        ctx_chosen=ctx_c,
        ctx_rejected=ctx_r,
        ctx_mask=mask,
        chosen=torch.randn(B, n_pairs, D, generator=g),
        rejected=torch.randn(B, n_pairs, D, generator=g),
        user_features=torch.randn(B, n_features, generator=g),
    )




class WordTokenizer:
    """A "fast tokenizer" whose tokens are the whitespace-separated words, with offsets (one
    text, or a list of texts as a batch); two special tokens per text, as BERT adds, when
    asked for (``add_special_tokens=True``: an empty span first and last)."""

    def __call__(self, text: str | list[str], add_special_tokens: bool = True,
                 return_offsets_mapping: bool = False, verbose: bool = True) -> dict:
        import re

        if isinstance(text, list):
            return {"input_ids": [self(t, add_special_tokens)["input_ids"] for t in text]}
        spans = [m.span() for m in re.finditer(self.pattern, text)]
        if add_special_tokens:
            spans = [(0, 0), *spans, (len(text), len(text))]
        out: dict = {"input_ids": list(range(len(spans)))}
        if return_offsets_mapping:
            out["offset_mapping"] = spans
        return out

    pattern = r"\S+"

    def num_special_tokens_to_add(self, pair: bool = False) -> int:
        return 3 if pair else 2  # [CLS] a [SEP] (b [SEP])
