"""The synthetic advice dataset: everyday questions whose best answer depends on who asks.

Every prompt (over 200, twelve everyday topics) has 16 responses, one per attribute vector in
{-1, +1}^4 over ``concise``, ``friendly``, ``steps`` and ``cautious`` (see
``synthetic_render``). The same advice is rendered each way, so responses differ in style, not
in correctness, and no response is best for everyone.

Users and labels:

- Discrete types, one per attribute by default: type ``concise`` has weight +1 on ``concise``
  and 0 elsewhere, so it prefers the concise response (+1) and is indifferent to the rest;
  ``friendly`` prefers warm, ``steps`` numbered lists, ``cautious`` safety caveats.
- Continuous unseen users (``test_unseen.jsonl``): weights drawn from a Dirichlet(alpha) over
  the four attributes, i.e. mixtures of the discrete types never seen in training.
- Labels follow Bradley-Terry: ``P(a > b) = sigmoid(temperature * w . (attr_a - attr_b))``,
  then each label flips with probability ``noise``. A pair is ``controversial`` when one
  discrete type strictly prefers one response and another type strictly prefers the other.
- Rows of a discrete type only use pairs that type is not indifferent to; a share
  ``controversial_share`` of all rows is drawn from controversial pairs.

Survey and contexts: by default every type answers the *same* pool of 16 survey pairs from
train prompts (``shared_pool``): with a pool per type, *which* pairs a user was asked would
give the type away before any answer is read, and a model could personalise without looking at
the answers (swap-flip rate 0, one pair as good as eight). Every
survey pair splits the types as evenly as possible (2 vs 2 for four types: each pair's two
responses are opposite on every attribute, two types prefer each side), so one answer never
identifies a type while two answers from different splits do. Pools mix all splits. A
discrete row's context is 2..8 pairs of its pool with the type's noiseless answers, redrawn
until it identifies the type (``contexts.draw_context``). An unseen user answers 2..8 pairs
drawn from the union of all pools with its own noiseless choice (the side its weights
score higher), and all of that user's test rows share this one context.

For active querying (``docs/results/active.md``) two flags widen what the encoder learns from:
``survey_pairs="any"`` draws survey pairs like the rows (any two responses, a
``controversial_share`` of them split the types; a type answers a pair it is indifferent to
with one coin flip), and ``identifying_contexts=False`` keeps every drawn context, including
those that leave several types open (as a visitor's first one or two answers do), so the
posterior learns to hedge there instead of seeing only contexts that settle the type. With
``survey_pairs="any"`` the pool may hold more pairs than there are train prompts (prompts then
repeat). ``mixture_share`` replaces that share of train rows by fresh continuous users, one per
row, each answering its own context like an unseen user.

Prompts are split by prompt (``test_fraction``), so train and test never share a prompt.

``world="population"`` (``--world population``) builds a different world on the same prompts
and the same prompt split: six attributes (adds ``formal`` and ``example``, 64 responses per
prompt), every train user a distinct person with signed weights from a correlated Gaussian
prior, Bradley-Terry answers at temperature 1.2 (a user agrees with their own margin 87.2% of
the time), contexts of 0..12 answers, and held-out users plus four probe personas in
``test.jsonl``; see ``train.data.synthetic_population``. Options whose default is -1
(``temperature``, ``pool_size``, ``min_context``, ``max_context``) take the world's default
(``SyntheticConfig.resolved``); the types world's card is exactly what it was before the
population world existed.
"""

from __future__ import annotations

import dataclasses
import math
import random
from dataclasses import dataclass
from typing import Any, Sequence

from train.data.contexts import Choice, ContextSpec, draw_context
from train.data.schema import BuiltDataset, DatasetError, arg, check_shares
from train.data.synthetic_population import POPULATION_TEMPERATURE
from train.data.synthetic_render import (
    ATTRIBUTES,
    ATTRIBUTES_6,
    COMBOS,
    Advice,
    parse_topic,
    read_topics,
    render,
)

__all__ = ["SyntheticConfig", "all_advice", "build_synthetic", "responses_for"]


