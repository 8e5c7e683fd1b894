"""The synthetic builder's population world: every user a distinct person with signed weights.

Selected with ``SyntheticConfig(world="population")`` (``--world population``); the builder in
``train.data.synthetic`` splits the prompts and then hands over to ``build_population``.

- **Responses.** Each prompt has 64 responses, one per attribute vector in {-1, +1}^6 over
  ``ATTRIBUTES_6`` = concise, friendly, steps, cautious, formal, example (``render6``).
- **Users.** A user is a weight vector w over the six attributes, drawn from the population
  prior N(mu, Sigma): a small shared taste ``SHARED_TASTE`` as mean, unit variances and the correlations in ``CORRELATIONS`` (concise ~ example
  -0.4: who wants it short rarely wants the worked example; friendly ~ formal -0.4; steps ~
  example +0.2; cautious ~ formal +0.2; eigenvalues 0.55..1.45, so Sigma is positive
  definite). Weights are signed: a user may prefer long, plain, unstructured answers.
- **Answers.** Every answer, target rows and survey answers alike, is one Bradley-Terry draw on
  the user's own weights, P(a > b) = sigmoid(T * w . (attr_a - attr_b)), with no extra label
  noise. T = ``POPULATION_TEMPERATURE`` = 1.2 makes a user agree with the sign of their own
  margin E[max(p, 1 - p)] = 0.872 of the time, over prior users and uniformly random pairs
  (Monte Carlo, ``self_agreement``; 0.87 at T = 1.22). The card's ``world.self_agreement`` is
  the same expectation measured on the train rows actually drawn.
- **Pairs.** Rows and survey pairs are uniform over ordered pairs of two different responses of
  one prompt (64 x 63). A pair is ``controversial`` when the four probe personas' noiseless
  preferences disagree on it (one strictly prefers a, another strictly prefers b).
- **Survey.** ``pool_size`` pairs (2000 by default) on train prompts; prompts repeat, each
  about equally often.
- **Train** (``train.jsonl``): ``population_users`` users ``pop-000000``.. (user_type null),
  each asked ``max_context`` (12) survey pairs in a random order; each of their
  ``rows_per_user`` rows on train prompts carries a uniformly random subset of those answers
  of uniform size ``min_context``..``max_context`` (0..12: empty contexts are rows too), kept
  in the order asked.
- **Test** (``test.jsonl``, test prompts only, disjoint from train and survey prompts):
  ``heldout_users`` fresh prior users ``heldout-0000``.. (user_type ``heldout``) and, per probe
  persona, ``persona_users`` instances ``persona-concise-01``.. (user_type
  ``persona-concise``). Each answers ``max_context`` survey pairs; every row of that user
  carries the full list in the order asked (first answer first), so the first k items are the
  user's first k answers. Each has ``rows_per_heldout_user`` rows.
- **Personas.** ``persona-concise``, ``-friendly``, ``-steps``, ``-cautious``: weight
  ``persona_scale`` (0.8) on their attribute and 0 elsewhere. At T = 1.2 a persona agrees with
  its own preference sigmoid(2 * 0.8 * 1.2) = 0.872 of the time on pairs that differ in its
  attribute, like a population user (0.872); it is indifferent (a coin) on the others, so over
  all random pairs it agrees 0.69 of the time.

The card's ``world`` object holds everything a Bayes computation needs: the prior (mean and
covariance), the temperature, the personas' weights, the pair distribution and the answer model.
There is no ``test_unseen.jsonl``: held-out users are in ``test.jsonl``.
"""

from __future__ import annotations

import math
import random
from typing import TYPE_CHECKING, Any, Callable, Sequence

from train.data.synthetic_render import ATTRIBUTES, ATTRIBUTES_6, COMBOS_6, Advice, render6

if TYPE_CHECKING:
    from train.data.synthetic import SyntheticConfig

__all__ = [
    "CORRELATIONS",
    "SHARED_TASTE",
    "PERSONAS",
    "POPULATION_TEMPERATURE",
    "build_population",
    "prior_mean",
    "controversial_pairs",
    "persona_weights",
    "prior_cholesky",
    "prior_cov",
    "responses6_for",
    "sample_weights",
    "self_agreement",
]

# Off-diagonal correlations of the population prior (unit variances elsewhere 0).
# What most people share: a small mean preference for a worked example, numbered steps and a
# caution, and against a stiff formal register. It gives the unpersonalised model (BTL)
# something real to learn, as in any real population; every user still varies around it by
# one standard deviation per attribute, so many prefer the opposite.
SHARED_TASTE: dict[str, float] = {"example": 0.4, "steps": 0.3, "cautious": 0.2, "formal": -0.3}

CORRELATIONS: dict[tuple[str, str], float] = {
    ("concise", "example"): -0.4,
    ("friendly", "formal"): -0.4,
    ("steps", "example"): 0.2,
    ("cautious", "formal"): 0.2,
}
# Bradley-Terry sharpness: mean self-agreement 0.872 over prior users and random pairs.
POPULATION_TEMPERATURE = 1.2
# The four probe personas (user_type), one per attribute of the four-attribute world.
PERSONAS: tuple[str, ...] = tuple(f"persona-{a}" for a in ATTRIBUTES)


