"""Real-world images (issue #12): decided by content, HEIC photos, big camera JPEGs and bombs."""
from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from PIL import Image

from badinputs import base_dataset, huge_png_header, jpeg_bytes, jpeg_declaring, noise, png_bytes, smooth_photo, write
from tlcore.data import MAX_IMAGE_PIXELS_ENV, DataLimits, ImageStore, heif_supported, load_rgb, open_dataset
from tlcore.data import images
from tlcore.errors import ConfigError, DataError


# ---------------------------------------------------------------------------
# Decided by content: any suffix that decodes is used; what does not is refused


@pytest.mark.parametrize("name", ["a.jfif", "a.jpe", "a.pjpeg", "a.JFIF", "no_suffix", "a.jpg.bak", "a.png"])
def test_a_jpeg_is_used_whatever_its_name(tmp_path, name):
    base_dataset(tmp_path)
    write(tmp_path / "cats" / name, jpeg_bytes(noise((40, 30))))
    report = open_dataset(tmp_path)
    assert report.skipped == [] and report.class_counts["cats"] == 3
    assert load_rgb(tmp_path / "cats" / name).size == (40, 30)


@pytest.mark.parametrize("name,data,reason", [
    ("notes.txt", b"class notes\n", "unsupported_type"),
    ("labels.csv", b"file,label\n1.jpg,cat\n", "unsupported_type"),
    ("page.jfif", b"<!DOCTYPE html><html><body>404</body></html>\n", "not_an_image"),
    ("page.png", b"<html>not found</html>", "not_an_image"),
    ("README", b"just text", "not_an_image"),
    ("figure.eps", b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n", "unsupported_type"),
    ("figure.jpg", b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n", "not_an_image"),
])
def test_what_is_not_an_image_is_refused(tmp_path, name, data, reason):
    base_dataset(tmp_path)
    write(tmp_path / "cats" / name, data)
    report = open_dataset(tmp_path)
    assert [(s.path, s.reason) for s in report.skipped] == [(f"cats/{name}", reason)]
    with pytest.raises(DataError) as info:
        load_rgb(tmp_path / "cats" / name)
    assert info.value.code == reason and info.value.hint


def _heic(size=(64, 48)) -> bytes:
    pillow_heif = pytest.importorskip("pillow_heif")
    buf = io.BytesIO()
    pillow_heif.from_pillow(noise(size)).save(buf, format="HEIF", quality=90)
    return buf.getvalue()


def test_heic_photos_are_used(tmp_path):
    data = _heic()
    assert heif_supported()
    base_dataset(tmp_path)
    write(tmp_path / "dogs" / "IMG_0001.HEIC", data)
    write(tmp_path / "dogs" / "IMG_0002", data)  # content, not the suffix
    report = open_dataset(tmp_path)
    assert report.skipped == [] and report.class_counts["dogs"] == 4
    img = load_rgb(tmp_path / "dogs" / "IMG_0001.HEIC")
    assert img.mode == "RGB" and img.size == (64, 48)
    assert ImageStore([str(tmp_path / "dogs" / "IMG_0001.HEIC")], 16).get(0).shape == (3, 16, 16)


def test_heic_without_pillow_heif_says_what_to_install(tmp_path, monkeypatch):
    data = _heic()
    monkeypatch.setattr(images, "heif_supported", lambda: False)
    path = write(tmp_path / "IMG_0001.heic", data)
    with pytest.raises(DataError) as info:
        load_rgb(path)
    assert info.value.code == "unsupported_type" and "pillow-heif" in info.value.hint


# ---------------------------------------------------------------------------
# Big photos: JPEGs decoded at reduced scale; bombs still refused; TLCORE_MAX_IMAGE_PIXELS


@pytest.fixture(scope="module")
def camera_jpeg(tmp_path_factory) -> Path:
    """A 50 MP (8000x6250) photo-like JPEG, quality 70 (~2 MB)."""
    path = tmp_path_factory.mktemp("camera") / "DSC_0001.jpg"
    path.write_bytes(jpeg_bytes(smooth_photo((8000, 6250)), quality=70))
    return path


def test_camera_jpeg_is_used_by_open_dataset(tmp_path, camera_jpeg, monkeypatch):
    base_dataset(tmp_path)
    write(tmp_path / "cats" / "big.jpg", camera_jpeg.read_bytes())
    report = open_dataset(tmp_path)
    assert report.skipped == [] and report.class_counts["cats"] == 3
    # Over the pixel limit (as a 200 MP photo is over the default), still used: decoded at 1/8.
    monkeypatch.setenv(MAX_IMAGE_PIXELS_ENV, "1000000")
    report = open_dataset(tmp_path)
    assert report.skipped == [] and report.class_counts["cats"] == 3


@pytest.mark.parametrize("limit,size", [(60_000_000, (8000, 6250)), (20_000_000, (4000, 3125)), (1_000_000, (1000, 782))])
def test_load_rgb_decodes_a_big_jpeg_within_the_limit(camera_jpeg, limit, size):
    img = load_rgb(camera_jpeg, DataLimits(max_image_pixels=limit))
    assert img.mode == "RGB" and img.size == size


def test_a_jpeg_too_big_even_at_one_eighth_is_refused_naming_the_setting(camera_jpeg):
    with pytest.raises(DataError) as info:
        load_rgb(camera_jpeg, DataLimits(max_image_pixels=500_000))
    assert info.value.code == "too_many_pixels" and "1/8" in info.value.message
    assert MAX_IMAGE_PIXELS_ENV in info.value.hint


def test_image_store_decodes_a_big_photo_at_training_size_quickly(camera_jpeg):
    store = ImageStore([str(camera_jpeg)], 64)
    store.get_batch([])  # imports torch outside the timing
    t0 = time.perf_counter()
    t = store.get(0)
    assert t.shape == (3, 64, 64)
    assert time.perf_counter() - t0 < 2.0  # a full decode of 50 MP takes several times longer


@pytest.mark.parametrize("make,hint", [
    (lambda: huge_png_header(20000, 20000), MAX_IMAGE_PIXELS_ENV),  # not a JPEG: cannot be decoded smaller
    (lambda: jpeg_declaring(60000, 60000), "decompression bomb"),  # 3.6 Gpx in ~1 KB
])
def test_bombs_are_refused_from_the_header(tmp_path, make, hint):
    path = write(tmp_path / "cats" / "bomb.img", make())
    t0 = time.perf_counter()
    with pytest.raises(DataError) as info:
        load_rgb(path)
    assert info.value.code == "too_many_pixels" and hint in info.value.hint
    assert time.perf_counter() - t0 < 0.5
    base_dataset(tmp_path)
    report = open_dataset(tmp_path)
    assert [(s.path, s.reason) for s in report.skipped] == [("cats/bomb.img", "too_many_pixels")]


def test_non_jpeg_over_the_limit_is_refused_and_the_setting_raises_it(tmp_path, monkeypatch):
    path = write(tmp_path / "wide.png", png_bytes((300, 200)))
    monkeypatch.setenv(MAX_IMAGE_PIXELS_ENV, "50000")
    with pytest.raises(DataError) as info:
        load_rgb(path)
    assert info.value.code == "too_many_pixels" and "300x200 pixels, limit 50000" in info.value.message
    monkeypatch.setenv(MAX_IMAGE_PIXELS_ENV, "60_000")
    assert load_rgb(path).size == (300, 200)


@pytest.mark.parametrize("value,expected", [("", 64_000_000), ("100000000", 100_000_000), ("1e8", 100_000_000),
                                            ("2_000_000", 2_000_000)])
def test_max_image_pixels_setting(monkeypatch, value, expected):
    monkeypatch.setenv(MAX_IMAGE_PIXELS_ENV, value)
    assert DataLimits().max_image_pixels == expected


@pytest.mark.parametrize("value", ["lots", "0", "-5", "1.5", "nan"])
def test_max_image_pixels_setting_refuses_nonsense(monkeypatch, value):
    monkeypatch.setenv(MAX_IMAGE_PIXELS_ENV, value)
    with pytest.raises(ConfigError, match=MAX_IMAGE_PIXELS_ENV):
        DataLimits()


def test_pil_bomb_limit_is_left_as_it_was(camera_jpeg):
    before = Image.MAX_IMAGE_PIXELS
    load_rgb(camera_jpeg, DataLimits(max_image_pixels=1_000_000))
    assert Image.MAX_IMAGE_PIXELS == before