@dataclass(frozen=True)
class SyntheticConfig:
    """Arguments of the synthetic builder (also the CLI flags and the card's builder_args)."""

    train_rows: int = arg(8000, "rows of the discrete types in train.jsonl, spread evenly over types")
    test_rows: int = arg(1000, "rows of the discrete types in test.jsonl (test prompts only)")
    unseen_users: int = arg(200, "continuous users in test_unseen.jsonl (0: no such file)")
    rows_per_unseen_user: int = arg(5, "test rows per unseen user, all sharing its context")
    types: tuple[str, ...] = arg(ATTRIBUTES, "attributes that get a discrete user type each (comma-separated)")
    temperature: float = arg(-1.0, "Bradley-Terry sharpness (-1: the world's default). Types world: 4.0, where a discrete type is 99.9% consistent and an unseen user's label agrees with the sign of its margin 87% of the time (2.0: 75%). Population world: 1.2, where a user agrees with their own margin 87.2% of the time (Monte Carlo over prior users and random pairs)")
    noise: float = arg(0.0, "probability of flipping each label after the Bradley-Terry draw")
    controversial_share: float = arg(0.7, "share of rows drawn from pairs the types disagree on")
    test_fraction: float = arg(0.15, "share of prompts held out for test and unseen users")
    pool_size: int = arg(-1, "survey pairs per user type (-1: 16); population world: survey pairs of any kind on train prompts, prompts repeating (-1: 2000)")
    shared_pool: bool = arg(True, "all types answer one shared survey pool (else one pool per type, whose pair ids leak the type)")
    survey_pairs: str = arg("balanced", "balanced: every survey pair splits the types as evenly as possible; any: survey pairs are drawn like the rows (controversial_share of them split the types, the rest do not), and a type answers a pair it is indifferent to with a coin flip")
    mixture_share: float = arg(0.0, "share of train rows from continuous users (fresh Dirichlet weights per row, like the unseen users', answering their own survey context) instead of the discrete types; test rows stay discrete")
    identifying_contexts: bool = arg(True, "redraw a type's context until it identifies the type (False: any draw of min..max pairs, so the model also learns from contexts that leave several types open, as after a visitor's first answers)")
    min_context: int = arg(-1, "fewest survey answers in a context (-1: 2; population world: -1 is 0, and 0 gives empty contexts)")
    max_context: int = arg(-1, "most survey answers in a context (-1: 8; population world: -1 is 12, the answers each user gives, all of them in every test row)")
    dirichlet_alpha: float = arg(1.0, "concentration of unseen users' weights (1.0: uniform)")
    world: str = arg("types", "types: the four-attribute world above (discrete types, Dirichlet unseen users); population: six attributes (adds formal, example), every train user a distinct person with signed, correlated weights, held-out users and four probe personas in test.jsonl (train.data.synthetic_population); train_rows, test_rows, unseen_users, rows_per_unseen_user, types, noise, controversial_share, shared_pool, survey_pairs, mixture_share, identifying_contexts and dirichlet_alpha are types-world options")
    population_users: int = arg(6000, "population world: distinct train users (pop-000000..)")
    rows_per_user: int = arg(8, "population world: train rows per train user, each with its own random subset of the user's answers as context")
    heldout_users: int = arg(500, "population world: fresh users from the same prior in test.jsonl (heldout-0000..), answering test prompts")
    rows_per_heldout_user: int = arg(10, "population world: test rows per held-out user and per persona instance, all sharing that user's full context")
    persona_users: int = arg(25, "population world: instances per probe persona in test.jsonl (persona-concise-01..)")
    persona_scale: float = arg(0.8, "population world: a probe persona's weight on its attribute (0 elsewhere); 0.8 at temperature 1.2 agrees with itself 87% of the time on pairs that differ in its attribute")
    seed: int = arg(0, "everything is a function of this seed")

    def __post_init__(self) -> None:
        if self.world not in _WORLD_DEFAULTS:
            raise DatasetError(f"world must be 'types' or 'population', got {self.world!r}")
        auto = {k: v if getattr(self, k) == -1 else getattr(self, k)
                for k, v in _WORLD_DEFAULTS[self.world].items()}
        unknown = [t for t in self.types if t not in ATTRIBUTES]
        if unknown or len(set(self.types)) != len(self.types) or len(self.types) < 2:
            raise DatasetError(
                f"types must be 2 or more distinct attributes of {list(ATTRIBUTES)}, got "
                f"{list(self.types)}"
            )
        check_shares(self, closed=("noise", "controversial_share", "test_fraction", "mixture_share"))
        if min(self.train_rows, self.test_rows, self.unseen_users, self.rows_per_unseen_user) < 0:
            raise DatasetError("row and user counts must be >= 0")
        if auto["temperature"] <= 0:
            raise DatasetError(f"temperature must be > 0 (or -1: the world's default), got {self.temperature}")
        if self.survey_pairs not in ("balanced", "any"):
            raise DatasetError(f"survey_pairs must be 'balanced' or 'any', got {self.survey_pairs!r}")
        if self.world == "types":
            ContextSpec(auto["min_context"], auto["max_context"])
            return
        ContextSpec(auto["min_context"], auto["max_context"], allow_empty=True)
        counts = ("population_users", "rows_per_user", "heldout_users", "rows_per_heldout_user",
                  "persona_users")
        if min(getattr(self, name) for name in counts) < 0:
            raise DatasetError(f"{', '.join(counts)} must be >= 0")
        if self.population_users < 1 or self.rows_per_user < 1:
            raise DatasetError("the population world needs population_users >= 1 and rows_per_user >= 1")
        if self.rows_per_heldout_user < 1 or self.heldout_users + self.persona_users < 1:
            raise DatasetError("the population world needs test rows: rows_per_heldout_user >= 1 and "
                               "heldout_users or persona_users >= 1")
        if auto["pool_size"] < auto["max_context"]:
            raise DatasetError(f"pool_size ({auto['pool_size']}) must be at least max_context "
                               f"({auto['max_context']}): every user answers max_context survey pairs")
        if self.noise:
            raise DatasetError("noise is a types-world option: population answers are plain "
                               "Bradley-Terry draws (lower or raise --temperature instead)")
        if self.persona_scale <= 0:
            raise DatasetError(f"persona_scale must be > 0, got {self.persona_scale}")

    def resolved(self) -> "SyntheticConfig":
        """This config with every -1 (the world's default) replaced by its value."""
        return dataclasses.replace(self, **{k: v for k, v in _WORLD_DEFAULTS[self.world].items()
                                            if getattr(self, k) == -1})


