"""The demo's tabs, one builder each (``label_tab``, ``rank_tab``, ``models_tab``), and the
visitor's events (``VisitorEvents``: load, consent, answer, undo, finish, rank) that
``app.ui.build_app`` wires to them.

The builders only lay out components and return the ones the events read or write; the events
hold no per-visitor state of their own (that is the ``gr.State`` they are given and return).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gradio as gr

from app import handlers as h
from app.figures import (CONFIDENCE_LABEL, confidence_frame, latent_colors, latent_frame, latent_text,
                         legend_html, ranking_html)
from app.runs import model_card
from app.service import Service
from app.settings import Settings
from app.store import Store, StoreError
from app.ui_text import (CONSENT, CUSTOM, GUIDELINES, SEPARATOR, controls, error, join_candidates,
                         parse_candidates, progress_text)

__all__ = ["LabelTab", "RankTab", "VisitorEvents", "label_tab", "latent_maps", "models_tab",
           "rank_tab"]

TYPES_LABEL = "Which probe persona you resemble (SPL)"


def latent_maps(service: Service) -> tuple[dict[str, dict], dict[str, dict[str, str]]]:
    """The runs' latent maps by run name, and each map's colour per user type."""
    maps = {n: r.latent_map for n, r in service.runs.items() if r.latent_map}
    colors = {n: latent_colors(sorted({str(p.get("user_type")) for p in m.get("points") or []}))
              for n, m in maps.items()}
    return maps, colors


@dataclass
class LabelTab:
    """The Label tab's components that events read or update."""

    consent_box: gr.Group
    participant: gr.Textbox
    agree: gr.Checkbox
    start: gr.Button
    label_box: gr.Column
    progress: gr.Markdown
    prompt: gr.Markdown
    resp_a: gr.Markdown
    resp_b: gr.Markdown
    answer_buttons: list[gr.Button]  # A, B, tie, skip
    undo: gr.Button
    finish: gr.Button
    done: gr.Markdown
    latent_plots: list[gr.ScatterPlot]
    latent_md: gr.Markdown
    types: gr.Label
    confidence: gr.LinePlot

    @property
    def buttons(self) -> list[gr.Button]:
        return [*self.answer_buttons, self.undo, self.finish]


def _consent_box() -> tuple[gr.Group, gr.Textbox, gr.Checkbox, gr.Button]:
    with gr.Group(visible=True, elem_id="consent-box") as consent_box:
        with gr.Accordion("Guidelines", open=True):
            gr.Markdown(GUIDELINES)
        participant = gr.Textbox(label="Participant id (from your study link; "
                                 "leave empty for a random one)",
                                 elem_id="participant", max_length=128)
        agree = gr.Checkbox(label=CONSENT, elem_id="consent-check")
        start = gr.Button("I agree, start", variant="primary", elem_id="consent-btn")
    return consent_box, participant, agree, start


def _latent_plots(maps: dict[str, dict], colors: dict[str, dict[str, str]]) -> list[gr.ScatterPlot]:
    with gr.Row():
        return [gr.ScatterPlot(latent_frame(maps[n], None), x="x", y="y",
                               color="group", color_map=colors[n],
                               label=f"{n.upper()} latent map: training users "
                               "by type, and you", x_title="PC 1", y_title="PC 2",
                               elem_id=f"latent-map-{n}", height=380,
                               elem_classes=["spl-map"],
                               # the legend below the plot overflowed its box
                               # and pushed the axis title out: the colour key
                               # is the HTML legend under the maps instead
                               colors_in_legend=[])
                for n in maps]


def label_tab(maps: dict[str, dict], colors: dict[str, dict[str, str]]) -> LabelTab:
    """Consent, then one pair at a time with its answer buttons, the latent maps and confidence."""
    with gr.Tab("Label", id="label-tab"):
        consent_box, participant, agree, start = _consent_box()
        with gr.Column(visible=False, elem_id="label-box") as label_box:
            progress = gr.Markdown(elem_id="progress")
            prompt_md = gr.Markdown(elem_id="pair-prompt")
            with gr.Row():
                with gr.Column():
                    gr.Markdown("**Response A**")
                    resp_a = gr.Markdown(elem_id="resp-a")
                with gr.Column():
                    gr.Markdown("**Response B**")
                    resp_b = gr.Markdown(elem_id="resp-b")
            with gr.Row(elem_id="answer-row"):
                btn_a = gr.Button("A is better (A)", variant="primary", elem_id="btn-a")
                btn_b = gr.Button("B is better (B)", variant="primary", elem_id="btn-b")
                btn_tie = gr.Button("Tie (T)", elem_id="btn-tie")
                btn_skip = gr.Button("Skip (S)", elem_id="btn-skip")
                btn_undo = gr.Button("Undo (U)", variant="stop", elem_id="btn-undo")
            finish_btn = gr.Button("Finish and get my completion code", visible=False,
                                   variant="primary", elem_id="finish-btn")
            done_md = gr.Markdown(elem_id="done")
            latent_plots = _latent_plots(maps, colors)
            latent_md = gr.Markdown(latent_text({}, maps), elem_id="latent-text")
            if maps:
                gr.HTML(legend_html(next(iter(colors.values()))), elem_id="latent-legend")
            with gr.Row():
                types = gr.Label(label=TYPES_LABEL, elem_id="type-shares", num_top_classes=8)
                conf_plot = gr.LinePlot(confidence_frame([]), x="answers",
                                        y="confidence", color="model", y_lim=[0, 1],
                                        color_map={"SPL": "#1f77b4", "VPL": "#ff7f0e"},
                                        label=CONFIDENCE_LABEL,
                                        elem_id="confidence",
                                        height=300)
    return LabelTab(consent_box, participant, agree, start, label_box, progress, prompt_md,
                    resp_a, resp_b, [btn_a, btn_b, btn_tie, btn_skip], btn_undo, finish_btn,
                    done_md, latent_plots, latent_md, types, conf_plot)


