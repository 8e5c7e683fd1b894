"""Simulated participants: how many labels does the active selector save over random order?

Writes ``NAME.json``, ``NAME.md`` and ``NAME.png`` into ``--out`` (default ``docs/results``);
byte-stable for the same inputs and seed.

Protocol (synthetic data, ``train.data.synthetic``; a trained SPL run, by default the demo's
``runs/demo/spl`` on ``datasets/synthetic-demo``, see ``make train-demo``):

- **Participants**: ``--seen-per-type`` users of each of the 4 training types (weight 1 on one
  attribute) and ``--unseen`` continuous users (the Dirichlet weights of
  ``test_unseen.jsonl``, never seen in training).
- **Pool** (what can be asked): per user, ``--pool`` pairs of TRAIN prompts. ``--pool-source
  train``: each like a balanced survey pair or a demo-pack pair: its two responses are opposite
  on every attribute and two attributes favour each side, so every pair splits the 4 types
  2 vs 2 (3 such splits exist). ``rows``: any two responses of a prompt, a
  ``--controversial-share`` of them pairs the types disagree on, like the dataset's rows.
  ``survey``: the dataset's survey pairs.
- **Answers**: noiseless, the side with the higher ``w . attributes``, a coin flip when the
  user does not care (a tie; ``rows`` pools only); ``--answers bt``: Bradley-Terry draws at
  the dataset's temperature instead.
- **Held-out evaluation**: ``--eval-pairs`` pairs on the TEST prompts per user (seen types:
  their ``test.jsonl`` rows; unseen users: pairs of all test rows), labelled noiselessly.
  Accuracy after k labels uses the posterior's point latent (eval mode); k = 0 uses z = 0.
- **Orders**: ``active`` asks the unasked pool pair with the highest score of
  ``spl_model.active.select_query`` (``--method lookahead``: the look-ahead EPIG the app uses;
  ``bald``: BALD under 32 posterior samples); ``random`` asks them in a random order. Both
  arms see the same users and pools. ``--first random``: the active arm's first question is
  the random arm's (as the app asks the pack's first pair before it has an answer).
- **Labels needed**: the smallest k (linearly interpolated between integers) at which the
  mean accuracy reaches 90% of the RANDOM arm's mean accuracy at k = 12 (one target for both
  arms; a per-arm target rewards an arm that ends lower); ``reduction`` =
  1 - needed(active) / needed(random). Also: labels to reach 90% of the *gain* from k = 0 to
  k = 12 (``reduction_gain``). Intervals: 95% percentile bootstrap over users (2000
  resamples, the same resample for both arms). Diagnostics: distinct splits asked, the score
  of each pick.
- **Stopping signal** (active arm): after each k, ``lookahead_stability`` on the 16 responses
  of one test prompt per user, the unasked pool pairs being the possible next questions; a
  user who stops when it first reaches ``STOP_AT`` gets the accuracy and top pick reported
  against the same user at k = 12.
- ``active.md`` tabulates every variant of ``VARIANTS`` found next to it; ``--render-only``
  rewrites a variant's .md/.png from its .json (which keeps every user's curve).

Usage (the reported variants, ``make active-sim``; 5-10 min each on one core)::

    S="--seen-per-type 25 --unseen 100"
    python bench/active_simulation.py $S --method bald --name active
    python bench/active_simulation.py $S --method lookahead --name active_lookahead
    python bench/active_simulation.py $S --method bald --first random --name active_app
    python bench/active_simulation.py $S --method bald --pool-source rows --name active_rows
    python bench/active_simulation.py $S --method lookahead --pool-source rows \\
        --name active_rows_lookahead
    B3="$S --run runs/demo-beta1e-3/spl"   # the same data and fit at beta = 1e-3
    python bench/active_simulation.py $B3 --method bald --name active_b3   # (and _lookahead,
    # _rows, _rows_lookahead with the flags above)
    python bench/active_simulation.py --name active --render-only   # refresh the variants table
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from spl_model import RewardModel, load_model  # noqa: E402
from spl_model.active import STOP_AT, lookahead_stability, select_query  # noqa: E402

K_MAX = 12
# Hand-written findings appended to active.md (written after the runs of 2026-11-27; rerun the
# four variants with --seen-per-type 25 --unseen 100 to reproduce the numbers they cite).
NOTES: dict[str, list[str]] = {"active": """## Findings (2026-11-27, the demo model retrained on wider contexts)