def prior_cov() -> list[list[float]]:
    """Sigma: the population prior's 6 x 6 covariance, in ``ATTRIBUTES_6`` order."""
    n = len(ATTRIBUTES_6)
    cov = [[1.0 if i == j else 0.0 for j in range(n)] for i in range(n)]
    for (a, b), rho in CORRELATIONS.items():
        i, j = ATTRIBUTES_6.index(a), ATTRIBUTES_6.index(b)
        cov[i][j] = cov[j][i] = rho
    return cov


def prior_cholesky(cov: Sequence[Sequence[float]] | None = None) -> list[list[float]]:
    """Lower-triangular L with L L^T = cov (raises ``ValueError`` if cov is not positive definite)."""
    cov = prior_cov() if cov is None else cov
    n = len(cov)
    low = [[0.0] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1):
            s = cov[i][j] - sum(low[i][k] * low[j][k] for k in range(j))
            if i == j:
                if s <= 0:
                    raise ValueError("covariance is not positive definite")
                low[i][i] = math.sqrt(s)
            else:
                low[i][j] = s / low[j][j]
    return low


def prior_mean() -> list[float]:
    """mu: the population prior's mean, in ``ATTRIBUTES_6`` order (``SHARED_TASTE``)."""
    return [SHARED_TASTE.get(a, 0.0) for a in ATTRIBUTES_6]


def sample_weights(rng: random.Random, chol: Sequence[Sequence[float]]) -> list[float]:
    """One user's weights w = mu + L z, z ~ N(0, I), rounded to 6 decimals (used as rounded)."""
    z = [rng.gauss(0.0, 1.0) for _ in chol]
    return [round(m + sum(row[k] * z[k] for k in range(i + 1)), 6)
            for i, (m, row) in enumerate(zip(prior_mean(), chol))]


def persona_weights(scale: float) -> dict[str, list[float]]:
    """Each probe persona's weights: ``scale`` on its attribute, 0 elsewhere."""
    return {p: [float(scale) if a == p[len("persona-"):] else 0.0 for a in ATTRIBUTES_6]
            for p in PERSONAS}


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _margin(weights: Sequence[float], x: int, y: int) -> float:
    return sum(w * (a - b) for w, a, b in zip(weights, COMBOS_6[x], COMBOS_6[y]))


def _any_pair(rng: random.Random) -> tuple[int, int]:
    """Uniform over ordered pairs of two different responses (indices into ``COMBOS_6``)."""
    x = rng.randrange(len(COMBOS_6))
    y = rng.randrange(len(COMBOS_6) - 1)
    return x, y + (y >= x)


def self_agreement(temperature: float = POPULATION_TEMPERATURE, n: int = 100_000,
                   seed: int = 0) -> float:
    """Monte Carlo E[max(p, 1 - p)] over prior users and uniformly random pairs."""
    rng, chol = random.Random(seed), prior_cholesky()
    total = 0.0
    for _ in range(n):
        p = _sigmoid(temperature * _margin(sample_weights(rng, chol), *_any_pair(rng)))
        total += max(p, 1.0 - p)
    return total / n


def responses6_for(advice: Advice) -> list[str]:
    """The 64 responses of one prompt, indexed like ``COMBOS_6``."""
    return [render6(advice, combo) for combo in COMBOS_6]


def controversial_pairs() -> set[tuple[int, int]]:
    """Index pairs (i < j) into ``COMBOS_6`` on which the personas' noiseless preferences
    disagree: one persona strictly prefers i and another strictly prefers j."""
    k = len(ATTRIBUTES)
    out = set()
    for i in range(len(COMBOS_6)):
        for j in range(i + 1, len(COMBOS_6)):
            d = [a - b for a, b in zip(COMBOS_6[i][:k], COMBOS_6[j][:k])]
            if any(v > 0 for v in d) and any(v < 0 for v in d):
                out.add((i, j))
    return out