# The options whose default (-1) depends on the world.
_WORLD_DEFAULTS: dict[str, dict[str, Any]] = {
    "types": {"temperature": 4.0, "pool_size": 16, "min_context": 2, "max_context": 8},
    "population": {"temperature": POPULATION_TEMPERATURE, "pool_size": 2000, "min_context": 0,
                   "max_context": 12},
}
# Population-world options: left out of a types-world card, so its builder_args stay as before.
_POPULATION_FIELDS = ("world", "population_users", "rows_per_user", "heldout_users",
                      "rows_per_heldout_user", "persona_users", "persona_scale")


TOPIC_FILES = ("home.txt", "life.txt", "work.txt")
"""The content files in ``train/data/topics/``, in the order their prompts are numbered."""


def all_advice() -> list[Advice]:
    """Every prompt's content, in a fixed order (the topic files are read on first use)."""
    from importlib.resources import files

    out: list[Advice] = []
    for name in TOPIC_FILES:
        text = files("train.data").joinpath("topics", name).read_text(encoding="utf-8")
        for topic, entries in read_topics(text).items():
            out.extend(parse_topic(topic, entries))
    return out


def responses_for(advice: Advice) -> list[str]:
    """The 16 responses of one prompt, indexed like ``COMBOS``."""
    return [render(advice, combo) for combo in COMBOS]


def _margin(weights: Sequence[float], x: int, y: int) -> float:
    return sum(w * (a - b) for w, a, b in zip(weights, COMBOS[x], COMBOS[y]))


def _type_weights(types: Sequence[str]) -> dict[str, list[float]]:
    return {t: [1.0 if a == t else 0.0 for a in ATTRIBUTES] for t in types}


def _pair_prefs(types: Sequence[str]) -> dict[tuple[int, int], dict[str, int]]:
    """For each response pair (i < j): each type's strict preference, +1 for i, -1 for j, 0 tie."""
    weights = _type_weights(types)
    prefs = {}
    for i in range(len(COMBOS)):
        for j in range(i + 1, len(COMBOS)):
            prefs[(i, j)] = {t: (m > 0) - (m < 0) for t in types for m in [_margin(weights[t], i, j)]}
    return prefs