**The target is not met on the shipped demo model.** The issue's measure is labels needed to
reach 90% of the accuracy at 12, with a pool of pairs like the app's (each splits the types
2 vs 2). On it, active order (BALD) needs 12% fewer labels for seen types (95% CI [-30, 43])
and 0% for unseen users. Where the pool holds any kind of pair, active order does save
labels: 78% [0, 96] for seen types, and 85% [63, 91] to reach 90% of the gain. The closest
to the target is the same data fitted at beta = 1e-3, which personalises more, with that pool
(`active_b3_rows`): 62% [15, 73] fewer labels for seen types. For unseen users it is 0%
(63% [-15, 80] on the gain). For unseen users the literal count is 0% with every model and
pool. The reasons, in the order they matter:

1. **The model, not the selector, was the bottleneck.** The first measurement used the demo
   model trained on the 16 survey pairs (the `survey16` rows of the table). Its encoder had
   memorised those pairs and barely read answers to any other pair. With 12 labels from the
   pool, seen-type accuracy was about 0.80, and no order of questions could change that.
   The demo is now trained on contexts of 1-8 answers from 2,000 survey pairs of any kind
   (`train.data.synthetic`: `survey_pairs="any"`, `identifying_contexts=False`; `make
   train-demo`). Off its survey, the beta = 1e-3 fit then reaches 0.88-0.89.
2. **One answer reaches "90% of the accuracy at 12".** The shipped model (beta = 1, where VPL
   collapses, see the README) scores 0.696 with no answer and 0.795 after 12. The target,
   0.716, is crossed after about a third of a label in both arms. Any order can then only save
   a fraction of the *first* label, and the app asks the same first pair in both arms
   (`active_app`: 0% by construction). The more informative reading, 90% of the way from
   k = 0 to k = 12, is given beside it. It separates the orders where the pool holds pairs
   that teach nothing: with any kind of pair, active order needs 1.4 labels against 9.4.
3. **With the 2-vs-2 pool, random order is already nearly optimal.** Every pair is as
   informative as a first question can be, and a random second pair is a new split 2 times
   in 3. For seen types, active order gains a few points at k = 1..3 and nothing after.
   The beta = 1e-3 fit personalises more and shows a clearer gain (`active_b3`): 0.883 against
   0.846 at k = 2, and 47% [15, 59] fewer labels to 90% of the gain. The literal measure
   there is 20% [-3, 45].
4. **Unseen continuous users are barely personalised.** The models train on 4 discrete types.
   A Dirichlet mixture of them moves from 0.69 to 0.70 (beta = 1) or from 0.65 to 0.76
   (beta = 1e-3) in 12 answers. 90% of that is below the k = 0 accuracy, so the literal count
   is 0 in both arms. One trial with half the training rows from continuous users
   (`mixture_share=0.5`; 40 users) did not change this (0.713 against 0.695 at k = 12) and
   cost seen-type accuracy (0.77 against 0.87). It is not the demo's setting.
5. **BALD and the look-ahead score select about equally well** on the retrained models
   (rows `_lookahead`). BALD now works: after wider training the posterior samples disagree
   where the answers are open. On the survey-16 model they had collapsed after one answer.
   The app keeps BALD, which is cheaper. The look-ahead EPIG (`method="lookahead"`) remains
   for models whose samples collapse.
6. **The stopping signal.** The app used to show the share of posterior samples that keep
   the top response. It was about 0.9 before any answer and 1.0 for VPL, so it suggested
   stopping at once. The app now shows `lookahead_stability`: the chance that the top pick
   survives the answer to the most unsettling pair still to ask. On the shipped model it is
   0.42 (seen) and 0.52 (unseen) before any answer, and reaches 0.9 after 3 answers on average
   (2.2-3.8 across the variants). A user who stops there keeps the top pick of k = 12 (the
   share whose top response is a best one: 0.97 at stop and 0.97 at 12, seen types). They
   lose 0.01 in held-out accuracy (0.783 against 0.793). VPL's signal is 1.0 from the start, because no answer moves its
   collapsed latent: the demo says so honestly.
""".split("\n"), "active_survey16": """## Findings (session 1, on the survey-16 model the demo shipped before)

**The target is not met.** With the selector as specified (pure BALD, train-prompt pool), active
order saves no labels: seen users need *more* labels than random order (reduction -17%,
95% CI [-249%, 23%]) and unseen users need 0 labels in both arms (see below). Only on the
survey pool, with the redundancy penalty and the app's fixed first question, does active order
clearly win: 90% of the 0 -> 12 gain after 1.9 labels instead of 4.1 (seen, -53% labels,
CI [35%, 67%]) and 1.9 instead of 5.0 (unseen, -63%, CI [6%, 69%]); on the stricter "90% of
accuracy at 12" measure that is 17% [5%, 26%] for seen users.

