"""Build and wire the demo: ``build_app(store, service, settings) -> gr.Blocks``.

Tabs: **Label** (intro, consent, one pair at a time with A / B / tie / skip / undo and keyboard
shortcuts, progress, the latent map and confidence after every answer, the completion code),
**Rank** (SPL next to VPL and BTL on a demo prompt or a typed one), **Models** (what each run
is, its training report and plots) and, with ``SPL_ADMIN_TOKEN`` set, **Study owner** (shown
only on a page opened with ``?owner`` in its URL; its tools need the token).

Per-visitor state (session id, the pair on screen, when it appeared, confidence history) lives
in a ``gr.State``; the models and the store are shared. Buttons are disabled while an answer is
saved. The named API (``/new_session``, ``/next_pair``, ``/label``, ``/undo``, ``/rank``,
``/finish``) is documented in the README; UI events are private.
"""

from __future__ import annotations

import logging
import tempfile
import time
from pathlib import Path
from typing import Any

import gradio as gr

from app import handlers as h
from app.figures import (CONFIDENCE_LABEL, confidence_frame, latent_colors, latent_frame, latent_text,
                         legend_html, ranking_html)
from app.runs import model_card
from app.service import REPEAT_SUFFIX, Service
from app.settings import Settings
from app.state_bound import StateBound
from app.store import StoreError, Store

__all__ = ["build_app", "controls", "launch_options", "parse_candidates", "progress_text",
           "show_owner_tab"]

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
CUSTOM = "Type your own prompt"
OWNER_PARAM = "owner"  # ?owner in the URL shows the Study owner tab (show_owner_tab)
SEPARATOR = "---"
CSS = """
#spl-warning {border-left: 4px solid #d97706; padding-left: .5em}
.spl-ranking {display: grid; grid-template-columns: repeat(auto-fit, minmax(220px, 1fr)); gap: 1em}
.spl-ranking li {margin-bottom: .6em}
.spl-differs {background: rgba(250, 204, 21, .25); border-radius: 4px}
.spl-score {font-family: monospace; font-size: .9em; font-weight: 600; margin-right: .3em}
.spl-disagree {color: #b45309}
.spl-note {font-size: .8em; font-style: italic}
.spl-legend {display: flex; flex-wrap: wrap; gap: 1em; font-size: .9em}
.spl-dot {display: inline-block; width: .8em; height: .8em; border-radius: 50%; margin-right: .3em}
.spl-how {font-size: .9em}
/* WCAG AA (4.5:1): the Soft theme's field labels (~3.6:1) and the footer (~2.4:1) are too
   light; the body text colour (light and dark mode) instead */
.block-info, label > span, [data-testid="block-info"] {color: var(--body-text-color) !important}
footer, footer a, footer button, footer span, footer div {color: var(--body-text-color) !important;
                                                          opacity: 1 !important}
/* error and info pop-ups at the bottom, where they do not hide the title */
.toast-wrap {top: auto !important; bottom: var(--size-4) !important}
/* the latent maps: Gradio sizes the chart as the block's height less one label line, so a
   label wrapped on a narrow screen pushed the x-axis title out of the (clipped) block; the
   block now grows with its label around a chart of fixed height */
.spl-map {height: auto !important}
.spl-map .vega-embed {height: 340px !important}
/* phone width: the answer buttons stay on screen while the responses are read */
/* the container's overflow: hidden would make it the sticky row's scroller: clip instead */
.gradio-container {overflow: clip !important}
@media (max-width: 640px) {
  #answer-row {position: sticky; bottom: 0; z-index: 20; gap: 4px; padding: 6px 0;
               background: var(--background-fill-primary); box-shadow: 0 -2px 6px rgba(0,0,0,.12)}
  #answer-row button {min-width: 0 !important; flex: 1 1 30% !important; padding: 4px 2px;
                      font-size: .85em; min-height: 0 !important}
}
"""
INTRO = """# Who are you? A personalized reward model learns it from a few answers

Pick the response **you** prefer for a few everyday questions. After every answer, SPL
(Swap-guided Preference Learning) updates its guess of your preferences (a point in its latent
space) and re-ranks candidate answers for you, next to VPL and a one-size-fits-all reward model
(BTL)."""
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


