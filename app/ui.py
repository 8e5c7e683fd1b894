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

import tempfile
from pathlib import Path
from typing import Any

import gradio as gr

from app import handlers as h
from app.service import REPEAT_SUFFIX, Service
from app.settings import Settings
from app.state_bound import StateBound
from app.store import Store
from app.ui_tabs import (LabelTab, RankTab, VisitorEvents, label_tab, latent_maps, models_tab,
                         rank_tab)
from app.ui_text import controls, guard, parse_candidates, progress_text

__all__ = ["build_app", "controls", "launch_options", "parse_candidates", "progress_text",
           "show_owner_tab"]

HERE = Path(__file__).resolve().parent
OWNER_PARAM = "owner"  # ?owner in the URL shows the Study owner tab (show_owner_tab)
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


def launch_options(service: Service | None = None) -> dict[str, Any]:
    """Launch-time settings (Gradio 6 takes theme/css/js at launch): keyboard JS, CSS, theme,
    and the run folders as allowed paths (for the Models tab's plots)."""
    folders = [str(r.folder.resolve()) for r in service.runs.values()] if service else []
    return {"js": (HERE / "keyboard.js").read_text(encoding="utf-8"), "css": CSS,
            "theme": gr.themes.Soft(), "allowed_paths": folders}


def _register_api(store: Store, service: Service, settings: Settings, guard=guard) -> None:
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
    """The demo's Blocks (call ``.launch(**launch_options(service))`` on it): the tabs, each
    from its builder (``app.ui_tabs``), then the named API and the visitor's events."""
    maps, colors = latent_maps(service)
    bound = StateBound()  # bounds what Gradio keeps per connection (app.state_bound)

    def guarded(fn, *args, **kwargs):
        try:
            return guard(fn, *args, **kwargs)
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
            label = label_tab(maps, colors)
            rank = rank_tab(service.ranking_sets)
            models_tab(service)
            admin_tab = _admin_tab(store, settings) if settings.admin_enabled else None
        _register_api(store, service, settings, guarded)
        n_checks = sum(i["pair_id"].endswith(REPEAT_SUFFIX) for i in service.items)
        events = VisitorEvents(store, service, settings, guarded, maps, n_checks)
        _wire_label(demo, label, events, visitor, saved, admin_tab)
        _wire_rank(rank, events, visitor, saved)
    demo.queue(default_concurrency_limit=8)
    demo.state_bound = bound  # type: ignore[attr-defined]  # for tests and benches
    return demo


def _wire_label(demo: gr.Blocks, tab: LabelTab, events: VisitorEvents, visitor: gr.State,
                saved: gr.BrowserState, admin_tab: gr.Tab | None) -> None:
    """Page load (resume, owner tab), consent, the answer buttons, undo and finish: each click
    locks the buttons, runs its event, unlocks what the new state allows, remembers the session."""
    view = [visitor, tab.consent_box, tab.label_box, tab.progress, tab.prompt, tab.resp_a,
            tab.resp_b, tab.types, tab.confidence, tab.done, tab.latent_md, *tab.latent_plots]
    if len(view) != events.n_view:  # on_load pads its no-op answer to this many outputs
        raise RuntimeError(f"the Label view has {len(view)} outputs, the events {events.n_view}")
    buttons = tab.buttons
    (demo.load(events.on_load, [visitor, saved], view + [tab.participant], api_name="ui_load",
               api_visibility="private")
     .then(events.unlock, [visitor], buttons, queue=False, api_visibility="private"))
    if admin_tab is not None:
        def on_owner(request: gr.Request) -> dict:
            query = dict(request.query_params) if request else {}
            return gr.update(visible=show_owner_tab(query))

        demo.load(on_owner, None, admin_tab, queue=False, api_visibility="private")
    chain = [(tab.start, events.on_start, [visitor, tab.participant, tab.agree], "ui_start"),
             (tab.undo, events.on_undo, [visitor, saved], "ui_undo"),
             (tab.finish, events.on_finish, [visitor, saved], "ui_finish")]
    chain += [(b, events.on_answer(c), [visitor, saved], f"ui_answer_{c}")
              for b, c in zip(tab.answer_buttons, ("A", "B", "tie", "skip"))]
    for button, fn, inputs, name in chain:
        (button.click(events.lock, None, buttons, queue=False, api_visibility="private")
         .then(fn, inputs, view, api_name=name, api_visibility="private", show_progress="hidden",
               concurrency_id="cheap")
         .then(events.unlock, [visitor], buttons, queue=False, api_visibility="private")
         .then(events.remember, [visitor], saved, queue=False, api_visibility="private"))


def _wire_rank(tab: RankTab, events: VisitorEvents, visitor: gr.State,
               saved: gr.BrowserState) -> None:
    """Picking a demo prompt fills the boxes; ranking disables its button while it runs."""
    tab.choice.change(events.on_choice, tab.choice, [tab.prompt, tab.candidates], queue=False,
                      api_visibility="private")
    (tab.button.click(lambda: gr.update(interactive=False), None, tab.button, queue=False,
                      api_visibility="private")
     .then(events.on_rank, [visitor, saved, tab.prompt, tab.candidates], tab.out,
           api_name="ui_rank", api_visibility="private", concurrency_id="embed")
     .then(lambda: gr.update(interactive=True), None, tab.button, queue=False,
           api_visibility="private"))


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
            return [str(p) for p in guard(h.admin_export, store, settings, token, folder)]

        def statistics(token: str) -> dict:
            return guard(h.admin_stats, store, settings, token)

        export_btn.click(export, token_box, files, api_name="admin_export", concurrency_limit=1)
        stats_btn.click(statistics, token_box, stats, api_name="admin_stats", concurrency_limit=2)
    return tab
