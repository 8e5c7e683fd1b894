"""The demo in a real browser (Playwright, Debian's chromium): consent, keyboard labelling with
undo, the latent map, a ranking, the completion code. Asserts on visible text and roles only.

Uses the shipped demo pack (``assets/``) with the runs in ``SPL_RUNS`` or ``assets/runs`` when
they exist, else small random runs; typed texts go through a fake backbone. Saves screenshots
to ``tests/browser/artifacts/``; with ``SPL_UPDATE_SCREENSHOTS=1`` the README's two go to
``docs/screenshots/``.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
# the README's screenshots are rewritten only on request (SPL_UPDATE_SCREENSHOTS=1, ideally
# with the shipped runs); otherwise every screenshot goes to the ignored artifacts folder
SCREENSHOTS = (ROOT / "docs" / "screenshots" if os.environ.get("SPL_UPDATE_SCREENSHOTS")
               else ARTIFACTS)
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]

if not CHROMIUM.exists():
    pytest.skip("chromium is not installed at /usr/bin/chromium (apt-get install -y chromium); "
                "never `playwright install`", allow_module_level=True)
playwright = pytest.importorskip("playwright.sync_api")
from playwright.sync_api import expect, sync_playwright  # noqa: E402

expect.set_options(timeout=20_000)  # generous: CI machines may be busy (2 cores)

sys.path.insert(0, str(ROOT / "tests" / "app"))
from app_fixtures import FakeEmbedder, make_runs  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning",
                                        "ignore:.*no_silent_downcasting.*",
                                        "ignore:The copy keyword is deprecated")


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory):
    from app.runs import find_run_folders
    from app.service import Service
    from app.settings import Settings
    from app.store import Store
    from app.ui import build_app, launch_options

    if os.environ.get("SPL_RUNS") or (ROOT / "assets" / "runs" / "spl").is_dir():
        folders = find_run_folders(os.environ.get("SPL_RUNS"))
    else:  # random runs on the shipped pack's backbone, so its embeddings are used
        folders = make_runs(tmp_path_factory.mktemp("runs"), backbone="minilm")
    service = Service.from_folders(folders, ROOT / "assets", embedder=FakeEmbedder())
    store = Store.open(tmp_path_factory.mktemp("db") / "spl.db")
    settings = Settings(completion_url="https://study.example/done?cc={code}")
    demo = build_app(store, service, settings)
    from bench.appserver import serve_in_process

    url = serve_in_process(demo, **launch_options(service))
    try:
        yield url
    finally:
        demo.close()
        store.close()


@pytest.fixture(scope="module")
def browser_page():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(30_000)
        yield page
        context.close()
        browser.close()


def _answer(page, key: str, expect_pair: int) -> None:
    expect(page.locator("#btn-a")).to_be_enabled()
    page.keyboard.press(key)
    expect(page.locator("#progress")).to_contain_text(f"Pair {expect_pair} of 8")
    expect(page.locator("#btn-a")).to_be_enabled()


def test_label_rank_finish(app_url: str, browser_page) -> None:
    page = browser_page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.goto(app_url + "?PROLIFIC_PID=browser-test&STUDY_ID=S1", wait_until="load")
    expect(page.get_by_role("button", name="I agree, start")).to_be_visible(timeout=30_000)
    expect(page.locator("#participant textarea, #participant input")).to_have_value(
        "browser-test")
    # consent is required: nothing starts without the box ticked
    page.get_by_role("button", name="I agree, start").click()
    expect(page.get_by_text("Please tick the consent box")).to_be_visible()
    page.get_by_label("I agree that my answers").check()
    page.get_by_role("button", name="I agree, start").click()
    expect(page.locator("#progress")).to_contain_text("Pair 1 of 8", timeout=30_000)
    expect(page.locator("#resp-a")).to_be_visible()

    for i, key in enumerate("abta"):
        _answer(page, key, i + 2)
    page.keyboard.press("u")  # undo the fourth answer
    expect(page.locator("#progress")).to_contain_text("Pair 4 of 8")
    expect(page.locator("#btn-undo")).to_be_enabled()
    _answer(page, "b", 5)

    expect(page.locator("#latent-map-spl")).to_be_visible()
    expect(page.locator("#latent-map-spl")).to_contain_text("you")
    expect(page.locator("#type-shares")).to_contain_text(re.compile(r"\d+%"))
    page.wait_for_timeout(500)  # let the plots finish drawing
    page.screenshot(path=str(SCREENSHOTS / "labelling.png"), full_page=True)

    # ranking: typing in a text field never triggers a shortcut
    page.get_by_role("tab", name="Rank").click()
    prompt_box = page.locator("#rank-prompt textarea, #rank-prompt input").first
    prompt_box.click()
    prompt_box.press("End")
    prompt_box.type(" abtsu")
    prompt_box.fill(prompt_box.input_value().removesuffix(" abtsu"))
    page.get_by_role("button", name="Rank for me").click()
    out = page.locator("#rank-out")
    expect(out).to_contain_text("SPL", timeout=30_000)
    expect(out).to_contain_text("VPL")
    expect(out).to_contain_text("BTL")
    expect(out.get_by_role("status")).to_contain_text(re.compile("agree|disagree"))
    page.screenshot(path=str(SCREENSHOTS / "ranking.png"), full_page=True)

    page.get_by_role("tab", name="Label").click()
    expect(page.locator("#progress")).to_contain_text("Pair 5 of 8")  # no stray answers
    page.reload(wait_until="load")  # a reload resumes the session instead of starting over
    expect(page.locator("#progress")).to_contain_text("Pair 5 of 8", timeout=30_000)
    expect(page.locator("#resp-a")).to_be_visible()
    for n in range(6, 9):
        _answer(page, "s", n)
    page.keyboard.press("a")
    expect(page.locator("#progress")).to_contain_text("All 8 pairs answered")
    page.get_by_role("button", name="Finish and get my completion code").click()
    expect(page.locator("#done")).to_contain_text("completion code", timeout=30_000)
    expect(page.get_by_role("link", name="Return to the study")).to_have_attribute(
        "href", re.compile(r"^https://study\.example/done\?cc=[0-9A-F]+$"))
    page.get_by_role("tab", name="Models").click()
    expect(page.get_by_text("SPL: swap-guided posterior")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "demo_end.png"), full_page=True)