def _is_controversial(pref: dict[str, int]) -> bool:
    return 1 in pref.values() and -1 in pref.values()


class _Sampler:
    """Draws labelled rows; holds the rendered texts and the pair catalogue (no I/O)."""

    def __init__(self, cfg: SyntheticConfig, advice: list[Advice], rng: random.Random):
        self.cfg, self.advice, self.rng = cfg, advice, rng
        self.texts = [responses_for(a) for a in advice]
        self.prefs = _pair_prefs(cfg.types)
        self.controversial = {p for p, pref in self.prefs.items() if _is_controversial(pref)}
        self._groups: dict[tuple[float, ...], tuple[list, list]] = {}
        self._groups_any: dict[str, tuple[list, list]] = {}

    def pick_pair(self, weights: Sequence[float]) -> tuple[int, int]:
        """A pair the user is not indifferent to, controversial with the configured share."""
        key = tuple(weights)
        if key not in self._groups:
            usable = [p for p in self.prefs if abs(_margin(weights, *p)) > 1e-12]
            self._groups[key] = ([p for p in usable if p in self.controversial],
                                 [p for p in usable if p not in self.controversial])
        hot, cold = self._groups[key]
        want_hot = self.rng.random() < self.cfg.controversial_share
        group = hot if (want_hot and hot) or not cold else cold
        return self.rng.choice(group)

    def pick_any_pair(self) -> tuple[int, int]:
        """Any pair of two different responses, controversial with the configured share."""
        if "any" not in self._groups_any:
            self._groups_any["any"] = (sorted(self.controversial),
                                       [p for p in self.prefs if p not in self.controversial])
        hot, cold = self._groups_any["any"]
        return self.rng.choice(hot if self.rng.random() < self.cfg.controversial_share else cold)

    def row(self, prompt: int, pair: tuple[int, int], weights: Sequence[float]) -> dict[str, Any]:
        """One labelled row (chosen first): Bradley-Terry draw, then label noise."""
        x, y = pair if self.rng.random() < 0.5 else pair[::-1]
        p_x = 1.0 / (1.0 + math.exp(-self.cfg.temperature * _margin(weights, x, y)))
        x_wins = self.rng.random() < p_x
        if self.rng.random() < self.cfg.noise:
            x_wins = not x_wins
        win, lose = (x, y) if x_wins else (y, x)
        return {
            "prompt": self.advice[prompt].prompt,
            "chosen": self.texts[prompt][win],
            "rejected": self.texts[prompt][lose],
            "controversial": tuple(sorted(pair)) in self.controversial,
            "user_weights": [float(w) for w in weights],
            "attributes_chosen": [float(v) for v in COMBOS[win]],
            "attributes_rejected": [float(v) for v in COMBOS[lose]],
        }


