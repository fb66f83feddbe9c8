"""A real browser builds a dataset: two classes, files uploaded into one, webcam photos (Chromium's fake camera)
into the other, a wrong image removed, a reload, save, and a training run on the saved set."""
from __future__ import annotations

import re
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.browser_support import CHROMIUM, CHROMIUM_ARGS, app_server
from tests.test_browser import _shot

ROOT = Path(__file__).resolve().parents[1]
#: Chromium's own test camera (a moving pattern on green) and no permission prompt.
CAMERA_ARGS = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]

pytestmark = [pytest.mark.browser, pytest.mark.slow]

#: True once the script has finished and the camera widget has a stream with frames. (Not ``paused`` or
#: ``currentTime``: headless chromium can report a live camera as paused at 0 s while it draws new frames.)
_CAMERA_LIVE = """() => {
    const app = document.querySelector("[data-testid='stApp']");
    if (!app || app.getAttribute("data-test-script-state") !== "notRunning") return false;
    return Array.from(document.querySelectorAll("[data-testid='stCameraInput'] video"))
        .some(v => !v.closest("[data-stale='true']") && v.srcObject && v.readyState >= 2);
}"""


@pytest.fixture
def server(tmp_path, playwright_api):
    """``streamlit run`` on a free port with its own runs and cache folders."""
    with app_server(tmp_path, TLCORE_FAULT=None) as url:
        yield url, tmp_path


class _Camera:
    """What the page says about the webcam class: its count, and the last capture refused as a duplicate."""

    def __init__(self, main):
        self.main = main

    def state(self) -> tuple[int, int]:
        text = self.main.inner_text()
        count = re.search(r"camera · (\d+) images", text)
        dup = re.findall(r"webcam-(\d+)\.jpg: already in", text)
        return (int(count[1]) if count else -1, max(map(int, dup), default=0))

    def count(self) -> int:
        return self.state()[0]


_CAMERA_STATE = """() => [document.querySelector("[data-testid='stApp']").getAttribute("data-test-script-state"),
    Array.from(document.querySelectorAll("video")).map(v => [v.readyState, v.paused, v.currentTime, !!v.closest("[data-stale='true']"), !!v.srcObject])]"""


def _photos(folder: Path, n: int) -> list[str]:
    """Red photos with some noise, as phone pictures of one thing would differ."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    out = []
    for i in range(n):
        arr = np.clip(rng.normal(0, 25, (240, 320, 3)) + np.array((210, 40, 40)), 0, 255).astype(np.uint8)
        path = folder / f"IMG_{i:04d}.jpg"
        Image.fromarray(arr).save(path, quality=90)
        out.append(str(path))
    return out


def test_build_a_dataset_with_uploads_and_the_webcam_then_train_on_it(server, playwright_api, tmp_path):
    sync_playwright = playwright_api
    from playwright.sync_api import expect

    url, work = server
    photos = _photos(tmp_path / "photos", 6)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS + CAMERA_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, permissions=["camera"])
        page = context.new_page()
        page.set_default_timeout(60_000)
        expect.set_options(timeout=60_000)
        main = page.get_by_test_id("stMain")

        def open_builder():
            main.get_by_text("Build it here", exact=True).click()
            expect(main.get_by_text("Make your own dataset")).to_be_visible()

        def count(cls: str, n: int):
            expect(main.get_by_text(f"{cls} · {n} images", exact=True)).to_be_visible()

        page.goto(f"{url}/Data")
        open_builder()
        for name in ("red things", "camera"):
            main.get_by_label("New class").fill(name)
            main.get_by_role("button", name="Add class").click()
            count(name, 0)

        # Upload: several files at once into the first class.
        main.get_by_text("red things", exact=True).first.click()
        expect(main.get_by_text("Photos for 'red things'")).to_be_visible()
        main.locator("[data-testid='stFileUploader'] input[type=file]").set_input_files(photos)
        expect(main.get_by_text("Added 6 image(s) to 'red things'.")).to_be_visible()
        count("red things", 6)

        # Webcam: repeated captures into the second class; the camera is ready again after each.
        main.get_by_text("camera", exact=True).first.click()
        main.get_by_text("Webcam", exact=True).click()
        shots, clicks = _Camera(main), 0
        while shots.count() < 4:
            assert clicks < 12, f"4 webcam photos in {clicks} clicks: the page shows\n{main.inner_text()[-1500:]}"
            before = shots.state()
            take = main.get_by_role("button", name="Take Photo")
            expect(take).to_be_enabled()
            try:
                page.wait_for_function(_CAMERA_LIVE, timeout=60_000)
            except Exception as err:  # say what the camera and the page were doing
                _shot(page, "builder_failed_camera")
                raise AssertionError(f"no live camera after {clicks} clicks, {shots.state()}: "
                                     f"{page.evaluate(_CAMERA_STATE)}") from err
            # The fake camera replays its pattern from the start of each stream (20 frames/s), so a photo taken at
            # the same moment of a new stream is the same picture (refused as a duplicate): wait longer each time.
            page.wait_for_timeout(400 + 250 * clicks)
            take.click()
            clicks += 1
            deadline = time.time() + 20  # added, refused as a duplicate, or (a click the widget missed) nothing
            while shots.state() == before and time.time() < deadline:
                page.wait_for_timeout(300)
        count("camera", 4)
        print(f"\n4 webcam photos in {clicks} clicks")
        _shot(page, "builder_1_classes")

        # A wrong image: remove it.
        card = main.locator(".st-key-bld_class_1")
        card.get_by_role("button", name="✕").first.click()
        count("camera", 3)

        # A reload is a new session: the draft comes back from the URL.
        assert "draft=" in page.url
        page.reload()
        open_builder()
        count("red things", 6)
        count("camera", 3)

        # Save and use it.
        main.get_by_label("Name of the set").fill("browser set")
        main.get_by_role("button", name="Save and use this set").click()
        expect(main.get_by_text("Saved 'browser set': 9 images in 2 classes.", exact=False)).to_be_visible()
        expect(main.get_by_text("What is in browser set")).to_be_visible()
        _shot(page, "builder_2_saved")

        # Then like any dataset: the map, and a short training run with labnet.
        main.get_by_role("button", name="Next: the decision map →").click()
        main.get_by_role("button", name="Train with").click()
        expect(main.get_by_role("button", name="Start training")).to_be_visible()
        main.get_by_role("combobox", name="Pretrained network (backbone)").click()
        page.get_by_role("option", name="labnet", exact=True).click()
        epochs = main.get_by_label("Epochs")
        epochs.fill("3")
        epochs.press("Enter")
        page.wait_for_timeout(800)
        main.get_by_role("button", name="Start training").click()
        page.wait_for_url("**run=*", timeout=30_000)
        run_id = page.url.split("run=")[1].split("&")[0]
        expect(main.get_by_text("Done: best validation accuracy")).to_be_visible(timeout=180_000)
        _shot(page, "builder_3_trained")
        browser.close()

    from tlcore.fsutil import read_json
    from tlcore.runs import RunStore

    info = RunStore(work / "runs").get(run_id)
    assert info.status == "completed" and info.epochs_completed == 3
    config = read_json(Path(info.run_dir) / "config.json", {})
    data = Path(config["data"])
    assert data.name == "browser set" and (work / "cache" / "built") in data.parents
    assert config["model"] == "labnet"
    assert sorted(p.name for p in data.iterdir()) == ["camera", "red things"]
    assert [len(list((data / c).iterdir())) for c in ("camera", "red things")] == [3, 6]
