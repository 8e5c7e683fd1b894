"""UF-P-2 / UF-P-4: UltraFeedback pairs relabeled for users who each care about one rating.

Inputs, in the Hub schemas (assumed from the dataset cards; fixtures in tests/fixtures/data):

- ``argilla/ultrafeedback-binarized-preferences-cleaned`` rows: ``prompt`` (str), ``chosen``
  and ``rejected`` (lists of ``{"role", "content"}`` messages: the user turn, then the
  assistant turn), plus ``source``, ``chosen-rating``, ``chosen-model``, ``rejected-rating``,
  ``rejected-model`` (unused).
- ``openbmb/UltraFeedback`` rows: ``instruction`` (str) and ``completions``, a list of
  ``{"response": str, "annotations": {attribute: {"Rating": "1".."5" or "N/A", ...}}}`` over
  the attributes helpfulness, honesty, instruction_following and truthfulness.

A binarized pair is joined to its ratings by (prompt == instruction, response text). Pairs
whose response is not found, or lacks a numeric rating for a user's attribute, are dropped
and counted in the card's notes. Each user type prefers the response with the higher rating
on its attribute, ties broken at random; only pairs on which the types' labels disagree are
kept (all rows are controversial). Every kept pair becomes one row per type. Train/test is
split 90/10 by prompt, so no prompt is in both. UF-P-2 = helpfulness + honesty with 8
context pairs; UF-P-4 = all four attributes with 2..8 context pairs. Each type's survey pool
is 16 train pairs on which no type's rating is tied, seeded with one pair per rival type
that separates the two, so an identifying context always exists; contexts are redrawn until
they identify their type.
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from train.data.contexts import Choice, ContextSpec, draw_context
from train.data.importers import ImportResult
from train.data.schema import BuiltDataset, DatasetError, arg, check_shares

__all__ = ["UFP_ATTRIBUTES", "UFPConfig", "build_ufp", "index_ratings", "parse_binarized"]

UFP_ATTRIBUTES = ("helpfulness", "honesty", "instruction_following", "truthfulness")
BINARIZED = "argilla/ultrafeedback-binarized-preferences-cleaned"
FINE_GRAINED = "openbmb/UltraFeedback"


@dataclass(frozen=True)
class UFPConfig:
    """Arguments of the UF-P builder (also the CLI flags and the card's builder_args)."""

    users: int = arg(4, "2 (helpfulness, honesty; 8 context pairs) or 4 (all ratings; 2..8)")
    test_fraction: float = arg(0.1, "share of prompts held out for test (SPL: 90/10)")
    pool_size: int = arg(16, "survey pairs per user type")
    max_pairs: int = arg(0, "keep at most this many controversial pairs (0: all)")
    seed: int = arg(0, "random seed: tie-breaks, split, pools and contexts follow from it")

    def __post_init__(self) -> None:
        if self.users not in (2, 4):
            raise DatasetError(f"users must be 2 or 4 (UF-P-2 or UF-P-4), got {self.users}")
        check_shares(self, open_=("test_fraction",))

    @property
    def attributes(self) -> tuple[str, ...]:
        return UFP_ATTRIBUTES if self.users == 4 else UFP_ATTRIBUTES[:2]

    @property
    def context(self) -> ContextSpec:
        return ContextSpec(2, 8) if self.users == 4 else ContextSpec(8, 8)


def _assistant_text(messages: Any, column: str) -> str:
    if not isinstance(messages, list) or not messages:
        raise DatasetError(f"column {column!r} must be a non-empty list of messages")
    last = messages[-1]
    if not isinstance(last, Mapping) or last.get("role") != "assistant":
        raise DatasetError(f"column {column!r} does not end with an assistant message")
    text = last.get("content")
    if not isinstance(text, str) or not text.strip():
        raise DatasetError(f"column {column!r} has an empty assistant message")
    return text


def parse_binarized(row: Any) -> tuple[str, str, str]:
    """``(prompt, chosen, rejected)`` of one binarized row, or ``DatasetError(reason)``."""
    if isinstance(row, DatasetError):  # an unparsable line, as read_records returns it
        raise row
    if not isinstance(row, Mapping):
        raise DatasetError("expected a JSON object")
    prompt = row.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise DatasetError("column 'prompt' is missing or empty")
    chosen = _assistant_text(row.get("chosen"), "chosen")
    rejected = _assistant_text(row.get("rejected"), "rejected")
    if chosen == rejected:
        raise DatasetError("chosen and rejected are the same text")
    return prompt, chosen, rejected


def _rating(annotations: Mapping[str, Any], attribute: str) -> float | None:
    value = (annotations.get(attribute) or {}).get("Rating")
    try:
        return float(value)
    except (TypeError, ValueError):
        return None  # "N/A" or missing: this response cannot be judged on the attribute


def index_ratings(rows: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], dict[str, float | None]]:
    """Map ``(instruction, response)`` to its four fine-grained ratings (None when "N/A")."""
    index = {}
    for row in rows:
        for completion in row.get("completions") or []:
            annotations = completion.get("annotations") or {}
            index[(row.get("instruction"), completion.get("response"))] = {
                a: _rating(annotations, a) for a in UFP_ATTRIBUTES
            }
    return index


def _labels(rng, attrs, r_x, r_y) -> dict[str, Choice]:
    """Each type's side ("a" = x, "b" = y) by its rating, ties broken at random."""
    return {a: "a" if r_x[a] > r_y[a] or (r_x[a] == r_y[a] and rng.random() < 0.5) else "b"
            for a in attrs}