Why pure BALD fails here:

1. **The amortised posterior is overconfident after one answer.** The best pool pair's BALD
   score falls from ~0.47 nats before any answer to ~0.02-0.09 after one (diagnostics table):
   the 32 posterior samples already agree on almost every pair although held-out accuracy is
   far from its plateau (one 2-vs-2 answer cannot tell a type apart). BALD can only be as good
   as the posterior's spread, and this one (beta = 1e-3, log-variance clamped at -1) barely
   depends on how informative the context is.
2. **The uncertainty that remains sits on the wrong pairs.** The encoder was trained with the
   16 survey pairs as the only contexts; it does not carry "concise + friendly beat steps +
   cautious" over to the same split on another prompt, so the samples disagree most on pairs of
   the split just answered. On the survey pool pure BALD asks *fewer* distinct splits than
   random order (1.55 vs 1.69 after 2 labels) and ends up worse (seen, -56%). The redundancy
   penalty (`select_query(..., redundancy=1.0)`: BALD minus the largest |cosine| between the
   pair's embedding difference and an answered pair's) counters exactly this: 1.95 distinct
   splits after 2 labels, accuracy 0.879 vs 0.831 for random at k = 2.
3. **Off the survey pairs the model barely personalises.** On train-prompt pools seen-type
   accuracy only climbs from 0.66 to ~0.80 in 12 labels (0.89 on survey pairs) and unseen
   users from 0.67 to ~0.71; the curves are flat and noisy, so label counts there are unstable
   (gain-based CIs span 1-12 labels) and BALD tends to pick the pairs the encoder misreads.
   This is a model limitation (contexts drawn from 16 fixed pairs in training), not one an
   acquisition function can fix; training with contexts from more prompts is the next step.
4. **The first question.** Before any answer BALD uses the prior N(0, I), which is not where
   the trained posterior lives; its first pick was worse than a random one on the survey pool
   (seen accuracy after 1 label 0.73 vs 0.77). The app asks the pack's first pair first (both
   study arms share it) and uses the selector from the second question on.
5. **The literal measure is degenerate for unseen users:** with z = 0 the model already scores
   0.67, above 90% of what 12 labels reach (0.70-0.75), so both arms "need" 0 labels. The
   90%-of-gain column is the informative one there.

