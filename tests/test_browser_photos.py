"""Issue #11 in a real browser, offline: a zip of real photos uploaded, "Measure it" with efficientnet_lite0 (a real
ImageNet network that installs with the app), the map followed, a run trained with a live curve, and Predict on a
new photo. The photos are cut from photos that ship inside installed packages (tlcore.photos)."""
from __future__ import annotations

import io
import re
import time
import zipfile
from pathlib import Path

import pytest

from tests.browser_support import app_server, chromium
from tests.test_browser import _idle, _new_page, _shot, _upload, _wait_points

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def server(tmp_path_factory, playwright_api):
    tmp = tmp_path_factory.mktemp("photos-browser")
    with app_server(tmp, TLCORE_FAULT=None) as url:
        yield url, tmp


def _photo_zip(tmp: Path) -> tuple[bytes, Path]:
    """A zip of the built-in real photos (smaller than the app's demo, so the test is quick) and one held-out photo."""
    from tlcore import photos

    folder = photos.make_photo_dataset(tmp / "photos", per_class=40, val_per_class=16, size=160, seed=1)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        for p in sorted(folder.rglob("*.jpg")):
            zf.write(p, ("photos" / p.relative_to(folder)).as_posix())
    new_photo = sorted((folder / "val" / "person").glob("*.jpg"))[-1]
    return buf.getvalue(), new_photo


def test_real_photos_measured_mapped_trained_and_predicted_offline(server, playwright_api, tmp_path):
    from playwright.sync_api import expect

    url, work = server
    data, new_photo = _photo_zip(tmp_path)
    with chromium(playwright_api) as browser:
        page = _new_page(browser)
        main = page.get_by_test_id("stMain")
        page.goto(f"{url}/Data?lang=en")
        main.get_by_text("Upload a .zip", exact=True).click()
        _upload(page, data, "real-photos.zip")
        expect(main.get_by_text(re.compile(r"What is in real-photos\.zip"))).to_be_visible(timeout=120_000)
        _shot(page, "photos_1_data")

        # The map: efficientnet_lite0 is the default backbone for user data; its weights are on this machine.
        page.get_by_role("button", name="Next: the decision map →").click()
        expect(page.get_by_role("combobox", name=re.compile("backbone", re.I))).to_have_value(re.compile("efficientnet_lite0"))
        t0 = time.time()
        main.get_by_role("button", name="Measure it").click()
        expect(main.get_by_text(re.compile(r"Measured similarity: \d\.\d\d"))).to_be_visible(timeout=300_000)
        measured_s = time.time() - t0
        score = float(re.search(r"Measured similarity: (\d\.\d\d)", main.inner_text())[1])
        assert score >= 0.5, f"real photos of ImageNet-like subjects look similar to what the network learned ({score})"
        expect(page.get_by_role("heading", name=re.compile(r"^Quadrant 4"))).to_be_visible()
        _shot(page, "photos_2_map_measured")

        # Follow the map (head: a new output layer on frozen features), train, and watch the curve grow.
        page.get_by_role("button", name=re.compile(r"^Train with head")).click()
        expect(page.get_by_role("button", name="Start training")).to_be_visible(timeout=60_000)
        epochs = page.get_by_label("Epochs")
        epochs.fill("4")
        epochs.press("Enter")
        _idle(page)
        page.get_by_role("button", name="Start training").click()
        _wait_points(page, 2, timeout=300, runs_dir=work / "runs")
        expect(main.get_by_text(re.compile("Best validation accuracy"))).to_be_visible(timeout=300_000)
        _shot(page, "photos_3_train")
        from tlcore.runs import RunStore

        assert RunStore(work / "runs").wait(RunStore(work / "runs").list()[0].run_id, timeout=300).status == "completed"

        # Predict: the trained model on a new photo shows its classes with probabilities.
        page.goto(f"{url}/Predict?lang=en")
        page.locator("input[type='file']").first.set_input_files(str(new_photo))
        expect(main.get_by_text(re.compile(r"person")).first).to_be_visible(timeout=120_000)
        expect(main.get_by_test_id("stProgress").first).to_be_visible(timeout=120_000)
        _shot(page, "photos_4_predict")
        print(f"measure it with efficientnet_lite0 on {len(data) // 1024} KB of photos: {measured_s:.0f} s")
