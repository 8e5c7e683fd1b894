"""Importing a study run with the app: its own export becomes a dataset, one user per participant.

Input: the rows ``python -m app.admin export`` (or the admin endpoint) writes, unchanged:

- the label export (``labels.jsonl`` or ``labels.csv``): one row per live answer with
  ``participant_id``, ``pair_id``, ``prompt``, ``response_a``, ``response_b`` (as shown),
  ``choice`` (``A``, ``B``, ``tie``, ``skip``) and, from newer apps, ``session_flags``;
- or the TRL rows (``trl.jsonl``): ``prompt``, ``chosen``, ``rejected``, ``user_id``.

What becomes of them:

- **Users.** Each participant is one user, named by a pseudonym (``p-`` + 12 hex digits of the
  sha256 of the participant id): run folders carry the dataset card, and a Prolific id has no
  business in a model served to the public. The same participant's sessions are merged.
- **Answers kept.** A and B answers. A skip says nothing and is dropped; a tie is no
  preference a Bradley-Terry row can hold and is dropped; an attention-check repeat
  (``<pair_id>#repeat``) duplicates a pair and is dropped, but it is judged first (same text
  preferred = agree; a tie on either showing is *not* agreement; a skip is not judged). A pair a
  participant answered again in another session keeps its first answer. Each is counted in the
  card's ``import_counts``.
- **Split per participant.** Each participant's answers are shuffled (seeded); a share
  ``test_fraction`` of them (at least one, once a participant has 3 answers; never so many that
  fewer than 2 stay) becomes their test rows, the rest their train rows. Participants with fewer
  than 2 A/B answers cannot give a context and a target, and are left out (counted).
- **Context = the participant's own answers.** Every train answer becomes a survey pair (a pair
  several participants answered is one survey pair). A train row's context is drawn from the
  same participant's *other* train answers; a test row's from all their train answers. So no
  row ever has its own pair in its context, and a test answer is never seen in training.
- ``controversial``: the same pair was answered both ways by different participants.
- ``--exclude-flagged`` drops sessions the export flags (all skips, too fast, failed attention
  check; see ``app.export``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import random
from typing import Any, Iterable, Mapping

from spl_model.study_export import REPEAT_SUFFIX  # the app's attention-check repeat
from train.data.contexts import Choice, ContextSpec, draw_context
from train.data.importers import ImportConfig, _controversial
from train.data.schema import BuiltDataset, DatasetError

__all__ = ["REPEAT_SUFFIX", "build_study", "is_study_row", "parse_study", "pseudonym"]

_CHOICES = ("A", "B", "tie", "skip")


def pseudonym(participant_id: str) -> str:
    """The user name a participant gets in the dataset: ``p-`` + 12 hex of sha256(id)."""
    return "p-" + hashlib.sha256(participant_id.encode("utf-8")).hexdigest()[:12]


def is_study_row(row: Any) -> bool:
    """True for a row of the app's label export or of its TRL export."""
    if not isinstance(row, Mapping):
        return False
    labels = {"participant_id", "response_a", "response_b", "choice"} <= set(row)
    trl = {"user_id", "prompt", "chosen", "rejected"} <= set(row) and "user" not in row
    return labels or trl


def _text(row: Mapping[str, Any], column: str) -> str:
    value = row.get(column)
    if not isinstance(value, str) or not value.strip():
        raise DatasetError(f"column {column!r} is missing or empty")
    return value


