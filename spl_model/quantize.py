"""bitsandbytes quantization for causal-LM backbones: the load config and the CPU code path.

bitsandbytes and transformers are imported inside the functions (``spl_model.backbones`` calls
them only when a quantized backbone is loaded).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch

if TYPE_CHECKING:
    from torch import nn

__all__ = ["bnb_config", "pin_bnb_cpu_path"]


def pin_bnb_cpu_path(model: nn.Module) -> None:
    """Keep every 4-bit layer on the one code path that exists on every CPU.

    bitsandbytes 0.50 gives a ``Linear4bit`` on a CPU with AVX-512 BF16 a second path: in eval
    mode without grad, ``forward`` repacks the weight for a fused bf16 kernel
    (``_convert_weight_packed_for_cpu``: nested absmax dequantized and rounded to bf16), and
    ``state_dict()`` (so ``lora_state_dict()``) unpacks it again, re-quantizing the absmax with a
    new offset. Each pack/unpack cycle changes the weights' scales (embeddings moved ~1e-2 per
    cycle on the tiny test Llama), the output depends on which path ran last, and while packed the
    base layers pass no gradient back (LoRA trained after an ``embed`` got no gradients at all).
    A CPU without those instructions never takes that path. Turning the per-module flag
    (``support_avx512bf16_for_cpu``, read in ``Linear4bit.forward``) off makes every CPU dequantize
    and matmul in the compute dtype: numbers one function of the inputs, the same code on both
    kinds of CPU. CUDA is unaffected. Speed: without the ``kernels`` package (not installed: it
    fetches from the Hub) the library's fused fallback was 7x slower than this path here (5.7 s
    against 0.79 s for 32 texts of ~86 tokens through a 4-layer, 1024-wide 4-bit Llama, 1 thread).
    """
    import bitsandbytes as bnb

    for module in model.modules():
        if isinstance(module, bnb.nn.Linear4bit):
            module.support_avx512bf16_for_cpu = False


def bnb_config(quantize: str) -> Any:
    """transformers' ``BitsAndBytesConfig`` for ``"8bit"``, else 4-bit nf4 + double quant, bf16 compute."""
    from transformers import BitsAndBytesConfig

    if quantize == "8bit":
        return BitsAndBytesConfig(load_in_8bit=True)
    return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                              bnb_4bit_use_double_quant=True,
                              bnb_4bit_compute_dtype=torch.bfloat16)