class _World:
    """Draws users, answers and rows of the population world (no I/O)."""

    def __init__(self, cfg: "SyntheticConfig", advice: list[Advice], rng: random.Random):
        self.cfg, self.advice, self.rng = cfg, advice, rng
        self.temperature = cfg.temperature
        self.texts: dict[int, list[str]] = {}
        self.controversial = controversial_pairs()
        self.chol = prior_cholesky()
        self.agreement_sum, self.agreement_n = 0.0, 0

    def text(self, prompt: int, combo: int) -> str:
        if prompt not in self.texts:
            self.texts[prompt] = responses6_for(self.advice[prompt])
        return self.texts[prompt][combo]

    def a_wins(self, weights: Sequence[float], x: int, y: int) -> tuple[bool, float]:
        """One Bradley-Terry draw of ``x`` over ``y``; also returns P(x > y)."""
        p = _sigmoid(self.temperature * _margin(weights, x, y))
        return self.rng.random() < p, p

    def survey(self, prompts: list[int]) -> list[dict[str, Any]]:
        rng, n = self.rng, self.cfg.pool_size
        order: list[int] = []
        while len(order) < n:  # every train prompt once per round, in a fresh order each round
            order.extend(rng.sample(prompts, len(prompts)))
        rows = []
        for k in range(n):
            prompt = order[k]
            x, y = _any_pair(rng)
            rows.append({
                "id": f"survey-{k:04d}",
                "prompt": self.advice[prompt].prompt,
                "a": self.text(prompt, x),
                "b": self.text(prompt, y),
                "attributes_a": [float(v) for v in COMBOS_6[x]],
                "attributes_b": [float(v) for v in COMBOS_6[y]],
            })
        return rows

    def answers(self, weights: Sequence[float], survey: list[dict[str, Any]],
                combos: dict[str, tuple[int, int]]) -> list[dict[str, str]]:
        """The user's answers to ``max_context`` survey pairs, in the (random) order asked."""
        asked = self.rng.sample(survey, self.cfg.max_context)
        out = []
        for pair in asked:
            a_wins, _ = self.a_wins(weights, *combos[pair["id"]])
            out.append({"id": pair["id"], "chosen": "a" if a_wins else "b"})
        return out

    def row(self, prompt: int, weights: Sequence[float], *, measure: bool = False) -> dict[str, Any]:
        x, y = _any_pair(self.rng)
        x_wins, p = self.a_wins(weights, x, y)
        if measure:
            self.agreement_sum += max(p, 1.0 - p)
            self.agreement_n += 1
        win, lose = (x, y) if x_wins else (y, x)
        return {
            "prompt": self.advice[prompt].prompt,
            "chosen": self.text(prompt, win),
            "rejected": self.text(prompt, lose),
            "controversial": (min(x, y), max(x, y)) in self.controversial,
            "user_weights": [float(w) for w in weights],
            "attributes_chosen": [float(v) for v in COMBOS_6[win]],
            "attributes_rejected": [float(v) for v in COMBOS_6[lose]],
        }


def build_population(
    cfg: "SyntheticConfig",
    advice: list[Advice],
    rng: random.Random,
    train_prompts: list[int],
    test_prompts: list[int],
    bar: Callable,
) -> tuple[dict[str, list[dict[str, Any]]], dict[str, Any]]:
    """The splits and the card's ``world`` object (``cfg`` resolved: no -1 left)."""
    world = _World(cfg, advice, rng)
    survey = world.survey(train_prompts)
    combos = {}
    for row in survey:
        combos[row["id"]] = (COMBOS_6.index(tuple(int(v) for v in row["attributes_a"])),
                             COMBOS_6.index(tuple(int(v) for v in row["attributes_b"])))
    train: list[dict[str, Any]] = []
    for u in bar(range(cfg.population_users), desc="population users", unit="user"):
        weights = sample_weights(rng, world.chol)
        answers = world.answers(weights, survey, combos)
        for _ in range(cfg.rows_per_user):
            size = rng.randint(cfg.min_context, cfg.max_context)
            context = [answers[i] for i in sorted(rng.sample(range(len(answers)), size))]
            row = world.row(rng.choice(train_prompts), weights, measure=True)
            train.append({"user": f"pop-{u:06d}", "user_type": None, "context": context, **row})
    personas = persona_weights(cfg.persona_scale)
    users: list[tuple[str, str, list[float]]] = [
        (f"heldout-{u:04d}", "heldout", sample_weights(rng, world.chol))
        for u in range(cfg.heldout_users)
    ]
    for name, weights in personas.items():
        users += [(f"{name}-{k:02d}", name, weights) for k in range(1, cfg.persona_users + 1)]
    test: list[dict[str, Any]] = []
    for user, user_type, weights in users:
        context = world.answers(weights, survey, combos)
        for _ in range(cfg.rows_per_heldout_user):
            row = world.row(rng.choice(test_prompts), weights)
            test.append({"user": user, "user_type": user_type, "context": context, **row})
    agreement = world.agreement_sum / max(world.agreement_n, 1)
    world_card = {
        "kind": "population",
        "attributes": list(ATTRIBUTES_6),
        "prior_mean": prior_mean(),
        "prior_cov": prior_cov(),
        "temperature": cfg.temperature,
        "self_agreement": round(agreement, 4),
        "personas": personas,
        "persona_scale": cfg.persona_scale,
        "answer_model": "P(a > b) = sigmoid(temperature * w . (attributes_a - attributes_b)), "
                        "one independent draw per answer, no label noise",
        "pair_distribution": "uniform over ordered pairs of two different attribute vectors "
                             f"({len(COMBOS_6)} x {len(COMBOS_6) - 1}), for rows and survey pairs",
        "train_context": f"uniform subset of the user's {cfg.max_context} answers, size uniform "
                         f"in {cfg.min_context}..{cfg.max_context}, in the order asked",
        "test_context": f"all {cfg.max_context} answers, in the order asked",
    }
    return {"train": train, "test": test, "survey": survey}, world_card