@dataclass
class RankTab:
    """The Rank tab's components."""

    choice: gr.Dropdown
    prompt: gr.Textbox
    candidates: gr.Textbox
    button: gr.Button
    out: gr.HTML


def rank_tab(ranking_sets: list[dict[str, Any]]) -> RankTab:
    """A demo prompt or a typed one with 2-8 candidates, ranked by every model."""
    with gr.Tab("Rank", id="rank-tab"):
        gr.Markdown("Rank candidate responses for **you** with each model. Pick a demo "
                    "prompt or type your own with 2-8 candidates, separated by a line "
                    f"holding only `{SEPARATOR}`. Responses placed differently by the "
                    "models are highlighted.")
        choices = [s["prompt"] for s in ranking_sets] + [CUSTOM]
        choice = gr.Dropdown(choices, value=choices[0], label="Prompt", elem_id="rank-choice")
        first = ranking_sets[0] if ranking_sets else {"prompt": "", "candidates": []}
        prompt = gr.Textbox(first["prompt"], label="Prompt text",
                            elem_id="rank-prompt", max_length=h.MAX_PROMPT_CHARS)
        candidates = gr.Textbox(join_candidates(first), label="Candidates", lines=6,
                                max_lines=14, elem_id="rank-candidates")
        button = gr.Button("Rank for me", variant="primary", elem_id="rank-btn")
        out = gr.HTML(elem_id="rank-out")
    return RankTab(choice, prompt, candidates, button, out)


def models_tab(service: Service) -> None:
    """What each run is (its model card) and its training plots."""
    with gr.Tab("Models", id="models-tab"):
        with gr.Row(equal_height=False):
            for run in service.runs.values():
                with gr.Column(min_width=300):
                    gr.Markdown(model_card(run, service.oracle_report))
                    if run.plots:
                        gr.Gallery([str(p) for p in run.plots],
                                   label=f"{run.name.upper()} training plots",
                                   columns=2, height=260, allow_preview=True)