What the app did with this (until the retrained demo; see `active.md` for today's setup): active order stayed the default as the issue asks, with the
redundancy penalty on (`app.service.QUERY_REDUNDANCY`) and the fixed first question. Given
findings 1-3, a study that needs the fewest labels today should compare both arms
(`SPL_QUERY_ORDER=fixed` for the control arm) rather than assume the active arm is cheaper;
the demo pack's pairs are on test prompts, i.e. off the survey pairs (finding 3).
""".split("\n")}


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


def _rows(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _responses(rows: list[dict[str, Any]]) -> dict[str, dict[tuple[int, ...], str]]:
    """prompt -> {attribute vector: response text} seen in the rows."""
    out: dict[str, dict[tuple[int, ...], str]] = {}
    for row in rows:
        seen = out.setdefault(row["prompt"], {})
        for side in ("chosen", "rejected"):
            seen[tuple(int(v) for v in row[f"attributes_{side}"])] = row[side]
    return out


def _split_pairs(responses: dict[str, dict[tuple[int, ...], str]]) -> list[tuple[str, tuple, tuple]]:
    """Every (prompt, x, -x) with x having two +1s, both responses present (2 vs 2 splits)."""
    out = []
    for prompt in sorted(responses):
        have = responses[prompt]
        for x in sorted(have):
            y = tuple(-v for v in x)
            if sum(v > 0 for v in x) == 2 and x > y and y in have:
                out.append((prompt, x, y))
    return out


def _any_pairs(responses: dict[str, dict[tuple[int, ...], str]],
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


def _eval_rows(rows: list[dict[str, Any]], w: list[float], n: int,
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


def summarise_stopping(arm: dict[str, torch.Tensor]) -> dict[str, Any]:
    """The stopping signal in the active arm: its mean after k labels, and what a user who
    stops at the first k >= 1 where it reaches ``STOP_AT`` (else at K_MAX) gets there:
    labels used, held-out accuracy and the share whose top candidate is a best one, against
    the same users at K_MAX."""
    stab, acc, regret = arm["stability"], arm["accuracy"], arm["regret"]
    U = stab.shape[0]
    reached = stab[:, 1:] >= STOP_AT  # [U, K_MAX]
    stop = torch.where(reached.any(1), reached.float().argmax(1) + 1, torch.full((U,), K_MAX))
    users = torch.arange(U)
    return {
        "stop_at": STOP_AT,
        "mean_stability": [round(v, 4) for v in stab.mean(0).tolist()],
        "labels_at_stop": round(float(stop.float().mean()), 3),
        "stopped_before_12": round(float(reached.any(1).float().mean()), 4),
        "accuracy_at_stop": round(float(acc[users, stop].mean()), 4),
        "accuracy_at_12": round(float(acc[:, -1].mean()), 4),
        "top_right_at_stop": round(float((regret[users, stop] < 1e-6).float().mean()), 4),
        "top_right_at_12": round(float((regret[:, -1] < 1e-6).float().mean()), 4),
        "top_right": [round(v, 4) for v in (regret < 1e-6).float().mean(0).tolist()],
    }


def target_of(reference: torch.Tensor, share: float = 0.9, gain: bool = False) -> float:
    """``share`` of the reference curve's accuracy at K_MAX (``gain``: of the way from its
    k = 0 to its K_MAX value). The reference is the RANDOM arm for both arms: a per-arm
    target would reward an arm for ending lower."""
    return float(reference[0] + share * (reference[-1] - reference[0]) if gain
                 else share * reference[-1])


def labels_needed(curve: torch.Tensor, target: float) -> float:
    """Fractional k at which ``curve [K_MAX + 1]`` first reaches ``target``, interpolating
    linearly between integers; K_MAX when it never does."""
    values = curve.tolist()
    if values[0] >= target:
        return 0.0
    for k in range(1, len(values)):
        if values[k] >= target:
            lo, hi = values[k - 1], values[k]
            return k - 1 + (float(target) - lo) / (hi - lo)
    return float(len(values) - 1)


def _ci(values: list[float]) -> list[float]:
    ordered = sorted(values)
    n = len(ordered)
    return [round(ordered[int(0.025 * (n - 1))], 4), round(ordered[int(math.ceil(0.975 * (n - 1)))], 4)]


def summarise(active: torch.Tensor, rand: torch.Tensor, n_boot: int,
              seed: int) -> dict[str, Any]:
    """Curves with intervals, labels needed and the reduction, with bootstrap intervals."""
    U = active.shape[0]
    gen = torch.Generator().manual_seed(seed)
    boots = [torch.randint(0, U, (U,), generator=gen) for _ in range(n_boot)]
    out: dict[str, Any] = {"n_users": U, "k": list(range(K_MAX + 1))}
    for name, acc in (("active", active), ("random", rand)):
        means = torch.stack([acc[i].mean(0) for i in boots])  # [n_boot, K+1]
        out[name] = {
            "mean": [round(v, 4) for v in acc.mean(0).tolist()],
            "ci95": [_ci(means[:, k].tolist()) for k in range(K_MAX + 1)],
        }
    for tag, gain in (("", False), ("_gain", True)):
        target = target_of(rand.mean(0), gain=gain)
        need_a = labels_needed(active.mean(0), target)
        need_r = labels_needed(rand.mean(0), target)
        reds, na, nr = [], [], []
        for i in boots:
            t = target_of(rand[i].mean(0), gain=gain)
            a, r = labels_needed(active[i].mean(0), t), labels_needed(rand[i].mean(0), t)
            na.append(a)
            nr.append(r)
            reds.append(1 - a / r if r > 0 else 0.0)
        out[f"labels_needed{tag}"] = {
            "target_accuracy": round(target, 4),
            "active": round(need_a, 3), "random": round(need_r, 3),
            "active_ci95": _ci(na), "random_ci95": _ci(nr)}
        out[f"reduction{tag}"] = round(1 - need_a / need_r, 4) if need_r > 0 else 0.0
        out[f"reduction{tag}_ci95"] = _ci(reds)
    diff = active - rand  # [U, K+1] paired per user
    diffs = torch.stack([diff[i].mean(0) for i in boots])
    out["accuracy_gain"] = {"mean": [round(v, 4) for v in diff.mean(0).tolist()],
                            "ci95": [_ci(diffs[:, k].tolist()) for k in range(K_MAX + 1)]}
    return out


def plot(result: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["svg.hashsalt"] = "spl"
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for ax, group in zip(axes, ("seen", "unseen")):
        res = result["groups"][group]
        for arm, color in (("active", "tab:blue"), ("random", "tab:gray")):
            k = res["k"]
            lo = [c[0] for c in res[arm]["ci95"]]
            hi = [c[1] for c in res[arm]["ci95"]]
            ax.plot(k, res[arm]["mean"], marker="o", ms=3, color=color, label=f"{arm} order")
            ax.fill_between(k, lo, hi, color=color, alpha=0.2, lw=0)
            ax.axvline(res["labels_needed"][arm], color=color, ls=":", lw=1)
        ax.axhline(res["labels_needed"]["target_accuracy"], color="k", ls="--", lw=0.7)
        ax.set_title(f"{group} users (n={res['n_users']}): reduction "
                     f"{100 * res['reduction']:.0f}%")
        ax.set_xlabel("labels answered (k)")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("held-out pair accuracy")
    axes[0].text(0.02, 0.96, "dashed: 90% of random's accuracy at 12; dotted: labels needed",
                 transform=axes[0].transAxes, fontsize=7, va="top")
    axes[0].legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)


VARIANTS = (
    ("active", "demo model, 2-vs-2 pool (64), BALD (the app's selector)"),
    ("active_lookahead", "demo model, 2-vs-2 pool (64), look-ahead"),
    ("active_app", "demo model, 2-vs-2 pool (64), BALD, shared first question (as the app)"),
    ("active_rows", "demo model, any-pair pool (64), BALD"),
    ("active_rows_lookahead", "demo model, any-pair pool (64), look-ahead"),
    ("active_b3", "beta = 1e-3 model, 2-vs-2 pool (64), BALD"),
    ("active_b3_lookahead", "beta = 1e-3 model, 2-vs-2 pool (64), look-ahead"),
    ("active_b3_rows", "beta = 1e-3 model, any-pair pool (64), BALD"),
    ("active_b3_rows_lookahead", "beta = 1e-3 model, any-pair pool (64), look-ahead"),
    ("active_survey16", "survey-16 model (before), 2-vs-2 pool (64), BALD"),
    ("active_survey16_redundancy_first", "survey-16 model (before), 2-vs-2 pool, BALD + penalty 1, app's first"),
    ("active_survey16_survey", "survey-16 model (before), its 16 survey pairs, BALD"),
    ("active_survey16_survey_redundancy_first",
     "survey-16 model (before), its 16 survey pairs, BALD + penalty 1, app's first"),
)


def variants_table(folder: Path) -> list[str]:
    """One row per variant whose JSON exists in ``folder``: both label-count metrics."""
    lines = ["| variant | group | labels to 90% of acc@12: active / random | reduction [95% CI] "
             "| labels to 90% of the gain: active / random | reduction [95% CI] |",
             "|---|---|---|---|---|---|"]
    for stem, title in VARIANTS:
        path = folder / f"{stem}.json"
        if not path.is_file():
            continue
        result = json.loads(path.read_text())
        for group in ("seen", "unseen"):
            r = result["groups"][group]
            ln, lg = r["labels_needed"], r["labels_needed_gain"]
            lines.append(
                f"| {title} (`{stem}.json`) | {group} | {ln['active']:.2f} / {ln['random']:.2f} "
                f"| {100 * r['reduction']:.0f}% [{100 * r['reduction_ci95'][0]:.0f}, "
                f"{100 * r['reduction_ci95'][1]:.0f}] | {lg['active']:.2f} / {lg['random']:.2f} "
                f"| {100 * r['reduction_gain']:.0f}% [{100 * r['reduction_gain_ci95'][0]:.0f}, "
                f"{100 * r['reduction_gain_ci95'][1]:.0f}] |")
    return lines


def markdown(result: dict[str, Any], name: str = "active", folder: Path | None = None) -> str:
    cfg = result["config"]
    lines = [
        "# Active querying: labels saved by the selector over random order (issue #6)",
        "",
        "Generated by `bench/active_simulation.py` (see its docstring for the protocol); "
        f"numbers from `{name}.json`, plot `{name}.png`.",
        "",
        f"- Model: `{cfg['run']}` ({cfg['model']}); selector: "
        + (f"look-ahead EPIG on the pool (`method=\"lookahead\"`, redundancy penalty "
           f"{cfg.get('redundancy', 0.0):g})" if cfg.get("method") == "lookahead" else
           f"BALD under {cfg['samples']} posterior samples (spread {cfg.get('spread', 1.0):g}, "
           f"redundancy penalty {cfg.get('redundancy', 0.0):g})")
        + " with `spl_model.active.select_query`; first "
        + ("question: the random arm's (as the app asks the pack's first pair)."
           if cfg.get("first") == "random" else "question: the selector's, from z = 0 / the prior."),
        f"- Participants: {result['groups']['seen']['n_users']} seen-type users "
        f"({cfg['seen_per_type']} per type), {result['groups']['unseen']['n_users']} unseen "
        f"continuous users (Dirichlet weights of `test_unseen.jsonl`); answers: {cfg['answers']}"
        + (" (a tie, a pair the user does not care about, is a coin flip)." if cfg['answers'] ==
           "noiseless" else "."),
        f"- Pool ({cfg['pool_source']}): {cfg['pool']} pairs per user from TRAIN prompts, "
        + ({"rows": f"any two responses of a prompt, {100 * cfg.get('controversial_share', 0.7):.0f}% "
                    "of them pairs the user types disagree on (like the dataset's rows)",
            "survey": "the dataset's survey pairs",
            "train": "each splitting the types 2 vs 2 like a balanced survey"}[cfg["pool_source"]])
        + f"; held-out: {cfg['eval_pairs']} TEST-prompt pairs per user (noiseless labels).",
        "- Labels needed: smallest k (interpolated) where the arm's mean accuracy reaches 90% "
        "of the RANDOM arm's accuracy at k = 12 (one target for both arms); 90%-of-gain: "
        "90% of the way from k = 0 to random's k = 12. Reduction = 1 - active / random. 95% "
        "intervals: bootstrap over users (the same resample for both arms).",
        "",
        "| group | labels needed: active | random | **reduction** | 90%-of-gain: active | "
        "random | reduction | acc@12 active | acc@12 random |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for group in ("seen", "unseen"):
        r = result["groups"][group]
        ln, lg = r["labels_needed"], r["labels_needed_gain"]
        lines.append(
            f"| {group} | {ln['active']:.2f} [{ln['active_ci95'][0]:.2f}, {ln['active_ci95'][1]:.2f}] "
            f"| {ln['random']:.2f} [{ln['random_ci95'][0]:.2f}, {ln['random_ci95'][1]:.2f}] "
            f"| **{100 * r['reduction']:.0f}%** [{100 * r['reduction_ci95'][0]:.0f}, "
            f"{100 * r['reduction_ci95'][1]:.0f}] "
            f"| {lg['active']:.2f} | {lg['random']:.2f} | {100 * r['reduction_gain']:.0f}% "
            f"[{100 * r['reduction_gain_ci95'][0]:.0f}, {100 * r['reduction_gain_ci95'][1]:.0f}] "
            f"| {r['active']['mean'][-1]:.3f} | {r['random']['mean'][-1]:.3f} |")
    lines += ["", "Accuracy after k labels (mean [95% CI]):", "",
              "| k | seen active | seen random | unseen active | unseen random |",
              "|---|---|---|---|---|"]
    for k in range(K_MAX + 1):
        cells = []
        for group in ("seen", "unseen"):
            for arm in ("active", "random"):
                r = result["groups"][group][arm]
                cells.append(f"{r['mean'][k]:.3f} [{r['ci95'][k][0]:.3f}, {r['ci95'][k][1]:.3f}]")
        lines.append(f"| {k} | " + " | ".join(cells) + " |")
    lines += ["", "Diagnostics: distinct 2-vs-2 splits asked after k labels (of 3), and the "
              "mean score of the active pick (BALD in nats, max ln 2 = 0.693, minus the redundancy "
              "penalty when on):", "",
              "| k | seen active | seen random | unseen active | unseen random | score seen | "
              "score unseen |", "|---|---|---|---|---|---|---|"]
    for k in range(1, K_MAX + 1):
        g = result["groups"]
        lines.append(
            f"| {k} | {g['seen']['distinct_splits_asked']['active'][k]:.2f} "
            f"| {g['seen']['distinct_splits_asked']['random'][k]:.2f} "
            f"| {g['unseen']['distinct_splits_asked']['active'][k]:.2f} "
            f"| {g['unseen']['distinct_splits_asked']['random'][k]:.2f} "
            f"| {g['seen']['active_bald_of_pick'][k - 1]:.3f} "
            f"| {g['unseen']['active_bald_of_pick'][k - 1]:.3f} |")
    if "stopping" in result["groups"]["seen"]:
        st = {g: result["groups"][g]["stopping"] for g in ("seen", "unseen")}
        lines += ["", "Stopping signal (active arm; `lookahead_stability` on one test prompt's "
                  "16 responses, the unasked pool pairs as the possible next questions): its "
                  "mean after k labels, and the share of users whose top response is a best one "
                  "for them:", "",
                  "| k | stability seen | top right seen | stability unseen | top right unseen |",
                  "|---|---|---|---|---|"]
        for k in range(K_MAX + 1):
            lines.append(f"| {k} | {st['seen']['mean_stability'][k]:.3f} | "
                         f"{st['seen']['top_right'][k]:.3f} | {st['unseen']['mean_stability'][k]:.3f} "
                         f"| {st['unseen']['top_right'][k]:.3f} |")
        lines += ["", f"A user who stops when the signal first reaches {st['seen']['stop_at']} "
                  "(else at 12):", "",
                  "| group | labels at stop | stopped before 12 | accuracy at stop | at 12 "
                  "| top right at stop | at 12 |", "|---|---|---|---|---|---|---|"]
        for g in ("seen", "unseen"):
            x = st[g]
            lines.append(f"| {g} | {x['labels_at_stop']:.2f} | {100 * x['stopped_before_12']:.0f}% "
                         f"| {x['accuracy_at_stop']:.3f} | {x['accuracy_at_12']:.3f} "
                         f"| {x['top_right_at_stop']:.3f} | {x['top_right_at_12']:.3f} |")
    lines += ["", f"![accuracy vs labels]({name}.png)", "",
              f"Target (>= 30% fewer labels on both groups): "
              f"{'met' if result['target_met'] else 'NOT met'} "
              f"(seen {100 * result['reduction_seen']:.0f}%, unseen "
              f"{100 * result['reduction_unseen']:.0f}%).", ""]
    if name == "active" and folder is not None:
        lines += ["## All variants", "", *variants_table(folder), ""]
    return "\n".join(lines + NOTES.get(name, []))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT / "datasets" / "synthetic-demo")
    parser.add_argument("--cache", type=Path, default=ROOT / "cache")
    parser.add_argument("--run", type=Path, default=ROOT / "runs" / "demo" / "spl")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "results")
    parser.add_argument("--seen-per-type", type=int, default=40)
    parser.add_argument("--unseen", type=int, default=200)
    parser.add_argument("--pool", type=int, default=64)
    parser.add_argument("--pool-source", choices=["train", "survey", "rows"], default="train",
                        help="train: --pool split pairs of the train prompts; survey: the "
                             "dataset's survey pairs (the only contexts the model trained on); "
                             "rows: any two responses of a train prompt, like the dataset's "
                             "rows (--controversial-share of them split the types)")
    parser.add_argument("--controversial-share", type=float, default=0.7,
                        help="rows pool: share of pairs the user types disagree on")
    parser.add_argument("--name", default="active", help="stem of the output files")
    parser.add_argument("--spread", type=float, default=1.0,
                        help="tempering of the posterior samples (select_query's spread)")
    parser.add_argument("--redundancy", type=float, default=0.0,
                        help="select_query's redundancy penalty (0: pure BALD)")
    parser.add_argument("--first", choices=["bald", "random"], default="bald",
                        help="the active arm's first question: the selector's (\"bald\", any --method), or the "
                             "random arm's first pair (as the app, which asks the pack's first)")
    parser.add_argument("--method", choices=["bald", "lookahead"], default="bald",
                        help="select_query's score: BALD on posterior samples, or the "
                             "look-ahead EPIG on the pool")
    parser.add_argument("--eval-pairs", type=int, default=40)
    parser.add_argument("--samples", type=int, default=32)
    parser.add_argument("--answers", choices=["noiseless", "bt"], default="noiseless")
    parser.add_argument("--bootstrap", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--render-only", action="store_true",
                        help="rewrite NAME.md and NAME.png from an existing NAME.json")
    args = parser.parse_args(argv)
    if args.render_only:
        result = json.loads((args.out / f"{args.name}.json").read_text())
        (args.out / f"{args.name}.md").write_text(markdown(result, args.name, args.out))
        plot(result, args.out / f"{args.name}.png")
        return result
    torch.set_num_threads(args.threads)
    rng = random.Random(args.seed)
    model = load_model(args.run).eval()
    card = json.loads((args.data / "dataset.json").read_text())
    attributes = card["attributes"]
    temperature = float(card.get("builder_args", {}).get("temperature", 4.0))
    embed = Embeddings(args.cache, args.run)
    train_rows = _rows(args.data / "train.jsonl")
    responses = _responses(train_rows)
    split_pairs = _split_pairs(responses)
    if args.pool_source == "survey":
        survey = _rows(args.data / "survey.jsonl")
        responses = {r["prompt"]: {tuple(int(v) for v in r["attributes_a"]): r["a"],
                                   tuple(int(v) for v in r["attributes_b"]): r["b"]}
                     for r in survey}
        split_pairs = _split_pairs(responses)
        args.pool = len(split_pairs)
    hot, cold = _any_pairs(responses, card["user_types"], attributes)

    def draw_pool(rng: random.Random) -> list[tuple[str, tuple, tuple]]:
        if args.pool_source != "rows":
            return rng.sample(split_pairs, args.pool)
        n_hot = round(args.controversial_share * args.pool)
        pool = rng.sample(hot, n_hot) + rng.sample(cold, args.pool - n_hot)
        rng.shuffle(pool)
        return pool
    test_rows = _rows(args.data / "test.jsonl")
    unseen_rows = _rows(args.data / "test_unseen.jsonl")
    test_responses = _responses(test_rows + unseen_rows)
    cand_rng = random.Random(args.seed + 1)

    seen_w, seen_eval = [], []
    for t in card["user_types"]:
        w = [1.0 if a == t else 0.0 for a in attributes]
        own = [r for r in test_rows if r.get("user_type") == t]
        for _ in range(args.seen_per_type):
            seen_w.append(w)
            seen_eval.append(_eval_rows(own, w, args.eval_pairs, rng))
    weights_by_user: dict[str, list[float]] = {}
    for r in unseen_rows:
        weights_by_user.setdefault(r["user"], r["user_weights"])
    all_test = test_rows + unseen_rows
    unseen_w = [weights_by_user[u] for u in sorted(weights_by_user)][: args.unseen]
    unseen_eval = [_eval_rows(all_test, w, args.eval_pairs, rng) for w in unseen_w]
    groups = {
        "seen": build_users("seen", seen_w, seen_eval, draw_pool, responses, embed, rng,
                            test_responses, cand_rng),
        "unseen": build_users("unseen", unseen_w, unseen_eval, draw_pool, responses, embed, rng,
                              test_responses, cand_rng),
    }
    result: dict[str, Any] = {"config": {
        "run": str(args.run.relative_to(ROOT) if args.run.is_relative_to(ROOT) else args.run),
        "model": repr(model), "seen_per_type": args.seen_per_type, "unseen": args.unseen,
        "pool": args.pool, "eval_pairs": args.eval_pairs, "samples": args.samples,
        "answers": args.answers, "bootstrap": args.bootstrap, "seed": args.seed,
        "pool_source": args.pool_source, "spread": args.spread,
        "redundancy": args.redundancy, "first": args.first, "method": args.method,
        "split_pairs_available": len(split_pairs),
        **({"controversial_share": args.controversial_share, "pairs_available": len(hot) + len(cold)}
           if args.pool_source == "rows" else {})}, "groups": {}}
    for g, (name, users) in enumerate(groups.items()):
        runs = {order: simulate(model, users, order, args.samples, args.answers, temperature,
                                seed=args.seed * 7 + g, spread=args.spread,
                                redundancy=args.redundancy, first=args.first,
                                method=args.method, stopping=order == "active", chunk=4)
                for order in ("active", "random")}
        summary = summarise(runs["active"]["accuracy"], runs["random"]["accuracy"],
                            args.bootstrap, args.seed)
        summary["distinct_splits_asked"] = {
            order: [round(v, 3) for v in runs[order]["splits"].mean(0).tolist()] for order in runs}
        summary["active_bald_of_pick"] = [round(v, 4) for v in runs["active"]["score"].mean(0).tolist()]
        summary["stopping"] = summarise_stopping(runs["active"])
        summary["per_user_accuracy"] = {  # [U][K_MAX + 1], to recompute any statistic
            order: [[round(v, 4) for v in row] for row in runs[order]["accuracy"].tolist()]
            for order in runs}
        result["groups"][name] = summary
        print(name, json.dumps({k: result["groups"][name][k] for k in (
            "labels_needed", "reduction", "reduction_ci95", "labels_needed_gain",
            "reduction_gain")}), file=sys.stderr)
    result["reduction_seen"] = result["groups"]["seen"]["reduction"]
    result["reduction_unseen"] = result["groups"]["unseen"]["reduction"]
    result["target_met"] = min(result["reduction_seen"], result["reduction_unseen"]) >= 0.3
    result["reduction_gain_seen"] = result["groups"]["seen"]["reduction_gain"]
    result["reduction_gain_unseen"] = result["groups"]["unseen"]["reduction_gain"]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{args.name}.json").write_text(json.dumps(result, indent=1) + "\n")
    (args.out / f"{args.name}.md").write_text(markdown(result, args.name, args.out))
    plot(result, args.out / f"{args.name}.png")
    print(json.dumps({k: result[k] for k in ("reduction_seen", "reduction_unseen", "target_met")}))
    return result


if __name__ == "__main__":
    main()
