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
import random
import sys
from pathlib import Path
from typing import Any, Callable

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.active_report import VARIANTS, markdown, plot, variants_table  # noqa: E402
from bench.active_simulate import (  # noqa: E402
    K_MAX,
    Embeddings,
    Users,
    any_pairs_of,
    build_users,
    eval_rows_for,
    read_rows,
    responses_of,
    simulate,
    split_pairs_of,
)
from bench.active_summarise import labels_needed, summarise, summarise_stopping, target_of  # noqa: E402
from spl_model import RewardModel, load_model  # noqa: E402

__all__ = ["K_MAX", "VARIANTS", "Users", "labels_needed", "main", "markdown", "plot", "simulate",
           "summarise", "summarise_stopping", "target_of", "variants_table"]

Pair = tuple[str, tuple, tuple]


def _parser() -> argparse.ArgumentParser:
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
    return parser


def _render_only(args: argparse.Namespace) -> dict[str, Any]:
    """Rewrite NAME.md and NAME.png from an existing NAME.json."""
    result = json.loads((args.out / f"{args.name}.json").read_text())
    (args.out / f"{args.name}.md").write_text(markdown(result, args.name, args.out))
    plot(result, args.out / f"{args.name}.png")
    return result


def _pools(args: argparse.Namespace, card: dict[str, Any]) -> tuple[dict, list[Pair], list, list]:
    """The train prompts' responses by attributes, the pairs splitting the types 2 vs 2, and
    the any-pair pools (pairs the types disagree on, and the rest); ``--pool-source survey``
    takes the dataset's survey pairs instead (and ``--pool`` becomes their number)."""
    responses = responses_of(read_rows(args.data / "train.jsonl"))
    split_pairs = split_pairs_of(responses)
    if args.pool_source == "survey":
        survey = read_rows(args.data / "survey.jsonl")
        responses = {r["prompt"]: {tuple(int(v) for v in r["attributes_a"]): r["a"],
                                   tuple(int(v) for v in r["attributes_b"]): r["b"]}
                     for r in survey}
        split_pairs = split_pairs_of(responses)
        args.pool = len(split_pairs)
    hot, cold = any_pairs_of(responses, card["user_types"], card["attributes"])
    return responses, split_pairs, hot, cold


def _pool_drawer(args: argparse.Namespace, split_pairs: list[Pair], hot: list,
                 cold: list) -> Callable[[random.Random], list[Pair]]:
    def draw_pool(rng: random.Random) -> list[Pair]:
        if args.pool_source != "rows":
            return rng.sample(split_pairs, args.pool)
        n_hot = round(args.controversial_share * args.pool)
        pool = rng.sample(hot, n_hot) + rng.sample(cold, args.pool - n_hot)
        rng.shuffle(pool)
        return pool
    return draw_pool


def _participants(args: argparse.Namespace, card: dict[str, Any], responses: dict,
                  draw_pool: Callable[[random.Random], list[Pair]], embed: Embeddings,
                  rng: random.Random) -> dict[str, Users]:
    """The seen-type users (``--seen-per-type`` of each type) and the unseen continuous ones,
    each with held-out pairs on the test prompts and a pool drawn by ``draw_pool``."""
    attributes = card["attributes"]
    test_rows = read_rows(args.data / "test.jsonl")
    unseen_rows = read_rows(args.data / "test_unseen.jsonl")
    test_responses = responses_of(test_rows + unseen_rows)
    cand_rng = random.Random(args.seed + 1)
    seen_w, seen_eval = [], []
    for t in card["user_types"]:
        w = [1.0 if a == t else 0.0 for a in attributes]
        own = [r for r in test_rows if r.get("user_type") == t]
        for _ in range(args.seen_per_type):
            seen_w.append(w)
            seen_eval.append(eval_rows_for(own, w, args.eval_pairs, rng))
    weights_by_user: dict[str, list[float]] = {}
    for r in unseen_rows:
        weights_by_user.setdefault(r["user"], r["user_weights"])
    all_test = test_rows + unseen_rows
    unseen_w = [weights_by_user[u] for u in sorted(weights_by_user)][: args.unseen]
    unseen_eval = [eval_rows_for(all_test, w, args.eval_pairs, rng) for w in unseen_w]
    return {
        "seen": build_users("seen", seen_w, seen_eval, draw_pool, responses, embed, rng,
                            test_responses, cand_rng),
        "unseen": build_users("unseen", unseen_w, unseen_eval, draw_pool, responses, embed, rng,
                              test_responses, cand_rng),
    }


def _config(args: argparse.Namespace, model: RewardModel, n_split: int,
            n_any: int) -> dict[str, Any]:
    return {
        "run": str(args.run.relative_to(ROOT) if args.run.is_relative_to(ROOT) else args.run),
        "model": repr(model), "seen_per_type": args.seen_per_type, "unseen": args.unseen,
        "pool": args.pool, "eval_pairs": args.eval_pairs, "samples": args.samples,
        "answers": args.answers, "bootstrap": args.bootstrap, "seed": args.seed,
        "pool_source": args.pool_source, "spread": args.spread,
        "redundancy": args.redundancy, "first": args.first, "method": args.method,
        "split_pairs_available": n_split,
        **({"controversial_share": args.controversial_share, "pairs_available": n_any}
           if args.pool_source == "rows" else {})}


def _run_group(args: argparse.Namespace, model: RewardModel, users: Users, temperature: float,
               g: int) -> dict[str, Any]:
    """Both arms on one group of users, and their summary."""
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
    return summary


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = _parser().parse_args(argv)
    if args.render_only:
        return _render_only(args)
    torch.set_num_threads(args.threads)
    rng = random.Random(args.seed)
    model = load_model(args.run).eval()
    card = json.loads((args.data / "dataset.json").read_text())
    temperature = float(card.get("builder_args", {}).get("temperature", 4.0))
    embed = Embeddings(args.cache, args.run)
    responses, split_pairs, hot, cold = _pools(args, card)
    groups = _participants(args, card, responses, _pool_drawer(args, split_pairs, hot, cold),
                           embed, rng)
    result: dict[str, Any] = {"config": _config(args, model, len(split_pairs),
                                                len(hot) + len(cold)), "groups": {}}
    for g, (name, users) in enumerate(groups.items()):
        result["groups"][name] = _run_group(args, model, users, temperature, g)
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