class VisitorEvents:
    """The Label and Rank tabs' event handlers for one app (shared by every visitor).

    ``view`` outputs, in order: the visitor's state, the consent box, the label box, progress,
    prompt, response A and B, the type shares, the confidence plot, the done text, the latent
    text and one latent plot per map (``render`` returns them in that order).
    """

    def __init__(self, store: Store, service: Service, settings: Settings,
                 guard: Callable[..., Any], maps: dict[str, dict], n_checks: int) -> None:
        self.store, self.service, self.settings = store, service, settings
        self.guard, self.maps, self.n_checks = guard, maps, n_checks
        self.n_view = 11 + len(maps)  # the outputs ``render`` returns (see the class doc)

    def render(self, state: dict[str, Any], result: dict[str, Any], pair: dict | None) -> tuple:
        state = {**state, "pair": pair, "shown_at": time.monotonic()}
        state["history"] = [e for e in state.get("history", [])  # an undo rewrites it
                            if e["n_labels"] < result["n_labels"]] + [
            {"n_labels": result["n_labels"], "confidence": result["confidence_by_model"]}]
        state["stop_suggested"] = bool(result.get("stop_suggested"))
        head = progress_text(result, pair, self.n_checks)
        prompt, a, b = ("", "", "") if pair is None else (
            f"### {pair['prompt']}", pair["a"], pair["b"])
        shares = (result.get("latent") or {}).get("type_shares") or {}
        conf = result.get("confidence")
        done = state.get("finish")
        maps = self.maps
        return (state, gr.update(visible=False), gr.update(visible=True), head, prompt, a, b,
                gr.update(value=shares or None,
                          label=TYPES_LABEL
                          + ("" if conf is None else f" · confidence {conf:.0%} that SPL's "
                             "top pick is your favourite")),
                confidence_frame(state["history"]), done or "",
                latent_text(result["latent_by_model"], maps),
                *[latent_frame(maps[n], result["latent_by_model"].get(n)) for n in maps])

    @staticmethod
    def unlock(state: dict[str, Any]) -> list:
        can_answer, active, can_finish = controls(state)
        return ([gr.update(interactive=can_answer)] * 4
                + [gr.update(interactive=active),
                   gr.update(visible=can_finish, interactive=True)])

    @staticmethod
    def lock() -> list:
        return [gr.update(interactive=False)] * 6  # the answer buttons, undo and finish

    def on_load(self, state: dict[str, Any], saved: str | None, request: gr.Request) -> tuple:
        """Read the study ids from the URL; resume the browser's open session, if any
        (same participant), so a reload does not start over."""
        query = dict(request.query_params) if request else {}
        pid = (query.get("PROLIFIC_PID") or query.get("pid") or "")[:128]
        study = {"study_id": query.get("STUDY_ID", ""),
                 "external_session_id": query.get("SESSION_ID", "")}
        state = {**state, "study": study}
        try:
            session = self.store.get_session(saved) if isinstance(saved, str) else None
        except StoreError:
            session = None
        if session is None or session.finished or (pid and session.participant_id != pid):
            return (state, *[gr.update()] * (self.n_view - 1), pid)
        state = {**state, "session_id": session.session_id, "history": []}
        pair = self.guard(h.next_pair, self.store, self.service, session.session_id)
        summary = self.guard(h.summary, self.store, self.service, session.session_id, True)
        return (*self.render(state, summary, pair), session.participant_id)

    def on_start(self, state: dict[str, Any], pid: str, agreed: bool) -> tuple:
        if not agreed:
            raise error("Please tick the consent box to start; nothing is stored before.")
        study = state.get("study") or {}
        sid = self.guard(h.start_session, self.store, pid, study.get("study_id"),
                         study.get("external_session_id"), mode=self.settings.query_order)
        state = {"session_id": sid, "study": study, "history": []}
        pair = self.guard(h.next_pair, self.store, self.service, sid)
        return self.render(state, self.guard(h.summary, self.store, self.service, sid, True), pair)

    def adopt(self, state: dict[str, Any], saved: str | None) -> dict[str, Any]:
        """The visitor's state; when Gradio no longer holds it (``app.state_bound`` evicts
        long-idle tabs), rebuilt from the session id this browser keeps and the store."""
        if state.get("session_id") or not isinstance(saved, str) or not saved:
            return state
        try:
            session = self.store.get_session(saved)
        except StoreError:
            return state
        if session is None or session.finished:
            return state
        sid = session.session_id
        return {**state, "session_id": sid, "history": [],
                "pair": self.guard(h.next_pair, self.store, self.service, sid)}

    def on_answer(self, choice: str) -> Callable[[dict[str, Any], str | None], tuple]:
        def answer(state: dict[str, Any], saved: str | None) -> tuple:
            state = self.adopt(state, saved)
            sid, pair = state.get("session_id"), state.get("pair")
            if not sid or pair is None:
                raise error("There is no pair to answer.")
            # no time on screen after a rebuilt state: the handler then stores the time
            # since the previous answer, as for API callers
            seconds = (time.monotonic() - state["shown_at"]) if "shown_at" in state else None
            result = self.guard(h.label, self.store, self.service, sid, pair["pair_id"], choice,
                                seconds, True)
            return self.render(state, result, self.guard(h.next_pair, self.store, self.service, sid))
        return answer

    def on_undo(self, state: dict[str, Any], saved: str | None) -> tuple:
        state = self.adopt(state, saved)
        sid = state.get("session_id")
        if not sid:
            raise error("Start a session first.")
        result = self.guard(h.undo, self.store, self.service, sid, True)
        if result["undone"] is None:
            gr.Info("Nothing to undo yet.")
        return self.render(state, result, self.guard(h.next_pair, self.store, self.service, sid))

    def on_finish(self, state: dict[str, Any], saved: str | None) -> tuple:
        state = self.adopt(state, saved)
        out = self.guard(h.finish, self.store, self.settings, state.get("session_id"))
        text = f"### Thank you!\nYour completion code is **`{out['code']}`**."
        if out["redirect_url"]:
            text += f"\n\n[Return to the study]({out['redirect_url']})"
        state = {**state, "finish": text}
        summary = self.guard(h.summary, self.store, self.service, state["session_id"], True)
        return self.render(state, summary, None)

    @staticmethod
    def remember(state: dict[str, Any]) -> str | None:
        return None if state.get("finish") else state.get("session_id")

    def on_choice(self, choice: str) -> tuple:
        item = next((s for s in self.service.ranking_sets if s["prompt"] == choice), None)
        return ("", "") if item is None else (item["prompt"], join_candidates(item))

    def on_rank(self, state: dict[str, Any], saved: str | None, prompt: str, text: str) -> str:
        state = self.adopt(state, saved)
        if not state.get("session_id"):
            raise error("Start on the Label tab first (consent): the ranking is "
                        "personalised from your answers.")
        results = self.guard(h.rank, self.store, self.service, state["session_id"], prompt,
                             parse_candidates(text))
        return ranking_html(results)
