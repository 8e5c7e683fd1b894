"""The offline trainer: datasets, backbones, the embedding cache, fit, eval, reports.

Run it as ``python -m train <command>`` (``data``, ``embed``, ``fit``, ``eval``, ``study``);
``python -m train --help`` lists them. Heavy libraries are imported inside commands, so
``--help`` is instant.
"""
