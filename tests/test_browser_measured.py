"""A real browser shows the regions the lab sweep measured on the decision map; every cell's colour is the sweep's."""
from __future__ import annotations

import re

import pytest

from tests.browser_support import app_server, chromium
from tests.test_browser import _shot
from tlcore import service, viz

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def server(tmp_path_factory, playwright_api):
    tmp = tmp_path_factory.mktemp("measured-browser")
    with app_server(tmp) as url:
        yield url, tmp


def _rgb(color: str) -> tuple[int, int, int]:
    if color.startswith("#"):
        return tuple(int(color[i:i + 2], 16) for i in (1, 3, 5))
    return tuple(int(v) for v in re.match(r"rgba?\((\d+),\s*(\d+),\s*(\d+)", color).groups())


def _drawn_cells(page) -> list[dict]:
    return page.evaluate(
        """() => {
            for (const gd of document.querySelectorAll('.js-plotly-plot')) {
                const cells = (gd.data || []).filter(t => t.name === 'cell');
                if (cells.length) return cells.map(t => ({meta: t.meta, fill: t.fillcolor}));
            }
            return [];
        }""")


def test_measured_regions_drawn_in_the_browser(server, playwright_api):  # noqa: F811
    from playwright.sync_api import expect

    url, _ = server
    sweep = service.sweep_for("labnet")
    with chromium(playwright_api) as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(120_000)
        expect.set_options(timeout=120_000)  # the first page draws the default lab dataset on a busy machine
        for lang, toggle in (("en", "Show the regions measured for labnet"), ("ko", "labnet에 대해 측정한 영역 보기")):
            page.goto(f"{url}/Decision_map?lang={lang}")
            page.get_by_text(toggle).click()
            expect(page.locator(".js-plotly-plot")).to_have_count(3)  # the map, the measured regions, the layers
            page.wait_for_function("() => [...document.querySelectorAll('.js-plotly-plot')].some("
                                   "gd => (gd.data || []).some(t => t.name === 'cell'))")
            cells = _drawn_cells(page)
            assert len(cells) == len(sweep["cells"])
            for drawn, c in zip(cells, sweep["cells"]):
                assert (drawn["meta"]["per_class"], drawn["meta"]["dial"]) == (c["per_class"], c["similarity_dial"])
                expected = viz.TIE_COLOR if c["tie"] else viz.PLAN_COLORS[c["winner"]]
                assert _rgb(drawn["fill"]) == _rgb(expected), (c["per_class"], c["similarity_dial"], drawn["fill"])
            page.locator(".js-plotly-plot").nth(1).scroll_into_view_if_needed()
            _shot(page, f"2_decision_map_measured_{lang}")
