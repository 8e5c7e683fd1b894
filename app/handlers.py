"""What each app action does: validate the input, call the store and the service, return plain
data. No Gradio components here; ``app.ui`` wires these to events and turns the errors
(``HandlerError`` and ``app.store.StoreError``, both plain sentences) into ``gr.Error``.

Session flow: ``start_session`` (records consent) -> ``next_pair`` / ``label`` (/ ``undo``)
until ``next_pair`` returns None -> ``rank`` any time -> ``finish`` (completion code).

- **Sides**: each pair's A/B sides are randomised per session and pair, by an HMAC of the
  secret session id and the pair id (stateless, so the API and a reloaded page agree); the
  store keeps the texts as shown and the shown order.
- **Order**: per session ``mode``. ``fixed``: the pack's order. ``active`` (the app's default,
  ``SPL_QUERY_ORDER``): once the visitor has an A/B answer, the unanswered pack pair the SPL
  posterior learns most from (``Service.select_pair``, seeded by session and answer count, so
  repeated calls agree); before that, the pack's next pair (the prior is the same for
  everyone, and both study arms then share their first question). The attention-check repeat
  comes last in both modes. Each label stores the order that chose its pair (``query_order``:
  ``fixed`` for an active session's first pair). ``label`` accepts only the pair
  ``next_pair`` currently shows.
- **Stopping**: ``summary`` sets ``stop_suggested`` once, after at least one real answer, the
  stopping signal (the chance that the top picks survive the answer to any pack pair not
  answered yet, ``Service.stability``) reaches ``STOP_AT`` = 0.9. The ``confidence`` it
  returns is another number: the calibrated chance that the top pick is the visitor's
  favourite (``Service.confidence``); skips and ties never change either.
- **Time per label**: the UI passes the seconds since the pair appeared; API callers may pass
  nothing, and the time since the previous answer (or the session start) is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import unicodedata
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from app.export import check_admin_token, session_quality, write_export
from app.runs import app_version
from app.service import REPEAT_SUFFIX, STOP_AT, Service
from app.settings import Settings
from app.store import CHOICES, LabelRecord, Mode, ResumeState, Store

__all__ = ["MAX_CANDIDATES", "MAX_CANDIDATE_CHARS", "MAX_PROMPT_CHARS", "MIN_CANDIDATES",
           "HandlerError", "admin_export", "admin_stats", "clean_candidates", "finish",
           "label", "next_pair", "rank", "shown_order", "start_session", "summary", "undo"]

MIN_CANDIDATES, MAX_CANDIDATES = 2, 8
MAX_PROMPT_CHARS, MAX_CANDIDATE_CHARS = 1000, 2000
_MAX_SECONDS = 24 * 3600.0


class HandlerError(ValueError):
    """Bad input or a refused action; the message is a plain sentence for the visitor."""


# -- helpers ---------------------------------------------------------------------------

def shown_order(session_id: str, pair_id: str) -> str:
    """``"AB"`` or ``"BA"``: whether the pair's first response is shown on side A."""
    digest = hmac.new(session_id.encode(), pair_id.encode(), hashlib.sha256).digest()
    return "BA" if digest[0] & 1 else "AB"


def _present(session_id: str, item: dict[str, Any]) -> dict[str, Any]:
    order = shown_order(session_id, item["pair_id"])
    a, b = (item["a"], item["b"]) if order == "AB" else (item["b"], item["a"])
    return {"pair_id": item["pair_id"], "prompt": item["prompt"], "a": a, "b": b}


def _check_text(value: object, what: str, limit: int) -> str:
    if not isinstance(value, str):
        raise HandlerError(f"The {what} must be text.")
    text = value.strip()
    if not text:
        raise HandlerError(f"The {what} is empty; type some text.")
    if len(text) > limit:
        raise HandlerError(f"The {what} has {len(text):,} characters; the limit is "
                           f"{limit:,}. Shorten it.")
    if any(unicodedata.category(ch) == "Cc" and ch not in "\n\t\r" for ch in text):
        raise HandlerError(f"The {what} contains control characters; remove them.")
    return text


def _check_session_id(session_id: object) -> str:
    if not isinstance(session_id, str) or not session_id.strip():
        raise HandlerError("No session is active. Start a new session to continue.")
    return session_id.strip()


def _context(labels: Sequence[LabelRecord]) -> list[tuple[str, str, str]]:
    """(prompt, chosen, rejected) of the live A/B answers, attention repeats left out."""
    return [(lab.prompt, lab.chosen, lab.rejected) for lab in labels
            if lab.choice in ("A", "B") and not lab.pair_id.endswith(REPEAT_SUFFIX)
            and lab.chosen is not None and lab.rejected is not None]


