"""A real browser on the map page: the third question names the block, the gradient probe draws its chart."""
from __future__ import annotations

import time

import pytest

from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, _shot, playwright_api, server  # noqa: F401 - fixtures

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(autouse=True)
def _passive_threads(monkeypatch):
    """The server's idle OpenMP threads sleep: on a busy machine spinning ones make the probe ten times slower."""
    monkeypatch.setenv("OMP_WAIT_POLICY", "PASSIVE")


def _bars(page) -> int:
    """Bar traces drawn by the probe chart (the last plotly chart on the page)."""
    return page.evaluate(
        """() => {
            const charts = [...document.querySelectorAll('.js-plotly-plot')];
            const gd = charts.find(c => (c.data || []).some(t => t.name === 'your data'));
            return gd ? gd.data.filter(t => t.type === 'bar').length : 0;
        }"""
    )


def test_third_question_and_gradient_probe_on_the_map(server, playwright_api):
    sync_playwright = playwright_api
    from playwright.sync_api import expect

    url, _ = server
    t0 = time.time()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(60_000)
        expect.set_options(timeout=60_000)
        page.goto(f"{url}/Decision_map")
        expect(page.get_by_role("heading", name="Quadrant 3")).to_be_visible(timeout=120_000)

        # The third question, answered: the recommendation names the block and says why.
        page.get_by_text("How they look", exact=True).click()
        expect(page.get_by_role("heading", name="Refined by question 3: surgical: stem + output layer")).to_be_visible()
        expect(page.get_by_text("Lee et al. (ICLR 2023)").first).to_be_visible()
        expect(page.get_by_role("button", name="Train surgical (stem)")).to_be_visible()

        # The gradient probe: one bar per group for the data and for the pretraining images, and a suggestion.
        page.get_by_role("button", name="Run the gradient probe").click()
        expect(page.get_by_text("try surgical", exact=False).first).to_be_visible(timeout=90_000)
        deadline = time.time() + 30
        while _bars(page) < 2 and time.time() < deadline:
            page.wait_for_timeout(300)
        assert _bars(page) == 2, "the probe chart shows the data's bars beside the pretraining images'"
        _shot(page, "research_map_probe")

        # Korean: the same answer in Korean.
        page.goto(f"{url}/Decision_map?lang=ko")
        expect(page.get_by_text("질문 3 (선택)").first).to_be_visible()
        page.get_by_text("레이블이 정해지는 기준", exact=True).click()
        expect(page.get_by_role("heading", name="질문 3으로 다듬은 계획: surgical: stage4 + 출력층")).to_be_visible()
        _shot(page, "research_map_ko")
        browser.close()
    print(f"\nresearch browser test: {time.time() - t0:.0f} s in the browser")
