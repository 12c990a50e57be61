"""The insights page in headless Chromium against a real `agentfleet dev`."""

from __future__ import annotations

import shutil

import pytest

from tests.processes.fleet import free_port
from tests.processes.test_dev import _env, _start_dev

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def browser_page(tmp_path):
    if CHROMIUM is None:
        pytest.skip(
            "Chromium is not installed (Debian: apt-get install chromium); .ci/run installs it"
        )
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"),  # a fresh user data dir
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1280, "height": 900},
        )
        try:
            yield browser.new_page()
        finally:
            browser.close()


def test_submit_through_the_page_and_see_the_findings_appear(tmp_path, browser_page):
    port = free_port()
    dev = _start_dev(tmp_path, port, _env())
    page = browser_page
    try:
        page.goto(f"http://127.0.0.1:{port}/")
        page.fill("#topic", "How do teams handle LLM API rate limits, retries and costs?")
        page.fill("#subreddits", "LocalLLaMA, Python")
        page.fill("#min-findings", "3")
        page.click("#submit-button")
        page.wait_for_selector("#detail-state.SUCCEEDED", timeout=60_000)
        page.wait_for_selector("#findings li.finding", timeout=10_000)
        links = page.eval_on_selector_all("#findings a", "els => els.map(e => e.href)")
        events = page.eval_on_selector_all("#events li", "els => els.length")
        rows = page.eval_on_selector_all("#executions tbody tr", "els => els.length")
        screenshot = tmp_path / "insights-page.png"
        page.screenshot(path=str(screenshot), full_page=True)
        print(f"\nscreenshot: {screenshot}")
    finally:
        dev.terminate()
        dev.wait(timeout=30)
    assert len(links) >= 3
    assert all(link.startswith("https://www.reddit.com/r/") for link in links)
    assert events >= 4  # progress events were shown live
    assert rows >= 1
    assert screenshot.stat().st_size > 10_000  # a rendered page, not a blank one


def test_a_bad_input_shows_the_servers_message_on_the_page(tmp_path, browser_page):
    port = free_port()
    dev = _start_dev(tmp_path, port, _env())
    page = browser_page
    try:
        page.goto(f"http://127.0.0.1:{port}/")
        page.fill("#topic", "anything")
        page.fill("#subreddits", "not-a-valid-name!!")
        page.click("#submit-button")
        page.wait_for_selector("#submit-error:not([hidden])", timeout=10_000)
        message = page.inner_text("#submit-error")
    finally:
        dev.terminate()
        dev.wait(timeout=30)
    assert message.startswith("BAD_USER_INPUT")