def _pick(service: Service, state: ResumeState) -> tuple[dict[str, Any] | None, Mode]:
    """The next item and the order that chose it (see **Order** in the module docstring)."""
    done = state.labelled_pair_ids
    remaining = [i for i in service.items if i["pair_id"] not in done]
    context = _context(state.labels)
    if state.session.mode == "active" and context:
        pool = [i for i in remaining if not i["pair_id"].endswith(REPEAT_SUFFIX)]
        digest = hmac.new(state.session.session_id.encode(), f"query-{len(state.labels)}".encode(),
                          hashlib.sha256).digest()
        best = service.select_pair(context, pool, seed=int.from_bytes(digest[:4], "big"))
        if best is not None:
            return pool[best], "active"
    return (remaining[0] if remaining else None), "fixed"


def _seconds_since(stamp: str) -> float:
    then = datetime.fromisoformat(stamp)
    return max(0.0, (datetime.now(timezone.utc) - then).total_seconds())


# -- the session -----------------------------------------------------------------------

def start_session(store: Store, participant: str | None = None, study_id: str | None = None,
                  external_session_id: str | None = None, mode: Mode = "fixed") -> str:
    """Record consent and start a session; returns the secret session id. An empty
    participant id gets a generated anonymous one. ``mode``: how the next pair is chosen
    (the app passes ``Settings.query_order``, ``active`` unless ``SPL_QUERY_ORDER=fixed``)."""
    if participant is not None and not isinstance(participant, str):
        raise HandlerError("The participant id must be text.")
    participant = (participant or "").strip() or None
    session_id = store.new_session(participant, study_id=study_id or None,
                                   external_session_id=external_session_id or None,
                                   mode=mode)
    store.log_event("consent", {"participant_given": participant is not None},
                    session_id=session_id)
    return session_id


def next_pair(store: Store, service: Service, session_id: str) -> dict[str, Any] | None:
    """The next pair to label ``{pair_id, prompt, a, b}`` (sides as shown), or None when the
    session has answered every pair or is finished."""
    state = store.resume(_check_session_id(session_id))
    if state.session.finished:
        return None
    item, _ = _pick(service, state)
    return None if item is None else _present(state.session.session_id, item)


def summary(store: Store, service: Service, session_id: str,
            samples: bool = False) -> dict[str, Any]:
    """Where the session stands: counts, the posterior's latent point and confidence
    (``samples``: keep each latent's projected sample cloud, for the UI's map)."""
    labels = store.labels(_check_session_id(session_id))
    person = service.personalise(_context(labels))
    latent = service.latent(person)
    if not samples:
        latent = {k: {f: v for f, v in point.items() if f != "samples"}
                  for k, point in latent.items()}
    answered = {lab.pair_id for lab in labels}
    confidence = service.confidence(person)
    stability = service.stability(person, [i for i in service.items if i["pair_id"] not in answered])
    main = "spl" if "spl" in person.z else next(iter(person.z), None)
    return {"n_labels": len(labels), "n_total": len(service.items),
            "n_context": person.n_context,
            "latent": latent.get(main) if main else None, "latent_by_model": latent,
            "confidence": confidence.get(main) if main else None,
            "confidence_by_model": confidence,
            "stop_suggested": bool(main and person.n_context
                                   and stability.get(main, 0.0) >= STOP_AT)}


def label(store: Store, service: Service, session_id: str, pair_id: str, choice: str,
          seconds: float | None = None, samples: bool = False) -> dict[str, Any]:
    """Store one answer (committed before returning) and return the updated ``summary``."""
    session_id = _check_session_id(session_id)
    state = store.resume(session_id)
    if choice not in CHOICES:
        raise HandlerError(f"The choice must be one of A, B, tie or skip; got "
                           f"{repr(choice)[:40]}.")
    item = service.item(pair_id) if isinstance(pair_id, str) else None
    if item is None:
        raise HandlerError("This pair is not part of the demo; ask /next_pair for the pair "
                           "to label.")
    if pair_id in state.labelled_pair_ids:
        raise HandlerError("This pair already has an answer in this session; undo it first "
                           "to change the answer.")
    current_item, query_order = (None, "fixed") if state.session.finished else \
        _pick(service, state)
    if current_item is None:
        raise HandlerError("This session has no pairs left to label.")
    current = _present(session_id, current_item)
    if current["pair_id"] != pair_id:
        raise HandlerError("This pair has not been shown yet; answer the pair /next_pair "
                           "returns first.")
    if seconds is None:
        last = state.labels[-1].created_at if state.labels else state.session.created_at
        seconds = _seconds_since(last)
    elif isinstance(seconds, bool) or not isinstance(seconds, (int, float)) \
            or not math.isfinite(seconds) or seconds < 0:
        raise HandlerError("The time to label must be a non-negative number of seconds.")
    chooser = service.runs.get("spl") if query_order == "active" else None
    store.add_label(session_id, pair_id, prompt=current["prompt"], response_a=current["a"],
                    response_b=current["b"], choice=choice,  # type: ignore[arg-type]
                    shown_order=shown_order(session_id, pair_id),  # type: ignore[arg-type]
                    seconds=min(float(seconds), _MAX_SECONDS), query_order=query_order,
                    model_version=chooser.version if chooser else None,
                    app_version=app_version())
    return summary(store, service, session_id, samples)


