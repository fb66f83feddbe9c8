"""A real browser on the map page: the third question names the block, the gradient probe draws its chart."""
from __future__ import annotations

import re
import time

import pytest

from tests.browser_support import app_server, chromium
from tests.test_browser import _new_page, _shot

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def server(tmp_path_factory, playwright_api):
    """The app on a free port. Its idle OpenMP threads sleep: on a busy machine spinning ones made the probe
    ten times slower."""
    tmp = tmp_path_factory.mktemp("browser-research")
    with app_server(tmp, OMP_WAIT_POLICY="PASSIVE") as url:
        yield url


@pytest.fixture(scope="module")
def browser(playwright_api):
    with chromium(playwright_api) as b:
        yield b


#: The app's default lab dials, with 10 training images per class (an id the app resolves by drawing the data).
SMALL_LAB = "lab:s0.30-n10-v100-seed0"


def _bars(page) -> int:
    """Bar traces drawn by the probe chart (the last plotly chart on the page)."""
    return page.evaluate(
        """() => {
            const charts = [...document.querySelectorAll('.js-plotly-plot')];
            const gd = charts.find(c => (c.data || []).some(t => t.name === 'your data'));
            return gd ? gd.data.filter(t => t.type === 'bar').length : 0;
        }"""
    )


def test_third_question_and_gradient_probe_on_the_map(server, browser):
    from playwright.sync_api import expect

    url = server
    t0 = time.time()
    page = _new_page(browser)
    # Small lab data (10 training images per class, below the size line the sweep measured for labnet): the
    # map says top, and the third question refines it to one block.
    page.goto(f"{url}/Decision_map?lang=en&data={SMALL_LAB}")
    expect(page.get_by_role("heading", name=re.compile(r"^Quadrant 3"))).to_be_visible(timeout=120_000)

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
    page.goto(f"{url}/Decision_map?lang=ko&data={SMALL_LAB}")
    expect(page.get_by_text("질문 3 (선택)").first).to_be_visible()
    page.get_by_text("레이블이 정해지는 기준", exact=True).click()
    expect(page.get_by_role("heading", name="질문 3으로 다듬은 계획: surgical: stage4 + 출력층")).to_be_visible()
    _shot(page, "research_map_ko")
    print(f"\nresearch browser test: {time.time() - t0:.0f} s in the browser")
