"""The store's records and exceptions: plain frozen dataclasses and small error classes.

Re-exported by ``app.store``; import them from there.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal, get_args

from spl_model.study_export import REPEAT_SUFFIX  # the export's convention, shared with train

__all__ = [
    "CHOICES", "REPEAT_SUFFIX", "AttentionCheck", "AttentionReport", "attention_report", "Choice", "DuplicateLabel",
    "InvalidChoice", "InvalidInput", "LabelRecord", "Mode", "NotEnoughAnswers",
    "ParticipantCount", "ResumeState", "SchemaTooNew", "SessionFinished", "SessionRecord",
    "ShownOrder", "StoreError", "UnknownSession",
]

Choice = Literal["A", "B", "tie", "skip"]
Mode = Literal["active", "fixed"]  # query order: chosen by the model, or the pack's fixed order
ShownOrder = Literal["AB", "BA"]  # "AB": the pair's first response is on side A; "BA": swapped
CHOICES: tuple[str, ...] = get_args(Choice)


class StoreError(Exception):
    """The store refused or could not do something; the message is a plain sentence."""


class UnknownSession(StoreError):
    """The session id is missing, malformed or forged."""


class DuplicateLabel(StoreError):
    """The pair already has a live label in this session."""


class InvalidChoice(StoreError, ValueError):
    """The choice is not one of A, B, tie, skip."""


class InvalidInput(StoreError, ValueError):
    """An argument is empty, too long, of the wrong kind or out of range."""


class SessionFinished(StoreError):
    """The session is finished and takes no more labels."""


class SchemaTooNew(StoreError):
    """The database was written by a newer version of the app."""


class NotEnoughAnswers(StoreError):
    """The session has fewer real answers than the study requires for a completion code."""




@dataclass(frozen=True)
class SessionRecord:
    """One labelling session; `session_id` is a secret bearer token (256 random bits), so it
    is left out of the repr (and of logs that print records)."""

    session_id: str = field(repr=False)
    participant_id: str
    study_id: str | None
    external_session_id: str | None
    mode: Mode
    status: Literal["open", "finished"]
    created_at: str
    finished_at: str | None
    completion_code: str | None

    @property
    def finished(self) -> bool:
        return self.status == "finished"


@dataclass(frozen=True)
class LabelRecord:
    """One answer; `response_a`/`response_b` are the texts as SHOWN on sides A and B."""

    id: int
    session_id: str = field(repr=False)
    pair_id: str
    position: int
    prompt: str
    response_a: str
    response_b: str
    shown_order: ShownOrder
    choice: Choice
    seconds: float | None
    created_at: str
    undone_at: str | None
    query_order: Mode | None = None  # how the pair was chosen; None before schema version 2
    # sha256 of the SPL weights that chose an active query (None for the fixed order), and the
    # app's code version that served the pair; None before schema version 3
    model_version: str | None = None
    app_version: str | None = None

    @property
    def live(self) -> bool:
        return self.undone_at is None

    @property
    def chosen(self) -> str | None:
        """The preferred text, or None for a tie or a skip."""
        return {"A": self.response_a, "B": self.response_b}.get(self.choice)

    @property
    def rejected(self) -> str | None:
        return {"A": self.response_b, "B": self.response_a}.get(self.choice)


@dataclass(frozen=True)
class ResumeState:
    """What the UI needs to continue a session: the session and its live labels in order."""

    session: SessionRecord
    labels: tuple[LabelRecord, ...]

    @property
    def n_labels(self) -> int:
        return len(self.labels)

    @property
    def labelled_pair_ids(self) -> frozenset[str]:
        return frozenset(label.pair_id for label in self.labels)


@dataclass(frozen=True)
class ParticipantCount:
    participant_id: str
    study_id: str | None
    n_sessions: int
    n_finished: int
    n_labels: int  # live labels, attention repeats and skips included
    n_answers: int = 0  # live A/B answers to pairs other than attention repeats
    n_ties: int = 0
    n_skips: int = 0


@dataclass(frozen=True)
class AttentionCheck:
    """A pair shown twice in a session; `agree` is None when either answer is a skip.

    The rule: the check passes when both showings prefer the same TEXT (sides are randomised
    per showing). A tie on either showing fails it: a tie is not agreement, or a participant
    could pass every check by always answering tie."""

    session_id: str
    participant_id: str
    pair_id: str
    first: Choice
    second: Choice
    agree: bool | None


@dataclass(frozen=True)
class AttentionReport:
    """`per_session`: True when all its checks agree, None when none could be judged."""

    checks: tuple[AttentionCheck, ...]
    per_session: Mapping[str, bool | None]
    overall: float | None  # share of judged sessions that agree; None when none was judged
    n_judged: int


def attention_report(labels: Iterable[tuple[SessionRecord, LabelRecord]]) -> AttentionReport:
    """Agreement on attention checks over live labels (``Store.attention_agreement``): a pair
    shown again as `<pair_id>#repeat` is compared by the TEXT preferred (sides are randomised
    per showing); a tie on either showing is not agreement (see `AttentionCheck`); checks with
    a skip are not judged."""
    pairs: dict[tuple[str, str], list[LabelRecord]] = {}
    owner: dict[str, str] = {}
    for session, label in labels:
        base = label.pair_id.removesuffix(REPEAT_SUFFIX)
        pairs.setdefault((session.session_id, base), []).append(label)
        owner[session.session_id] = session.participant_id
    checks = []
    for (sid, base), shown in pairs.items():
        first = next((x for x in shown if x.pair_id == base), None)
        second = next((x for x in shown if x.pair_id != base), None)
        if first is None or second is None:
            continue
        judged = "skip" not in (first.choice, second.choice)
        agree = "tie" not in (first.choice, second.choice) and first.chosen == second.chosen
        checks.append(AttentionCheck(sid, owner[sid], base, first.choice, second.choice,
                                     agree if judged else None))
    per_session: dict[str, bool | None] = {}
    for check in checks:
        prev = per_session.get(check.session_id)
        if check.agree is not None:
            per_session[check.session_id] = check.agree and prev is not False
        else:
            per_session.setdefault(check.session_id, None)
    judged_sessions = [v for v in per_session.values() if v is not None]
    overall = sum(judged_sessions) / len(judged_sessions) if judged_sessions else None
    return AttentionReport(tuple(checks), per_session, overall, len(judged_sessions))
