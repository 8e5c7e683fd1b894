"""How much of the population world survives the backbone? Four numbers on the held-out users'
held-out pairs of a population-world test split, each with the user's *true* weights (no
inference at all), so they bound what reading responses through the embeddings can give:

- ``true_attributes``: ``w . (attr(chosen) - attr(rejected))`` on the world's attributes;
- ``readout``: the same with the attribute differences read from the pair's embedding
  difference by the ridge read-out of :func:`train.personalize.readout_deltas`;
- ``readout_sign_accuracy``: per attribute, how often the read-out's sign is the true one
  where the pair differs in that attribute;
- ``preference_readout``: the same with a linear read-out learned from the training users'
  *answers* alone, given their true weights (no attribute labels; :func:`preference_readout`):
  the most a reward linear in the embedding reaches when inferring the user is perfect.

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


def preference_readout(data, epochs: int = 30, lr: float = 5e-3, seed: int = 0):
    """``V [A, D]`` maximising ``sum log sigmoid(w_u . V (phi(chosen) - phi(rejected)))`` over
    every distinct answered pair of every training user ``u`` with true weights ``w_u``."""
    import torch
    import torch.nn.functional as F

    from train.reference import stacked_differences, user_pairs

    weights_of = {}
    for row in data.dataset.train:
        weights_of.setdefault(row["user"], row["user_weights"])
    pairs = user_pairs(data.splits["train"])
    users = sorted(pairs)
    emb = data.embeddings.float()
    w = torch.tensor([weights_of[u] for u in users], dtype=torch.float32)  # [U, A]
    owner, diff = stacked_differences(emb, pairs, users)  # [P], [P, D]
    g = torch.Generator().manual_seed(seed)
    V = (torch.randn(w.shape[1], emb.shape[1], generator=g) * 0.01).requires_grad_()
    opt = torch.optim.Adam([V], lr=lr)
    for _ in range(epochs):
        for rows in torch.randperm(len(diff), generator=g).split(4096):
            loss = -F.logsigmoid((w[owner[rows]] * (diff[rows] @ V.T)).sum(-1)).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
    return V.detach()


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
    emb = data.embeddings.double()
    learned = (emb[data.splits["test"].chosen] - emb[data.splits["test"].rejected]) \
        @ preference_readout(data).double().T  # [R, A]
    signs = ((read.sign() == true.sign()) & differs).sum(0) / differs.sum(0).clamp(min=1)
    return {
        "attributes": world["attributes"],
        "true_attributes": {g: round(accuracy((weights * true).sum(1)[m].float()), 4)
                            for g, m in masks.items()},
        "readout": {g: round(accuracy((weights * read).sum(1)[m].float()), 4)
                    for g, m in masks.items()},
        "readout_sign_accuracy": dict(zip(world["attributes"], [round(v, 4) for v in signs.tolist()])),
        "preference_readout": {g: round(accuracy((weights * learned).sum(1)[m].float()), 4)
                               for g, m in masks.items()},
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
