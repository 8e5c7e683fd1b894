"""The active-querying simulation's participants and its two arms (``bench/active_simulation.py``
has the protocol): simulated users as tensors, and ``simulate`` asking them in active or random
order."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch

from spl_model import RewardModel
from spl_model.active import lookahead_stability, select_query

__all__ = ["K_MAX", "Embeddings", "Users", "any_pairs_of", "build_users", "eval_rows_for",
           "read_rows", "responses_of", "simulate", "split_pairs_of"]

K_MAX = 12


@dataclass
class Users:
    """U simulated users of one group, as tensors (A = 4 attributes, P pool, E eval pairs)."""

    name: str
    weights: torch.Tensor  # [U, A]
    pool_a: torch.Tensor  # [U, P, D]
    pool_b: torch.Tensor  # [U, P, D]
    pool_attr: torch.Tensor  # [U, P, A] attributes of side a minus side b
    eval_c: torch.Tensor  # [U, E, D] the user's preferred side
    eval_r: torch.Tensor  # [U, E, D]
    cand: torch.Tensor  # [U, N, D] the responses to one test prompt (the stopping signal's)
    cand_value: torch.Tensor  # [U, N] the user's w . attributes of each


def read_rows(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def responses_of(rows: list[dict[str, Any]]) -> dict[str, dict[tuple[int, ...], str]]:
    """prompt -> {attribute vector: response text} seen in the rows."""
    out: dict[str, dict[tuple[int, ...], str]] = {}
    for row in rows:
        seen = out.setdefault(row["prompt"], {})
        for side in ("chosen", "rejected"):
            seen[tuple(int(v) for v in row[f"attributes_{side}"])] = row[side]
    return out


def split_pairs_of(responses: dict[str, dict[tuple[int, ...], str]]) -> list[tuple[str, tuple, tuple]]:
    """Every (prompt, x, -x) with x having two +1s, both responses present (2 vs 2 splits)."""
    out = []
    for prompt in sorted(responses):
        have = responses[prompt]
        for x in sorted(have):
            y = tuple(-v for v in x)
            if sum(v > 0 for v in x) == 2 and x > y and y in have:
                out.append((prompt, x, y))
    return out


def any_pairs_of(responses: dict[str, dict[tuple[int, ...], str]],
               types: list[str], attributes: list[str]) -> tuple[list, list]:
    """Every (prompt, x, y), x > y, of two different responses, split into the pairs the
    user types disagree on (some prefer x, some y: "controversial", as the dataset's rows
    call them) and the rest. The pool of ``--pool-source rows`` draws from these."""
    at = [attributes.index(t) for t in types]
    hot, cold = [], []
    for prompt in sorted(responses):
        have = sorted(responses[prompt])
        for i, x in enumerate(have):
            for y in have[:i]:
                signs = {(x[a] > y[a]) - (x[a] < y[a]) for a in at}
                (hot if {1, -1} <= signs else cold).append((prompt, x, y))
    return hot, cold


class Embeddings:
    """Rendered-text embeddings from the cache (fp32)."""

    def __init__(self, cache_dir: Path, run_folder: Path) -> None:
        from spl_model.checkpoint import read_run_config
        from spl_model.backbones import render, resolve_spec
        from train.cache import EmbeddingCache

        identity = read_run_config(run_folder).get("backbone") or {"backbone": "minilm"}
        name = identity.get("name") or identity.get("backbone", "minilm")
        spec = resolve_spec(name, quantize=identity.get("quantize", "none"),
                            max_length=identity.get("max_length"))
        self.cache = EmbeddingCache(cache_dir, spec.identity())
        self.render = render

    def __call__(self, prompt: str, texts: list[str]) -> torch.Tensor:
        return self.cache.get([self.render(prompt, t) for t in texts])  # [N, D]


def _pair_tensor(embed: Embeddings, pairs: list[tuple[str, str, str]]) -> tuple[torch.Tensor, torch.Tensor]:
    left = torch.cat([embed(p, [x]) for p, x, _ in pairs])  # [N, D]
    right = torch.cat([embed(p, [y]) for p, _, y in pairs])
    return left, right


def build_users(name: str, weights: list[list[float]], eval_rows: list[list[dict[str, Any]]],
                draw_pool: Callable[[random.Random], list[tuple[str, tuple, tuple]]],
                responses: dict[str, dict[tuple[int, ...], str]], embed: Embeddings,
                rng: random.Random, test_responses: dict[str, dict[tuple[int, ...], str]],
                cand_rng: random.Random) -> Users:
    """One group: a random pool (``draw_pool``), held-out pairs and one test prompt's
    responses per user (drawn with ``cand_rng``, so the pools stay those of ``rng``)."""
    pa, pb, pattr, ec, er, cand, value = [], [], [], [], [], [], []
    full = sorted(p for p, have in test_responses.items() if len(have) == 16)
    for w, rows in zip(weights, eval_rows):
        prompt = cand_rng.choice(full)
        attrs = sorted(test_responses[prompt])
        cand.append(embed(prompt, [test_responses[prompt][x] for x in attrs]))
        value.append(torch.tensor([sum(wi * v for wi, v in zip(w, x)) for x in attrs]))
        pool = draw_pool(rng)
        sides = [(p, x, y) if rng.random() < 0.5 else (p, y, x) for p, x, y in pool]
        a, b = _pair_tensor(embed, [(p, responses[p][x], responses[p][y]) for p, x, y in sides])
        pa.append(a)
        pb.append(b)
        pattr.append(torch.tensor([[u - v for u, v in zip(x, y)] for _, x, y in sides],
                                  dtype=torch.float32))
        pairs = []
        for row in rows:
            margin = sum(wi * (u - v) for wi, u, v in
                         zip(w, row["attributes_chosen"], row["attributes_rejected"]))
            good, bad = (row["chosen"], row["rejected"]) if margin > 0 else (row["rejected"], row["chosen"])
            pairs.append((row["prompt"], good, bad))
        c, r = _pair_tensor(embed, pairs)
        ec.append(c)
        er.append(r)
    return Users(name, torch.tensor(weights, dtype=torch.float32), torch.stack(pa),
                 torch.stack(pb), torch.stack(pattr), torch.stack(ec), torch.stack(er),
                 torch.stack(cand), torch.stack(value).float())


def eval_rows_for(rows: list[dict[str, Any]], w: list[float], n: int,
               rng: random.Random) -> list[dict[str, Any]]:
    usable = [r for r in rows if abs(sum(wi * (u - v) for wi, u, v in zip(
        w, r["attributes_chosen"], r["attributes_rejected"]))) > 1e-9]
    return rng.sample(usable, min(n, len(usable)))


@torch.no_grad()
def _point_z(model: RewardModel, ctx_c: torch.Tensor, ctx_r: torch.Tensor, k: int) -> torch.Tensor:
    """The point latent after the first k context pairs: ``[B, Z]`` (0 for k = 0)."""
    B = ctx_c.shape[0]
    if k == 0:
        return torch.zeros(B, model.cfg.z_dim)
    return model.posterior(ctx_c[:, :k], ctx_r[:, :k], torch.ones(B, k, dtype=torch.bool)).z


@torch.no_grad()
def _accuracy(model: RewardModel, z: torch.Tensor, eval_c: torch.Tensor,
              eval_r: torch.Tensor) -> torch.Tensor:
    """Per-user held-out accuracy under the latents ``z [B, Z]``: ``[B]``."""
    E = eval_c.shape[1]
    rewards = model.reward(torch.cat([eval_c, eval_r], dim=1), z)  # [B, 2E]
    return (rewards[:, :E] > rewards[:, E:]).float().mean(dim=1)


def _split_key(attr: torch.Tensor) -> torch.Tensor:
    """Which 2-vs-2 split a pair makes, side-independent: ``attr [..., A]`` -> ``[..., A]``."""
    return attr * torch.sign(attr[..., :1])


def _top_regret(model: RewardModel, z: torch.Tensor, cand: torch.Tensor,
                value: torch.Tensor) -> torch.Tensor:
    """Per user, how much worse (in the user's w . attributes) the model's top candidate under
    ``z [B, Z]`` is than the user's best: ``[B]``, 0 when the top pick is right."""
    B = cand.shape[0]
    top = model.reward(cand, z).argmax(dim=1)  # [B]
    return value.amax(dim=1) - value[torch.arange(B), top]


@torch.no_grad()
def simulate(model: RewardModel, users: Users, order: str, samples: int, answers: str,
             temperature: float, seed: int, spread: float = 1.0, redundancy: float = 0.0,
             first: str = "bald", method: str = "bald", stopping: bool = False,
             chunk: int = 16) -> dict[str, torch.Tensor]:
    """One arm for every user of a group. Returns, per user:

    - ``accuracy [U, K_MAX + 1]``: held-out accuracy after k = 0..K_MAX labels;
    - ``splits [U, K_MAX + 1]``: distinct 2-vs-2 splits asked after k labels;
    - ``score [U, K_MAX]``: the selector's score of each active pick (0 for random order);
    - with ``stopping``: ``stability [U, K_MAX + 1]`` (``lookahead_stability`` on the user's
      candidate responses, the pool pairs not asked yet being the possible next questions)
      and ``regret [U, K_MAX + 1]`` (the top candidate's shortfall, 0 = right top pick).
    """
    U, P, D = users.pool_a.shape
    out = {"accuracy": torch.zeros(U, K_MAX + 1), "splits": torch.zeros(U, K_MAX + 1),
           "score": torch.zeros(U, K_MAX)}
    if stopping:
        out["stability"] = torch.zeros(U, K_MAX + 1)
        out["regret"] = torch.zeros(U, K_MAX + 1)
    gen = torch.Generator().manual_seed(seed)
    for start in range(0, U, chunk):
        idx = slice(start, min(U, start + chunk))
        a, b, attr = users.pool_a[idx], users.pool_b[idx], users.pool_attr[idx]
        w = users.weights[idx]
        B = a.shape[0]
        rows = torch.arange(B)
        margin = (attr * w[:, None]).sum(-1)  # [B, P] user's w . (attr_a - attr_b)
        if answers == "bt":
            a_wins = torch.rand(B, P, generator=gen) < torch.sigmoid(temperature * margin)
        else:
            a_wins = margin > 0
            tie = margin.abs() < 1e-9  # the user does not care: a coin flip (rows pools only)
            if bool(tie.any()):
                a_wins = torch.where(tie, torch.rand(B, P, generator=gen) < 0.5, a_wins)
        random_order = torch.stack([torch.randperm(P, generator=gen) for _ in range(B)])
        asked = torch.zeros(B, P, dtype=torch.bool)
        ctx_c, ctx_r = torch.zeros(B, K_MAX, D), torch.zeros(B, K_MAX, D)

        def measure(k: int) -> None:
            z = _point_z(model, ctx_c, ctx_r, k)  # [B, Z]
            out["accuracy"][idx, k] = _accuracy(model, z, users.eval_c[idx], users.eval_r[idx])
            if stopping:
                mask = torch.zeros(B, K_MAX, dtype=torch.bool)
                mask[:, :k] = True
                out["stability"][idx, k] = lookahead_stability(
                    model, (ctx_c[:, :max(k, 1)], ctx_r[:, :max(k, 1)], mask[:, :max(k, 1)]),
                    users.cand[idx], a, b, asked)
                out["regret"][idx, k] = _top_regret(model, z, users.cand[idx],
                                                    users.cand_value[idx])

        measure(0)
        for k in range(K_MAX):
            if order == "active" and not (k == 0 and first == "random"):
                mask = torch.zeros(B, K_MAX, dtype=torch.bool)
                mask[:, :k] = True
                choice = select_query(model, (ctx_c, ctx_r, mask), a, b, asked, samples,
                                      seed=seed * 100_003 + start * 101 + k, spread=spread,
                                      redundancy=redundancy, method=method)
                pick = choice.best
                out["score"][idx, k] = choice.scores[rows, pick]
            else:
                pick = random_order[:, k]
            asked[rows, pick] = True
            wins = a_wins[rows, pick][:, None]  # [B, 1]
            ctx_c[:, k] = torch.where(wins, a[rows, pick], b[rows, pick])
            ctx_r[:, k] = torch.where(wins, b[rows, pick], a[rows, pick])
            measure(k + 1)
            keys = _split_key(attr)  # [B, P, A]
            out["splits"][idx, k + 1] = torch.tensor(
                [float(len({tuple(v) for v in keys[u][asked[u]].tolist()})) for u in range(B)])
    return out
