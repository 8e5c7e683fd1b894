"""How much of the population world survives the backbone? Three numbers on the held-out users'
held-out pairs of a population-world test split, each with the user's *true* weights (no
inference at all), so they bound what reading responses through the embeddings can give:

- ``true_attributes``: ``w . (attr(chosen) - attr(rejected))`` on the world's attributes;
- ``readout``: the same with the attribute differences read from the pair's embedding
  difference by the ridge read-out of :func:`train.personalize.readout_deltas`;
- ``readout_sign_accuracy``: per attribute, how often the read-out's sign is the true one
  where the pair differs in that attribute.

Usage: ``python bench/backbone_gap.py [--data datasets/population] [--cache cache]
[--out docs/results/backbone_gap.json]`` (offline; a minute on a CPU).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def gap(data) -> dict:
    """The module docstring's numbers for one prepared population-world dataset."""
    import torch

    from spl_model import accuracy
    from train.fewshot import attribute_deltas, groups
    from train.personalize import readout_deltas, world_of

    world = world_of(data.dataset.card)
    rows = data.dataset.test
    weights = torch.tensor([r["user_weights"] for r in rows], dtype=torch.float64)  # [R, A]
    _, _, true = attribute_deltas(data.dataset, "test")  # [R, A]
    _, read = readout_deltas(data)  # [R, A]
    masks = groups(data.splits["test"])
    differs = true != 0
    signs = ((read.sign() == true.sign()) & differs).sum(0) / differs.sum(0).clamp(min=1)
    return {
        "attributes": world["attributes"],
        "true_attributes": {g: round(accuracy((weights * true).sum(1)[m].float()), 4)
                            for g, m in masks.items()},
        "readout": {g: round(accuracy((weights * read).sum(1)[m].float()), 4)
                    for g, m in masks.items()},
        "readout_sign_accuracy": dict(zip(world["attributes"], [round(v, 4) for v in signs.tolist()])),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="datasets/population")
    parser.add_argument("--cache", default="cache")
    parser.add_argument("--out", default="docs/results/backbone_gap.json")
    args = parser.parse_args()
    from train.fit import prepare_data
    from train.report import write_json

    result = gap(prepare_data(args.data, args.cache))
    print(json.dumps(result, indent=1))
    write_json(Path(args.out), result)


if __name__ == "__main__":
    main()
