"""A real browser (Debian's chromium via Playwright) clicks from the data to a live run, reloads, and stops it."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/lib/chromium/chromium")
SHOTS = ROOT / "test-output" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _browser_or_skip():
    """Playwright's sync API, or a visible skip (a failure under CI, where the browser must be there)."""
    reason = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        reason = "the playwright Python package is not installed"
    if reason is None and not CHROMIUM.is_file():
        reason = f"chromium is not installed ({CHROMIUM}); apt-get install --no-install-recommends chromium"
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"browser test cannot run under CI: {reason}")
        pytest.skip(f"browser test skipped: {reason}")
    return sync_playwright


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def playwright_api():
    """Checked before the server starts, so a machine without a browser skips at once."""
    return _browser_or_skip()


@pytest.fixture
def server(tmp_path, playwright_api):
    """The app served by ``streamlit run`` on a free port, with its own runs and cache folders."""
    port = _free_port()
    env = dict(os.environ)
    env.update(
        TLCORE_RUNS_DIR=str(tmp_path / "runs"),
        TLCORE_CACHE_DIR=str(tmp_path / "cache"),
        TLCORE_FAULT="sleep0.15",  # slower batches, so the live curve can be watched growing
        PYTHONUNBUFFERED="1",
    )
    log = open(tmp_path / "server.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            pytest.fail(f"the app did not start: {(tmp_path / 'server.log').read_text(errors='replace')[-2000:]}")
        time.sleep(0.3)
    yield url, tmp_path / "runs"
    from tlcore.runs import RunStore

    for info in RunStore(tmp_path / "runs").list():
        if info.active:
            RunStore(tmp_path / "runs").stop(info.run_id, wait=True, grace_s=3)
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


def _points(page) -> int:
    """Epochs drawn so far on the live curves (points of the validation-accuracy trace)."""
    return page.evaluate(
        """() => {
            const gd = document.querySelector('.js-plotly-plot');
            if (!gd || !gd.data || gd.data.length < 2) return 0;
            const x = gd.data[1].x;
            return x ? x.length : 0;
        }"""
    )


def _wait_points(page, at_least: int, timeout: float, runs_dir=None) -> int:
    deadline = time.time() + timeout
    while time.time() < deadline:
        n = _points(page)
        if n >= at_least:
            return n
        page.wait_for_timeout(300)
    # Say why: what the page shows, and what the run's own files say.
    _shot(page, "failed_wait_points")
    text = page.locator("[data-testid='stMain']").inner_text()[-1500:]
    runs = ""
    if runs_dir is not None:
        from tlcore.runs import RunStore

        for info in RunStore(runs_dir).list():
            log = Path(info.run_dir) / "log.txt"
            runs += f"\nrun {info.run_id}: {info.status} {info.message!r}\n" + (log.read_text()[-800:] if log.exists() else "")
    raise AssertionError(f"the curve did not reach {at_least} points in {timeout:.0f} s (has {_points(page)})\n"
                         f"page:\n{text}{runs}")


def _shot(page, name: str) -> None:
    """A screenshot of the whole page: Streamlit scrolls inside its main block, so the viewport grows to fit it."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(600)  # let charts finish drawing
    size = page.viewport_size
    height = page.evaluate(
        "() => { const m = document.querySelector('[data-testid=\"stMain\"]'); return m ? m.scrollHeight : 0; }")
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], min(int(height) + 40, 6000))})
    page.wait_for_timeout(400)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    page.set_viewport_size(size)


def test_click_from_data_to_a_live_run_reload_and_stop(server, playwright_api):
    sync_playwright = playwright_api
    from playwright.sync_api import expect

    url, runs_dir = server
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(60_000)
        expect.set_options(timeout=60_000)  # a loaded 2-core machine needs more than the default 5 s
        t0 = time.time()
        timeline = []

        def mark(step: str) -> None:
            timeline.append(f"{step} {time.time() - t0:.0f}s")

        page.goto(url)
        expect(page.get_by_text("How much of a pretrained network should you freeze?")).to_be_visible()
        _shot(page, "0_home")
        mark("home")

        # Click 1: start with the data (the built-in lab dataset is the default).
        page.get_by_role("button", name="Start with the data →").click()
        expect(page.get_by_text("What is in lab")).to_be_visible(timeout=120_000)
        _shot(page, "1_data")
        mark("data")
        # Fewer training images than the default (100 -> 20 per class): quicker epochs for this test.
        size_dial = page.get_by_role("slider").first
        size_dial.focus()
        size_dial.press("ArrowLeft")
        size_dial.press("ArrowLeft")
        expect(page.get_by_text("What is in lab (similarity 0.30, 20 per class)")).to_be_visible(timeout=120_000)

        # Click 2: the decision map.
        page.get_by_role("button", name="Next: the decision map →").click()
        expect(page.get_by_role("heading", name="Quadrant 3")).to_be_visible(timeout=120_000)
        mark("map")
        # A click on another quadrant shows a "what if", and the dataset keeps its place.
        chart = page.locator(".js-plotly-plot").first
        box = chart.locator(".nsewdrag").first.bounding_box()
        page.mouse.click(box["x"] + box["width"] * 0.85, box["y"] + box["height"] * 0.15)  # large + similar
        expect(page.get_by_text("What if your data were in quadrant 2?")).to_be_visible()
        expect(page.get_by_role("heading", name="Quadrant 3")).to_be_visible()
        _shot(page, "2_decision_map")
        page.get_by_role("button", name="Back to my data").click()
        expect(page.get_by_text("What if your data were in quadrant 2?")).to_have_count(0)

        # Click 3: train with the map's plan. More epochs than the default, so there is time to watch.
        page.get_by_role("button", name="Train with").click()
        expect(page.get_by_text("The map recommends")).to_be_visible()
        augment = page.get_by_role("checkbox", name="Data augmentation")
        expect(augment).to_be_checked()  # quadrant 3: the map's plan comes with augmentation
        epochs = page.get_by_label("Epochs")
        epochs.fill("30")
        epochs.press("Enter")
        page.wait_for_timeout(800)
        expect(augment).to_be_checked()
        _shot(page, "3_train_settings")
        mark("train page")

        # Click 4: start. The run id goes into the URL and the curve grows live.
        page.get_by_role("button", name="Start training").click()
        page.wait_for_url("**run=*", timeout=30_000)
        run_id = page.url.split("run=")[1].split("&")[0]
        first = _wait_points(page, 1, 120, runs_dir)
        mark("first epoch")
        grown = _wait_points(page, first + 2, 120, runs_dir)
        mark("two more epochs")
        assert grown >= first + 2
        expect(page.get_by_text("images/s")).to_be_visible()  # the progress bar with speed and ETA
        _shot(page, "4_train_live")

        # A reload starts a new session: it reconnects to the same run, which kept going.
        page.reload()
        expect(page.get_by_text(run_id)).to_be_visible()
        after_reload = _wait_points(page, grown, 60)
        _wait_points(page, after_reload + 1, 60)
        mark("after reload")
        from tlcore.runs import RunStore

        assert RunStore(runs_dir).get(run_id).status == "running"

        # Stop takes effect within 2 s (the page polls every second).
        main = page.get_by_test_id("stMain")  # not the toolbar's own "Stop" (of a script run)
        main.get_by_role("button", name="Stop", exact=True).click()
        t_stop = time.time()
        expect(page.get_by_text("The run was stopped")).to_be_visible(timeout=10_000)
        assert time.time() - t_stop < 4
        assert RunStore(runs_dir).get(run_id).status == "stopped"
        _shot(page, "5_train_stopped")
        mark("stopped")

        for path, name, marker in [("Compare", "6_compare", "Compare plans"), ("Predict", "7_predict", "Predict"),
                                   ("Runs", "8_runs", "Runs")]:
            page.goto(f"{url}/{path}")
            expect(page.get_by_role("heading", name=marker).first).to_be_visible()
            _shot(page, name)
        page.goto(f"{url}/?lang=ko")
        expect(page.get_by_text("사전 학습된 신경망을 얼마나 동결해야 할까요?")).to_be_visible()
        _shot(page, "9_home_ko")
        browser.close()
    print("\ntimeline: " + ", ".join(timeline))