def launch_options(service: Service | None = None) -> dict[str, Any]:
    """Launch-time settings (Gradio 6 takes theme/css/js at launch): keyboard JS, CSS, theme,
    and the run folders as allowed paths (for the Models tab's plots)."""
    folders = [str(r.folder.resolve()) for r in service.runs.values()] if service else []
    return {"js": (HERE / "keyboard.js").read_text(encoding="utf-8"), "css": CSS,
            "theme": gr.themes.Soft(), "allowed_paths": folders}


ERROR_SECONDS = 5  # pop-ups close by themselves after this (Gradio's default is 10 s)


def _error(message: str) -> gr.Error:
    """A visitor-facing pop-up: short-lived, at the bottom of the page (see ``CSS``)."""
    return gr.Error(message, duration=ERROR_SECONDS, print_exception=False)


def _guard(fn, *args, **kwargs):
    """Call a handler; refusals become ``gr.Error`` with their plain sentence, anything
    unexpected a generic one (details go to the server log only)."""
    try:
        return fn(*args, **kwargs)
    except gr.Error:
        raise
    except (h.HandlerError, StoreError) as err:
        raise _error(str(err)) from None
    except Exception:
        log.exception("handler %s failed", getattr(fn, "__name__", fn))
        raise _error("Something went wrong on the server; please try again.") from None


def _register_api(store: Store, service: Service, settings: Settings, guard=_guard) -> None:
    def new_session(participant: str = "", study_id: str = "",
                    external_session_id: str = "") -> str:
        """Record consent and start a session; returns the secret session id."""
        return guard(h.start_session, store, participant, study_id, external_session_id,
                     mode=settings.query_order)

    def next_pair(session_id: str) -> dict | None:
        """The next pair {pair_id, prompt, a, b} as shown, or null when done."""
        return guard(h.next_pair, store, service, session_id)

    def label(session_id: str, pair_id: str, choice: str) -> dict:
        """Answer the current pair: choice is A, B, tie or skip."""
        return guard(h.label, store, service, session_id, pair_id, choice)

    def undo(session_id: str) -> dict:
        """Undo the latest answer."""
        return guard(h.undo, store, service, session_id)

    def rank(session_id: str, prompt: str, candidates: list[str]) -> dict:
        """Rank 2-8 candidates with SPL, VPL and BTL for this session, best first."""
        return guard(h.rank, store, service, session_id, prompt, candidates)

    def finish(session_id: str) -> dict:
        """Finish the session: {code, redirect_url}."""
        return guard(h.finish, store, settings, session_id)

    for fn in (new_session, next_pair, label, undo, finish):
        gr.api(fn, api_name=fn.__name__, concurrency_limit=8, concurrency_id="cheap")
    gr.api(rank, api_name="rank", concurrency_limit=2, concurrency_id="embed")


