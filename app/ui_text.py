"""The demo's words and the small pure pieces its tabs share: the consent text, the candidates
box's format, the progress line, which controls a visitor's state allows, and the pop-up errors.

Kept apart from ``app.ui`` (the wiring) and ``app.ui_tabs`` (the tabs) so both import them;
``app.ui`` re-exports the public ones.
"""

from __future__ import annotations

import logging
from typing import Any

import gradio as gr

from app import handlers as h
from app.records import REPEAT_SUFFIX
from app.store import StoreError

__all__ = ["CONSENT", "CUSTOM", "ERROR_SECONDS", "GUIDELINES", "SEPARATOR", "controls", "error",
           "guard", "join_candidates", "parse_candidates", "progress_text"]

log = logging.getLogger("app.ui")
CUSTOM = "Type your own prompt"
SEPARATOR = "---"
GUIDELINES = """- Read the question and both responses, then choose the one you would rather receive.
- **Tie**: both are equally good for you. **Skip**: you cannot decide or the pair is unclear.
- Shortcuts: **A**, **B**, **T** (tie), **S** (skip), **U** (undo the last answer).
- One pair appears twice, to check answers are consistent.
- What is stored: your participant id (from the study link, or a random one), your answers,
  which side each response was shown on, and the time per answer. No IP address, no browser data."""
CONSENT = ("I agree that my answers, the participant id above and the time per answer are "
           "stored for research on personalized reward models.")


def parse_candidates(text: str) -> list[str]:
    """Split the candidates box: candidates are separated by a line holding only ``---``."""
    blocks, current = [], []
    for line in (text or "").splitlines():
        if line.strip() == SEPARATOR:
            blocks.append("\n".join(current))
            current = []
        else:
            current.append(line)
    blocks.append("\n".join(current))
    return [b.strip() for b in blocks if b.strip()]


def progress_text(result: dict[str, Any], pair: dict[str, Any] | None, n_checks: int) -> str:
    """The progress line above the pair. Counts the distinct pairs only: the attention check's
    repeat (``n_checks`` of ``result["n_total"]``, shown last) is named as such rather than
    counted as "pair 8 of 8". Says the visitor may finish when ``stop_suggested`` (the finish
    button then shows, see ``build_app``)."""
    n, distinct = result["n_labels"], result["n_total"] - n_checks
    if pair is None:
        return f"**All {distinct} pairs answered" + (
            " (and the consistency check).**" if n_checks else ".**")
    if pair["pair_id"].endswith(REPEAT_SUFFIX):
        head = (f"**All {distinct} pairs answered. Last, a consistency check:** one pair "
                "from before, once more.")
    else:
        head = f"**Pair {min(n, distinct - 1) + 1} of {distinct}**"
    if result.get("stop_suggested"):
        head += (" · More answers are unlikely to change the model's top picks now: you can "
                 "finish with the button below, or keep answering.")
    return head


def controls(state: dict[str, Any]) -> tuple[bool, bool, bool]:
    """Which controls a visitor's state allows: (answer, undo, finish). The finish button
    shows when every pair is answered or once the progress line says the visitor may finish
    (``stop_suggested``), so the sentence and the button agree."""
    active = bool(state.get("session_id")) and not state.get("finish")
    can_answer = active and state.get("pair") is not None
    can_finish = active and (state.get("pair") is None or bool(state.get("stop_suggested")))
    return can_answer, active, can_finish


ERROR_SECONDS = 5  # pop-ups close by themselves after this (Gradio's default is 10 s)


def error(message: str) -> gr.Error:
    """A visitor-facing pop-up: short-lived, at the bottom of the page (see ``CSS``)."""
    return gr.Error(message, duration=ERROR_SECONDS, print_exception=False)


def guard(fn, *args, **kwargs):
    """Call a handler; refusals become ``gr.Error`` with their plain sentence, anything
    unexpected a generic one (details go to the server log only)."""
    try:
        return fn(*args, **kwargs)
    except gr.Error:
        raise
    except (h.HandlerError, StoreError) as err:
        raise error(str(err)) from None
    except Exception:
        log.exception("handler %s failed", getattr(fn, "__name__", fn))
        raise error("Something went wrong on the server; please try again.") from None


def join_candidates(item: dict[str, Any]) -> str:
    return f"\n{SEPARATOR}\n".join(c["response"] for c in item.get("candidates", []))