def _flags(value: Any) -> list[str]:
    """``session_flags`` as a list: JSON list in JSONL, ``a;b`` text in CSV, absent in old exports."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [f for f in value.replace(",", ";").split(";") if f.strip()]
    if isinstance(value, list) and all(isinstance(f, str) for f in value):
        return list(value)
    raise DatasetError("column 'session_flags' must be a list of text")


def _answer(row: Any) -> dict[str, Any]:
    """One export row as ``{participant, session, pair_id, prompt, chosen, rejected, choice,
    texts, flags}`` (``chosen``/``rejected`` None for a tie or a skip), or ``DatasetError``."""
    if not isinstance(row, Mapping):
        raise DatasetError("expected a JSON object")
    if "participant_id" in row:
        prompt, a, b = _text(row, "prompt"), _text(row, "response_a"), _text(row, "response_b")
        choice = row.get("choice")
        if choice not in _CHOICES:
            raise DatasetError(f"column 'choice' must be one of A, B, tie, skip; got {choice!r}")
        if a == b:
            raise DatasetError("response_a and response_b are the same text")
        chosen, rejected = {"A": (a, b), "B": (b, a)}.get(choice, (None, None))
        return {"participant": _text(row, "participant_id"),
                "session": str(row.get("session") or ""), "pair_id": _text(row, "pair_id"),
                "prompt": prompt, "chosen": chosen, "rejected": rejected, "choice": choice,
                "texts": (prompt, *sorted((a, b))), "flags": _flags(row.get("session_flags"))}
    prompt, chosen, rejected = _text(row, "prompt"), _text(row, "chosen"), _text(row, "rejected")
    if chosen == rejected:
        raise DatasetError("chosen and rejected are the same text")
    texts = (prompt, *sorted((chosen, rejected)))
    return {"participant": _text(row, "user_id"), "session": "", "pair_id": None,
            "prompt": prompt, "chosen": chosen, "rejected": rejected, "choice": "A",
            "texts": texts, "flags": []}


def parse_study(records: Iterable[tuple[str, Any]], *, skip_bad: bool = False
                ) -> tuple[list[dict[str, Any]], int]:
    """Read the app's export rows (see the module docstring) into answers for ``build_study``.

    A bad row raises ``DatasetError("where: reason")``, or with ``skip_bad`` is counted.
    """
    answers, skipped = [], 0
    for where, raw in records:
        try:
            if isinstance(raw, DatasetError):
                raise raw
            answers.append(_answer(raw))
        except DatasetError as err:
            if not skip_bad:
                raise DatasetError(f"{where}: {err}") from None
            skipped += 1
    return answers, skipped


def _judge(first: dict[str, Any], second: dict[str, Any]) -> str:
    """An attention check's verdict: agree, disagree (a tie on either showing counts here:
    a tie is not agreement), or unjudged (a skip on either showing)."""
    if "skip" in (first["choice"], second["choice"]):
        return "unjudged"
    if "tie" in (first["choice"], second["choice"]):
        return "disagree"
    return "agree" if first["chosen"] == second["chosen"] else "disagree"


def build_study(answers: list[dict[str, Any]], cfg: ImportConfig, *, source: str = "",
                exclude_flagged: bool = False) -> BuiltDataset:
    """Build a dataset from ``parse_study`` answers; pure, seeded by ``cfg.seed``."""
    if not answers:
        raise DatasetError("no rows to import: the export is empty")
    rng = random.Random(cfg.seed)
    counts = {"export_rows": len(answers), "participants": 0, "skips": 0, "ties": 0,
              "attention_repeats": 0, "attention_agree": 0, "attention_disagree": 0,
              "attention_unjudged": 0, "repeated_answers": 0, "flagged_sessions_dropped": 0,
              "answers_in_flagged_sessions_dropped": 0, "participants_too_few_answers": 0,
              "ab_answers_used": 0}
    if exclude_flagged:
        flagged = {a["session"] for a in answers if a["flags"]}
        counts["flagged_sessions_dropped"] = len(flagged)
        kept = [a for a in answers if not a["flags"]]
        counts["answers_in_flagged_sessions_dropped"] = len(answers) - len(kept)
        answers = kept
    mine = _answers_by_user(answers, counts)
    if not mine:
        raise DatasetError(
            "no participant has 2 or more A/B answers, so none can give both a context and a "
            f"target ({counts['skips']} skips, {counts['ties']} ties in the export)")
    survey_ids: dict[tuple[str, str, str], str] = {}
    survey: list[dict[str, Any]] = []
    train: list[dict[str, Any]] = []
    test: list[dict[str, Any]] = []
    spec = ContextSpec(cfg.min_context, cfg.max_context)
    for user in sorted(mine):
        kept = list(mine[user])
        rng.shuffle(kept)
        n = len(kept)
        n_test = 0 if n < 3 else min(n - 2, max(1, round(cfg.test_fraction * n)))
        held, fitted = kept[:n_test], kept[n_test:]
        own: dict[str, Choice] = {}
        ids = []
        for answer in fitted:
            key = answer["texts"]
            if key not in survey_ids:
                survey_ids[key] = f"s{len(survey):05d}"
                survey.append({"id": survey_ids[key], "prompt": key[0], "a": key[1], "b": key[2]})
            sid = survey_ids[key]
            own[sid] = "a" if answer["chosen"] == key[1] else "b"
            ids.append(sid)
        for answer, sid in zip(fitted, ids):
            others = [i for i in ids if i != sid]
            train.append(_row(user, answer, draw_context(others, own, rng, spec)))
        for answer in held:
            test.append(_row(user, answer, draw_context(ids, own, rng, spec)))
    counts["ab_answers_used"] = len(train) + len(test)
    _controversial(train + test)
    rng.shuffle(train)
    rng.shuffle(test)
    card = {
        "name": cfg.name,
        "source": source or "study",
        "user_types": sorted(mine),
        "attributes": None,
        "counts": {},
        "seed": cfg.seed,
        "context_sizes": spec.sizes(),
        "builder_args": {**dataclasses.asdict(cfg), "exclude_flagged": exclude_flagged},
        "import_counts": counts,
        "notes": (
            "Imported from the app's study export: one user per participant (pseudonymised), "
            "their own A/B answers as their context, a share of each participant's answers held "
            "out as their test rows (never in any context); skips, ties and attention-check "
            "repeats dropped and counted in import_counts."
        ),
    }
    if not test:
        raise DatasetError(
            "no participant has 3 or more A/B answers, so nothing can be held out for testing; "
            "collect more answers per participant")
    return BuiltDataset(card, {"train": train, "test": test, "survey": survey})


def _answers_by_user(answers: list[dict[str, Any]], counts: dict[str, int]) -> dict[str, list]:
    """Each participant's usable A/B answers under their pseudonym (participants with fewer
    than 2 are left out); attention repeats are judged against the first showing, and skips,
    ties, repeats and repeated answers are counted into ``counts``."""
    by_participant: dict[str, list[dict[str, Any]]] = {}
    for answer in answers:
        by_participant.setdefault(answer["participant"], []).append(answer)
    counts["participants"] = len(by_participant)
    firsts: dict[tuple[str, str], dict[str, Any]] = {}
    for answer in answers:
        if answer["pair_id"] and not answer["pair_id"].endswith(REPEAT_SUFFIX):
            firsts.setdefault((answer["session"], answer["pair_id"]), answer)
    mine: dict[str, list[dict[str, Any]]] = {}
    for participant, rows in by_participant.items():
        seen: set[tuple[str, str, str]] = set()
        kept = []
        for answer in rows:
            pair_id = answer["pair_id"] or ""
            if pair_id.endswith(REPEAT_SUFFIX):
                counts["attention_repeats"] += 1
                first = firsts.get((answer["session"], pair_id.removesuffix(REPEAT_SUFFIX)))
                counts[f"attention_{_judge(first, answer) if first else 'unjudged'}"] += 1
            elif answer["choice"] == "skip":
                counts["skips"] += 1
            elif answer["choice"] == "tie":
                counts["ties"] += 1
            elif answer["texts"] in seen:
                counts["repeated_answers"] += 1
            else:
                seen.add(answer["texts"])
                kept.append(answer)
        if len(kept) < 2:
            counts["participants_too_few_answers"] += 1
            continue
        mine[pseudonym(participant)] = kept
    return mine


def _row(user: str, answer: dict[str, Any], context: list[dict[str, str]]) -> dict[str, Any]:
    return {"user": user, "prompt": answer["prompt"], "chosen": answer["chosen"],
            "rejected": answer["rejected"], "context": context}
