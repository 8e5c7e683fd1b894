"""Datasets: the folder contract (schema), context drawing, and the builders.

Builders are pure functions of a frozen config that return a ``BuiltDataset``; only
``schema`` (and the CLI in ``train.cli_data``) touch files. The column contract is documented
once, in ``train.data.schema``.
"""

from train.data.contexts import ContextSpec, consistent_types, draw_context
from train.data.schema import (
    BuiltDataset,
    Dataset,
    DatasetError,
    load_dataset,
    read_jsonl,
    write_dataset,
)

__all__ = [
    "BuiltDataset",
    "ContextSpec",
    "Dataset",
    "DatasetError",
    "consistent_types",
    "draw_context",
    "load_dataset",
    "read_jsonl",
    "write_dataset",
]