def _pool(rng, kind, pairs, attrs, size, used) -> list[int]:
    """Indices of ``size`` strict train pairs for ``kind``, one separating it from each rival."""
    strict = [i for i, p in enumerate(pairs)
              if i not in used and all(p["r_x"][a] != p["r_y"][a] for a in attrs)]
    rng.shuffle(strict)
    pool: list[int] = []
    for rival in (a for a in attrs if a != kind):
        found = next((i for i in strict if i not in pool
                      and pairs[i]["labels"][kind] != pairs[i]["labels"][rival]), None)
        if found is None:
            raise DatasetError(
                f"no train pair without ties separates {kind!r} from {rival!r}; "
                "the input is too small for UF-P (use more rows)"
            )
        pool.append(found)
    pool += [i for i in strict if i not in pool][: size - len(pool)]
    used.update(pool)
    return pool


def _rated_pairs(binarized: Iterable[tuple[str, Any]], ratings: Mapping, attrs: tuple[str, ...],
                 rng: random.Random, skip_bad: bool) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The binarized pairs whose responses both carry every attribute's rating and on which
    the users (one per attribute) do not all agree, each with its labels (``_labels``: ties
    broken with ``rng``), and counts of the rows left out (bad, unmatched, unrated, agreeing)."""
    pairs, stats = [], {"bad": 0, "unmatched": 0, "unrated": 0, "agreeing": 0}
    for where, row in binarized:
        try:
            prompt, x, y = parse_binarized(row)
        except DatasetError as err:
            if not skip_bad:
                raise DatasetError(f"{where}: {err}") from None
            stats["bad"] += 1
            continue
        r_x, r_y = ratings.get((prompt, x)), ratings.get((prompt, y))
        if r_x is None or r_y is None:
            stats["unmatched"] += 1
        elif any(r_x[a] is None or r_y[a] is None for a in attrs):
            stats["unrated"] += 1
        else:
            labels = _labels(rng, attrs, r_x, r_y)
            if len(set(labels.values())) == 1:
                stats["agreeing"] += 1
            else:
                pairs.append({"prompt": prompt, "x": x, "y": y, "r_x": r_x, "r_y": r_y,
                              "labels": labels})
    return pairs, stats


def build_ufp(
    binarized: Iterable[tuple[str, Any]],
    fine_grained: Iterable[Mapping[str, Any]],
    cfg: UFPConfig = UFPConfig(),
    *,
    skip_bad: bool = False,
) -> ImportResult:
    """Build UF-P-2 or UF-P-4 from the two Hub datasets (pure; no I/O).

    ``binarized`` holds ``(where, row)`` records as ``importers.read_records`` returns them;
    ``fine_grained`` holds plain rows. A malformed binarized row raises
    ``DatasetError("where: reason")``, or with ``skip_bad`` is counted in the card's notes.
    """
    rng = random.Random(cfg.seed)
    attrs = cfg.attributes
    ratings = index_ratings(fine_grained)
    pairs, stats = _rated_pairs(binarized, ratings, attrs, rng, skip_bad)
    if cfg.max_pairs:
        pairs = pairs[: cfg.max_pairs]
    prompts = sorted({p["prompt"] for p in pairs})
    rng.shuffle(prompts)
    test_prompts = set(prompts[: max(1, round(cfg.test_fraction * len(prompts)))])
    train = [p for p in pairs if p["prompt"] not in test_prompts]
    test = [p for p in pairs if p["prompt"] in test_prompts]
    if not train or not test:
        raise DatasetError(f"only {len(pairs)} controversial pairs: too few to split into train and test")
    survey, pools, answers, used = [], {}, {a: {} for a in attrs}, set()
    for kind in attrs:
        pools[kind] = []
        for k, i in enumerate(_pool(rng, kind, train, attrs, cfg.pool_size, used)):
            p, sid = train[i], f"{kind}-{k:02d}"
            survey.append({"id": sid, "prompt": p["prompt"], "a": p["x"], "b": p["y"],
                           "attributes_a": [p["r_x"][a] for a in attrs],
                           "attributes_b": [p["r_y"][a] for a in attrs], "user_type": kind})
            pools[kind].append(sid)
            for a in attrs:
                answers[a][sid] = p["labels"][a]
    splits: dict[str, list[dict[str, Any]]] = {"survey": survey}
    for name, group in (("train", train), ("test", test)):
        rows = []
        for p in group:
            for kind in attrs:
                win, lose = ("x", "y") if p["labels"][kind] == "a" else ("y", "x")
                context = draw_context(pools[kind], answers[kind], rng, cfg.context,
                                       answers=answers, user_type=kind)
                rows.append({
                    "user": kind, "user_type": kind, "prompt": p["prompt"],
                    "chosen": p[win], "rejected": p[lose], "controversial": True,
                    "context": context, "user_weights": [float(a == kind) for a in attrs],
                    "attributes_chosen": [p[f"r_{win}"][a] for a in attrs],
                    "attributes_rejected": [p[f"r_{lose}"][a] for a in attrs],
                })
        rng.shuffle(rows)
        splits[name] = rows
    card = {
        "name": f"uf-p-{cfg.users}",
        "source": f"{BINARIZED} joined with {FINE_GRAINED}",
        "user_types": list(attrs),
        "attributes": list(attrs),
        "counts": {},
        "seed": cfg.seed,
        "context_sizes": cfg.context.sizes(),
        "builder_args": dataclasses.asdict(cfg),
        "notes": (
            f"{len(pairs)} controversial pairs kept ({len(train)} train / {len(test)} test, "
            f"split by prompt); dropped: {stats['agreeing']} where the types agree, "
            f"{stats['unmatched']} without fine-grained ratings, {stats['unrated']} with an N/A "
            f"rating, {stats['bad']} malformed. Ratings 1..5; ties broken at random."
        ),
    }
    return ImportResult(BuiltDataset(card, {k: splits[k] for k in ("train", "test", "survey")}), stats["bad"])
