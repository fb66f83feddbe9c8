"""A real browser on Predict: heatmaps over validation images, and two runs side by side (screenshots)."""
from __future__ import annotations

import time

import pytest

from tests import colour_world as world
from tests.test_browser import _choose, _new_page, _shot, browser, server  # noqa: F401 - fixtures

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _rendered_images(page) -> int:
    """Images in the page's main block that the browser has actually decoded."""
    return page.evaluate("""() => [...document.querySelectorAll('[data-testid="stMain"] img')]
                                   .filter(i => i.complete && i.naturalWidth > 0).length""")


def test_predict_heatmaps_and_side_by_side(server, browser, tmp_path):  # noqa: F811 - pytest fixtures
    from playwright.sync_api import expect

    url, runs_dir, _ = server
    t0 = time.time()
    data = world.make_dataset(tmp_path / "colours")
    head = world.trained_run(runs_dir, data, "head", epochs=1)  # frozen backbone, one epoch
    full = world.trained_run(runs_dir, data, "full", epochs=10)  # fine-tuned: the newest, so Predict opens on it
    trained = time.time() - t0
    page = _new_page(browser)
    page.goto(f"{url}/Predict?lang=en")
    expect(page.get_by_role("heading", name="Predict").first).to_be_visible()
    page.get_by_role("button", name="Use a few validation images").click()
    main = page.get_by_test_id("stMain")
    expect(main.get_by_text("evidence for blue").first).to_be_visible()
    expect(main.get_by_text("✓ right").first).to_be_visible()
    expect(page.get_by_role("heading", name="Two models, same images: what changed?")).to_be_visible()
    expect(main.get_by_text(f"({head})").first).to_be_visible()
    expect(main.get_by_text(f"({full})").first).to_be_visible()
    deadline = time.time() + 20
    while _rendered_images(page) < 6 + 18 and time.time() < deadline:  # 6 cards of 2, 6 rows of 3
        page.wait_for_timeout(300)
    assert _rendered_images(page) >= 6 + 18
    _shot(page, "10_predict_heatmaps_side_by_side")

    # A picked class: every heatmap now shows the evidence for green, in both runs.
    _choose(page, "Heatmaps show the evidence for", "green")
    expect(main.get_by_text("evidence for green").first).to_be_visible()
    expect(main.get_by_text("evidence for blue")).to_have_count(0)
    _shot(page, "11_predict_class_green")
    page.context.close()
    print(f"\ntrained two runs in {trained:.1f} s; whole test {time.time() - t0:.1f} s")
