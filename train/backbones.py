"""The trainer's name for ``spl_model.backbones`` (text backbones: render, load, embed).

Backbone loading and text rendering live in ``spl_model`` so that the demo app needs only the
model library; this module re-exports them for the trainer's callers.
"""

from spl_model.backbones import (
    MINILM,
    Backbone,
    BackboneError,
    BackboneSpec,
    Kind,
    Pooling,
    Quantize,
    backbone_name,
    folder_fingerprint,
    keep_response,
    load_backbone,
    pool,
    render,
    resolve_spec,
)

__all__ = ["MINILM", "Backbone", "BackboneError", "BackboneSpec", "Kind", "Pooling", "Quantize",
           "backbone_name", "folder_fingerprint", "keep_response", "load_backbone", "pool",
           "render", "resolve_spec"]