def build_app(store: Store, service: Service, settings: Settings) -> gr.Blocks:
    """The demo's Blocks (call ``.launch(**launch_options(service))`` on it)."""
    ranking_sets = service.ranking_sets
    maps = {n: r.latent_map for n, r in service.runs.items() if r.latent_map}
    colors = {n: latent_colors(sorted({str(p.get("user_type")) for p in m.get("points") or []}))
              for n, m in maps.items()}
    bound = StateBound()  # bounds what Gradio keeps per connection (app.state_bound)

    def guard(fn, *args, **kwargs):
        try:
            return _guard(fn, *args, **kwargs)
        finally:
            bound.maybe_prune()

    with gr.Blocks(title="SPL: personalized reward model demo") as demo:
        bound.demo = demo
        visitor = gr.State({})
        # the open session's id, kept in this browser (encrypted) so a reload resumes it
        saved = gr.BrowserState(None, storage_key="spl-demo-session")
        gr.Markdown(INTRO, elem_id="intro")
        if settings.storage_warning:
            gr.Markdown(f"**{settings.storage_warning}**", elem_id="spl-warning")
        with gr.Tabs():
            with gr.Tab("Label", id="label-tab"):
                with gr.Group(visible=True, elem_id="consent-box") as consent_box:
                    with gr.Accordion("Guidelines", open=True):
                        gr.Markdown(GUIDELINES)
                    participant = gr.Textbox(label="Participant id (from your study link; "
                                             "leave empty for a random one)",
                                             elem_id="participant", max_length=128)
                    agree = gr.Checkbox(label=CONSENT, elem_id="consent-check")
                    start = gr.Button("I agree, start", variant="primary", elem_id="consent-btn")
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
                    with gr.Row():
                        latent_plots = [
                            gr.ScatterPlot(latent_frame(maps[n], None), x="x", y="y",
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
                    latent_md = gr.Markdown(latent_text({}, maps), elem_id="latent-text")
                    if maps:
                        gr.HTML(legend_html(next(iter(colors.values()))), elem_id="latent-legend")
                    with gr.Row():
                        types = gr.Label(label="Which probe persona you resemble (SPL)",
                                         elem_id="type-shares", num_top_classes=8)
                        conf_plot = gr.LinePlot(confidence_frame([]), x="answers",
                                                y="confidence", color="model", y_lim=[0, 1],
                                                color_map={"SPL": "#1f77b4", "VPL": "#ff7f0e"},
                                                label=CONFIDENCE_LABEL,
                                                elem_id="confidence",
                                                height=300)
            with gr.Tab("Rank", id="rank-tab"):
                gr.Markdown("Rank candidate responses for **you** with each model. Pick a demo "
                            "prompt or type your own with 2-8 candidates, separated by a line "
                            f"holding only `{SEPARATOR}`. Responses placed differently by the "
                            "models are highlighted.")
                choices = [s["prompt"] for s in ranking_sets] + [CUSTOM]
                rank_choice = gr.Dropdown(choices, value=choices[0], label="Prompt",
                                          elem_id="rank-choice")
                first = ranking_sets[0] if ranking_sets else {"prompt": "", "candidates": []}
                rank_prompt = gr.Textbox(first["prompt"], label="Prompt text",
                                         elem_id="rank-prompt", max_length=h.MAX_PROMPT_CHARS)
                rank_cands = gr.Textbox(_join(first), label="Candidates", lines=6, max_lines=14,
                                        elem_id="rank-candidates")
                rank_btn = gr.Button("Rank for me", variant="primary", elem_id="rank-btn")
                rank_out = gr.HTML(elem_id="rank-out")
            with gr.Tab("Models", id="models-tab"):
                with gr.Row(equal_height=False):
                    for run in service.runs.values():
                        with gr.Column(min_width=300):
                            gr.Markdown(model_card(run, service.oracle_report))
                            if run.plots:
                                gr.Gallery([str(p) for p in run.plots],
                                           label=f"{run.name.upper()} training plots",
                                           columns=2, height=260, allow_preview=True)
            admin_tab = _admin_tab(store, settings) if settings.admin_enabled else None
        _register_api(store, service, settings, guard)

        answer_buttons = [btn_a, btn_b, btn_tie, btn_skip]
        buttons = answer_buttons + [btn_undo, finish_btn]
        view = [visitor, consent_box, label_box, progress, prompt_md, resp_a, resp_b,
                types, conf_plot, done_md, latent_md, *latent_plots]
        n_checks = sum(i["pair_id"].endswith(REPEAT_SUFFIX) for i in service.items)

        def render(state: dict[str, Any], result: dict[str, Any], pair: dict | None) -> tuple:
            state = {**state, "pair": pair, "shown_at": time.monotonic()}
            state["history"] = [e for e in state.get("history", [])  # an undo rewrites it
                                if e["n_labels"] < result["n_labels"]] + [
                {"n_labels": result["n_labels"], "confidence": result["confidence_by_model"]}]
            state["stop_suggested"] = bool(result.get("stop_suggested"))
            head = progress_text(result, pair, n_checks)
            prompt, a, b = ("", "", "") if pair is None else (
                f"### {pair['prompt']}", pair["a"], pair["b"])
            shares = (result.get("latent") or {}).get("type_shares") or {}
            conf = result.get("confidence")
            done = state.get("finish")
            return (state, gr.update(visible=False), gr.update(visible=True), head, prompt, a, b,
                    gr.update(value=shares or None,
                              label="Which probe persona you resemble (SPL)"
                              + ("" if conf is None else f" · confidence {conf:.0%} that SPL's "
                                 "top pick is your favourite")),
                    confidence_frame(state["history"]), done or "",
                    latent_text(result["latent_by_model"], maps),
                    *[latent_frame(maps[n], result["latent_by_model"].get(n)) for n in maps])

        def unlock(state: dict[str, Any]) -> list:
            can_answer, active, can_finish = controls(state)
            return ([gr.update(interactive=can_answer)] * 4
                    + [gr.update(interactive=active),
                       gr.update(visible=can_finish, interactive=True)])

        def lock() -> list:
            return [gr.update(interactive=False)] * len(buttons)

        def on_load(state: dict[str, Any], saved: str | None, request: gr.Request) -> tuple:
            """Read the study ids from the URL; resume the browser's open session, if any
            (same participant), so a reload does not start over."""
            query = dict(request.query_params) if request else {}
            pid = (query.get("PROLIFIC_PID") or query.get("pid") or "")[:128]
            study = {"study_id": query.get("STUDY_ID", ""),
                     "external_session_id": query.get("SESSION_ID", "")}
            state = {**state, "study": study}
            try:
                session = store.get_session(saved) if isinstance(saved, str) else None
            except StoreError:
                session = None
            if session is None or session.finished or (pid and session.participant_id != pid):
                return (state, *[gr.update()] * (len(view) - 1), pid)
            state = {**state, "session_id": session.session_id, "history": []}
            pair = guard(h.next_pair, store, service, session.session_id)
            summary = guard(h.summary, store, service, session.session_id, True)
            return (*render(state, summary, pair), session.participant_id)

        def on_start(state: dict[str, Any], pid: str, agreed: bool) -> tuple:
            if not agreed:
                raise _error("Please tick the consent box to start; nothing is stored before.")
            study = state.get("study") or {}
            sid = guard(h.start_session, store, pid, study.get("study_id"),
                        study.get("external_session_id"), mode=settings.query_order)
            state = {"session_id": sid, "study": study, "history": []}
            pair = guard(h.next_pair, store, service, sid)
            return render(state, guard(h.summary, store, service, sid, True), pair)

        def adopt(state: dict[str, Any], saved: str | None) -> dict[str, Any]:
            """The visitor's state; when Gradio no longer holds it (``app.state_bound`` evicts
            long-idle tabs), rebuilt from the session id this browser keeps and the store."""
            if state.get("session_id") or not isinstance(saved, str) or not saved:
                return state
            try:
                session = store.get_session(saved)
            except StoreError:
                return state
            if session is None or session.finished:
                return state
            sid = session.session_id
            return {**state, "session_id": sid, "history": [],
                    "pair": guard(h.next_pair, store, service, sid)}

        def on_answer(choice: str):
            def answer(state: dict[str, Any], saved: str | None) -> tuple:
                state = adopt(state, saved)
                sid, pair = state.get("session_id"), state.get("pair")
                if not sid or pair is None:
                    raise _error("There is no pair to answer.")
                # no time on screen after a rebuilt state: the handler then stores the time
                # since the previous answer, as for API callers
                seconds = (time.monotonic() - state["shown_at"]) if "shown_at" in state else None
                result = guard(h.label, store, service, sid, pair["pair_id"], choice,
                               seconds, True)
                return render(state, result, guard(h.next_pair, store, service, sid))
            return answer

        def on_undo(state: dict[str, Any], saved: str | None) -> tuple:
            state = adopt(state, saved)
            sid = state.get("session_id")
            if not sid:
                raise _error("Start a session first.")
            result = guard(h.undo, store, service, sid, True)
            if result["undone"] is None:
                gr.Info("Nothing to undo yet.")
            return render(state, result, guard(h.next_pair, store, service, sid))

        def on_finish(state: dict[str, Any], saved: str | None) -> tuple:
            state = adopt(state, saved)
            out = guard(h.finish, store, settings, state.get("session_id"))
            text = f"### Thank you!\nYour completion code is **`{out['code']}`**."
            if out["redirect_url"]:
                text += f"\n\n[Return to the study]({out['redirect_url']})"
            state = {**state, "finish": text}
            return render(state, guard(h.summary, store, service, state["session_id"], True),
                          None)

        def remember(state: dict[str, Any]) -> str | None:
            return None if state.get("finish") else state.get("session_id")

        (demo.load(on_load, [visitor, saved], view + [participant], api_name="ui_load",
                   api_visibility="private")
         .then(unlock, [visitor], buttons, queue=False, api_visibility="private"))
        if admin_tab is not None:
            def on_owner(request: gr.Request) -> dict:
                query = dict(request.query_params) if request else {}
                return gr.update(visible=show_owner_tab(query))

            demo.load(on_owner, None, admin_tab, queue=False, api_visibility="private")
        chain = [(start, on_start, [visitor, participant, agree], "ui_start"),
                 (btn_undo, on_undo, [visitor, saved], "ui_undo"),
                 (finish_btn, on_finish, [visitor, saved], "ui_finish")]
        chain += [(b, on_answer(c), [visitor, saved], f"ui_answer_{c}")
                  for b, c in zip(answer_buttons, ("A", "B", "tie", "skip"))]
        for button, fn, inputs, name in chain:
            (button.click(lock, None, buttons, queue=False, api_visibility="private")
             .then(fn, inputs, view, api_name=name, api_visibility="private", show_progress="hidden",
                   concurrency_id="cheap")
             .then(unlock, [visitor], buttons, queue=False, api_visibility="private")
             .then(remember, [visitor], saved, queue=False, api_visibility="private"))

        def on_choice(choice: str) -> tuple:
            item = next((s for s in ranking_sets if s["prompt"] == choice), None)
            return ("", "") if item is None else (item["prompt"], _join(item))

        def on_rank(state: dict[str, Any], saved: str | None, prompt: str, text: str) -> str:
            state = adopt(state, saved)
            if not state.get("session_id"):
                raise _error("Start on the Label tab first (consent): the ranking is "
                             "personalised from your answers.")
            results = guard(h.rank, store, service, state["session_id"], prompt,
                            parse_candidates(text))
            return ranking_html(results)

        rank_choice.change(on_choice, rank_choice, [rank_prompt, rank_cands], queue=False,
                           api_visibility="private")
        (rank_btn.click(lambda: gr.update(interactive=False), None, rank_btn, queue=False,
                        api_visibility="private")
         .then(on_rank, [visitor, saved, rank_prompt, rank_cands], rank_out, api_name="ui_rank",
               api_visibility="private", concurrency_id="embed")
         .then(lambda: gr.update(interactive=True), None, rank_btn, queue=False,
               api_visibility="private"))
    demo.queue(default_concurrency_limit=8)
    demo.state_bound = bound  # type: ignore[attr-defined]  # for tests and benches
    return demo


def _join(item: dict[str, Any]) -> str:
    return f"\n{SEPARATOR}\n".join(c["response"] for c in item.get("candidates", []))


def show_owner_tab(query: dict[str, str]) -> bool:
    """Whether a page shows the Study owner tab: only when opened with ``?owner`` in its URL
    (the study owner's bookmark), never on a participant's link. The tab's tools need the
    token either way; hiding it keeps participants from wondering about it."""
    return OWNER_PARAM in query


def _admin_tab(store: Store, settings: Settings) -> gr.Tab:
    """The study owner's tab, hidden until ``show_owner_tab`` says otherwise."""
    with gr.Tab("Study owner", id="admin-tab", visible=False) as tab:
        token_box = gr.Textbox(label="Admin token", type="password", elem_id="admin-token")
        with gr.Row():
            export_btn = gr.Button("Export labels (JSONL, CSV, TRL)", elem_id="admin-export")
            stats_btn = gr.Button("Counts and attention checks", elem_id="admin-stats")
        files = gr.File(label="Exports", file_count="multiple", elem_id="admin-files")
        stats = gr.JSON(label="Study statistics", elem_id="admin-json")

        def export(token: str) -> list[str]:
            folder = tempfile.mkdtemp(prefix="spl-export-")
            return [str(p) for p in _guard(h.admin_export, store, settings, token, folder)]

        def statistics(token: str) -> dict:
            return _guard(h.admin_stats, store, settings, token)

        export_btn.click(export, token_box, files, api_name="admin_export", concurrency_limit=1)
        stats_btn.click(statistics, token_box, stats, api_name="admin_stats", concurrency_limit=2)
    return tab