def undo(store: Store, service: Service, session_id: str,
         samples: bool = False) -> dict[str, Any]:
    """Undo the latest answer (kept in the audit trail) and return the updated ``summary``
    with ``undone``: the pair id undone, or None when there was nothing to undo."""
    session_id = _check_session_id(session_id)
    record = store.undo_last_label(session_id)
    return {**summary(store, service, session_id, samples),
            "undone": None if record is None else record.pair_id}


def clean_candidates(candidates: object) -> list[str]:
    """Validate a candidate list: 2-8 non-empty, distinct texts within the length limit."""
    if isinstance(candidates, str) or not isinstance(candidates, (list, tuple)):
        raise HandlerError("The candidates must be a list of texts.")
    cleaned = [_check_text(c, f"candidate {i + 1}", MAX_CANDIDATE_CHARS)
               for i, c in enumerate(candidates)]
    if not MIN_CANDIDATES <= len(cleaned) <= MAX_CANDIDATES:
        raise HandlerError(f"Give between {MIN_CANDIDATES} and {MAX_CANDIDATES} candidate "
                           f"responses; got {len(cleaned)}.")
    seen: dict[str, int] = {}
    for i, text in enumerate(cleaned):
        if text in seen:
            raise HandlerError(f"Candidates {seen[text] + 1} and {i + 1} are the same text; "
                               "give distinct responses.")
        seen[text] = i
    return cleaned


def rank(store: Store, service: Service, session_id: str, prompt: str,
         candidates: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """Rank the candidates for this visitor with every model (SPL, VPL, BTL), best first;
    the ranking is stored with the session."""
    session_id = _check_session_id(session_id)
    prompt = _check_text(prompt, "prompt", MAX_PROMPT_CHARS)
    cleaned = clean_candidates(candidates)
    labels = store.labels(session_id)  # raises UnknownSession first
    results = service.rank(prompt, cleaned, service.personalise(_context(labels)))
    store.add_ranking(session_id, prompt, cleaned, results)
    return results


def finish(store: Store, settings: Settings, session_id: str) -> dict[str, Any]:
    """Close the session: ``{code, redirect_url}`` (the URL only when the study sets one).
    Refused (``NotEnoughAnswers``) below ``settings.min_answers`` real answers."""
    code = store.finish_session(_check_session_id(session_id), settings.completion_code,
                                min_answers=settings.min_answers)
    url = settings.completion_url.replace("{code}", code) if settings.completion_url else None
    return {"code": code, "redirect_url": url}


# -- study owner tools -------------------------------------------------------------------

def _require_admin(settings: Settings, token: object) -> None:
    if not settings.admin_enabled:
        raise HandlerError("The study owner tools are off; set SPL_ADMIN_TOKEN to enable them.")
    if not check_admin_token(token if isinstance(token, str) else None, settings.admin_token):
        raise HandlerError("The admin token is not valid.")


def admin_export(store: Store, settings: Settings, token: str,
                 directory: str | Path) -> list[Path]:
    """Write labels.jsonl, labels.csv, trl.jsonl and rankings.jsonl into ``directory``;
    returns the paths."""
    _require_admin(settings, token)
    paths = [write_export(store, kind, directory, **(settings.quality if kind in ("jsonl", "csv")
                                                     else {}))
             for kind in ("jsonl", "csv", "trl", "rankings")]
    store.log_event("export", {"files": [p.name for p in paths]})
    return paths


def admin_stats(store: Store, settings: Settings, token: str) -> dict[str, Any]:
    """Counts per participant, attention-check agreement, and per-session quality."""
    _require_admin(settings, token)
    report = store.attention_agreement()
    return {
        "participants": [asdict(c) for c in store.counts_per_participant()],
        "sessions": session_quality(store, **settings.quality),
        "attention": {"overall_agreement": report.overall, "n_judged_sessions": report.n_judged,
                      "checks": [{"participant_id": c.participant_id, "pair_id": c.pair_id,
                                  "first": c.first, "second": c.second, "agree": c.agree}
                                 for c in report.checks]},
    }