def _survey(
    sampler: _Sampler, prompts: list[int]
) -> tuple[list[dict[str, Any]], dict[str, list[str]], dict[str, dict[str, Choice]]]:
    """Per type a pool of balanced survey pairs; returns rows, pools and noiseless answers."""
    cfg, rng, types = sampler.cfg, sampler.rng, sampler.cfg.types
    half = {len(types) // 2, (len(types) + 1) // 2}
    splits: dict[frozenset[str], list[tuple[int, int]]] = {}
    for pair, pref in sampler.prefs.items():
        if 0 not in pref.values() and sum(v > 0 for v in pref.values()) in half:
            side = frozenset(t for t in types if pref[t] == pref[types[0]])
            splits.setdefault(side, []).append(pair)
    owners = ["shared"] if cfg.shared_pool else list(types)
    need = cfg.pool_size * len(owners)
    if len(prompts) < need and cfg.survey_pairs == "balanced":
        raise DatasetError(
            f"{len(prompts)} train prompts cannot hold {len(types)} pools of {cfg.pool_size} "
            "distinct survey prompts; lower --pool-size or --test-fraction (or use "
            "--survey-pairs any, whose pairs may share a prompt)"
        )
    free = rng.sample(prompts, len(prompts))
    if len(free) < need:  # survey_pairs="any": more pairs than prompts, so prompts repeat
        free = [prompts[k % len(prompts)] for k in range(need - len(free))] + free
    weights = _type_weights(types)
    rows, pools = [], {}
    answers: dict[str, dict[str, Choice]] = {t: {} for t in types}
    for kind in owners:
        order = sorted(splits, key=sorted)
        rng.shuffle(order)
        pools[kind] = []
        for k in range(cfg.pool_size):
            prompt = free.pop()
            if cfg.survey_pairs == "balanced":
                x, y = rng.choice(splits[order[k % len(order)]])
            else:
                x, y = sampler.pick_any_pair()
            x, y = (x, y) if rng.random() < 0.5 else (y, x)
            sid = f"{kind}-{k:02d}"
            rows.append({
                "id": sid,
                "prompt": sampler.advice[prompt].prompt,
                "a": sampler.texts[prompt][x],
                "b": sampler.texts[prompt][y],
                "attributes_a": [float(v) for v in COMBOS[x]],
                "attributes_b": [float(v) for v in COMBOS[y]],
                **({} if cfg.shared_pool else {"user_type": kind}),
            })
            pools[kind].append(sid)
            for t in types:
                margin = _margin(weights[t], x, y)
                a_wins = rng.random() < 0.5 if margin == 0 else margin > 0  # indifferent: a coin
                answers[t][sid] = "a" if a_wins else "b"
    if cfg.shared_pool:
        pools = {t: pools["shared"] for t in types}
    return rows, pools, answers


def _dirichlet(cfg: SyntheticConfig, rng: random.Random) -> list[float]:
    draws = [rng.gammavariate(cfg.dirichlet_alpha, 1.0) for _ in ATTRIBUTES]
    return [d / sum(draws) for d in draws]


def _own_answers(weights: Sequence[float], survey: list[dict[str, Any]]) -> dict[str, Choice]:
    """A continuous user's noiseless survey answers: the side its weights score higher."""
    return {row["id"]: "a" if sum(w * (a - b) for w, a, b in zip(
        weights, row["attributes_a"], row["attributes_b"])) >= 0 else "b" for row in survey}


def _mixture_row(sampler, k, prompts, survey, spec) -> dict[str, Any]:
    """One train row of a fresh continuous user (``mixture_share``)."""
    weights = _dirichlet(sampler.cfg, sampler.rng)
    context = draw_context(sorted(r["id"] for r in survey), _own_answers(weights, survey),
                           sampler.rng, spec)
    row = sampler.row(sampler.rng.choice(prompts), sampler.pick_any_pair(), weights)
    return {"user": f"mixture-{k:06d}", "user_type": None, "context": context, **row}


def _typed_rows(sampler, n_rows, prompts, pools, answers, spec, progress,
                survey=None) -> list[dict[str, Any]]:
    cfg, rng = sampler.cfg, sampler.rng
    weights = _type_weights(cfg.types)
    out = []
    for k in progress(range(n_rows)):
        if survey is not None and cfg.mixture_share and rng.random() < cfg.mixture_share:
            out.append(_mixture_row(sampler, k, prompts, survey, spec))
            continue
        kind = cfg.types[k % len(cfg.types)]
        row = sampler.row(rng.choice(prompts), sampler.pick_pair(weights[kind]), weights[kind])
        context = draw_context(pools[kind], answers[kind], rng, spec,
                               answers=answers if cfg.identifying_contexts else None, user_type=kind)
        out.append({"user": kind, "user_type": kind, "context": context, **row})
    return out


def _unseen_rows(sampler, prompts, survey, spec) -> list[dict[str, Any]]:
    cfg, rng = sampler.cfg, sampler.rng
    out = []
    for u in range(cfg.unseen_users):
        weights = _dirichlet(cfg, rng)
        context = draw_context(sorted(r["id"] for r in survey), _own_answers(weights, survey), rng, spec)
        for _ in range(cfg.rows_per_unseen_user):
            row = sampler.row(rng.choice(prompts), sampler.pick_pair(weights), weights)
            out.append({"user": f"unseen-{u:04d}", "user_type": None, "context": context, **row})
    return out


def build_synthetic(cfg: SyntheticConfig = SyntheticConfig(), *, progress: bool = False) -> BuiltDataset:
    """Build the synthetic dataset (pure: a function of ``cfg``; ``progress`` shows a bar)."""
    if progress:
        from tqdm import tqdm

        def bar(items, desc="synthetic rows", unit="row"):
            return tqdm(items, desc=desc, unit=unit)
    else:
        def bar(items, desc="", unit=""):
            return items
    cfg = cfg.resolved()
    rng = random.Random(cfg.seed)
    advice = all_advice()
    order = rng.sample(range(len(advice)), len(advice))
    n_test = max(1, round(cfg.test_fraction * len(advice)))
    test_prompts, train_prompts = sorted(order[:n_test]), sorted(order[n_test:])
    if cfg.world == "population":
        return _build_population(cfg, advice, rng, train_prompts, test_prompts, bar)
    sampler = _Sampler(cfg, advice, rng)
    spec = ContextSpec(cfg.min_context, cfg.max_context)
    survey, pools, answers = _survey(sampler, train_prompts)
    splits = {
        "train": _typed_rows(sampler, cfg.train_rows, train_prompts, pools, answers, spec, bar,
                             survey=survey),
        "test": _typed_rows(sampler, cfg.test_rows, test_prompts, pools, answers, spec, bar),
        "survey": survey,
    }
    if cfg.unseen_users:
        splits["test_unseen"] = _unseen_rows(sampler, test_prompts, survey, spec)
    card = {
        "name": "synthetic",
        "source": "train.data.synthetic: rendered everyday advice with Bradley-Terry labels",
        "user_types": list(cfg.types),
        "attributes": list(ATTRIBUTES),
        "counts": {},
        "seed": cfg.seed,
        "context_sizes": spec.sizes(),
        "builder_args": _builder_args(cfg),
        "notes": (
            f"{len(advice)} prompts over {len({a.topic for a in advice})} topics, "
            f"{len(train_prompts)} train / {len(test_prompts)} test (disjoint); 16 responses "
            "each, attributes in {-1,+1} (+1 = concise, friendly, numbered steps, cautious). "
            "Type t has weight 1 on attribute t; unseen users have Dirichlet weights. "
            + ("Survey pairs split the types evenly" if cfg.survey_pairs == "balanced"
               else "Survey pairs are drawn like the rows")
            + ("; contexts identify exactly one type." if cfg.identifying_contexts
               else "; contexts may leave several types open.")
            + (f" A share {cfg.mixture_share:g} of train rows comes from continuous users (one "
               "fresh Dirichlet user per row)." if cfg.mixture_share else "")
        ),
    }
    return BuiltDataset(card, splits)


def _builder_args(cfg: SyntheticConfig) -> dict[str, Any]:
    """The card's builder_args: the resolved config (types world: without population options)."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(cfg).items()
            if cfg.world == "population" or k not in _POPULATION_FIELDS}


def _build_population(cfg, advice, rng, train_prompts, test_prompts, bar) -> BuiltDataset:
    from train.data.synthetic_population import PERSONAS, build_population

    splits, world = build_population(cfg, advice, rng, train_prompts, test_prompts, bar)
    card = {
        "name": "synthetic",
        "source": "train.data.synthetic (population world): rendered everyday advice, a "
                  "population of users with correlated signed weights, Bradley-Terry answers",
        "user_types": [*PERSONAS, "heldout"],
        "attributes": list(ATTRIBUTES_6),
        "counts": {},
        "seed": cfg.seed,
        "context_sizes": [cfg.min_context, cfg.max_context],
        "builder_args": _builder_args(cfg),
        "world": world,
        "notes": (
            f"{len(advice)} prompts over {len({a.topic for a in advice})} topics, "
            f"{len(train_prompts)} train / {len(test_prompts)} test (disjoint); 64 responses "
            "each, attributes in {-1,+1} (+1 = concise, friendly, numbered steps, cautious, "
            f"formal, worked example). {cfg.population_users} train users with weights from "
            "N(0, world.prior_cov) (signed, correlated), answers are Bradley-Terry draws at "
            f"temperature {cfg.temperature:g} (self-agreement {world['self_agreement']:.3f}). "
            f"Train contexts: {cfg.min_context}..{cfg.max_context} of the user's "
            f"{cfg.max_context} answers. test.jsonl: {cfg.heldout_users} held-out users "
            f"(user_type heldout) and {cfg.persona_users} instances of each of {len(PERSONAS)} "
            f"probe personas (weight {cfg.persona_scale:g} on one attribute), each with all "
            f"{cfg.max_context} answers as context, in the order asked, on test prompts. "
            "user_weights are the oracle's weights over the six attributes."
        ),
    }
    return BuiltDataset(card, splits)
