"""Unit tests for tlcore.data: split, layouts, modes, warnings, zip extraction and ImageStore."""
from __future__ import annotations

import json
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageFile

from badinputs import huge_png_header, make_zip, png_bytes, write
from tlcore.data import (
    IMAGE_EXTENSIONS,
    DataLimits,
    ImageStore,
    SkippedFile,
    load_rgb,
    open_dataset,
    safe_extract_zip,
)
from tlcore.errors import ConfigError, DataError


def make_class(root: Path, name: str, n: int, size=(32, 32)) -> list[Path]:
    paths = []
    for i in range(n):
        paths.append(write(root / name / f"{i:03d}.png", png_bytes(size, (i * 7 % 256, 100, 50))))
    return paths


def codes(report) -> dict[str, dict]:
    return {w["code"]: w["params"] for w in report.warnings}


def test_image_extensions_are_the_known_suffixes():
    # A hint for the UI (the uploader's types); whether a file is used is decided by its content.
    assert {".jpg", ".jpeg", ".jfif", ".jpe", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".heic"} <= IMAGE_EXTENSIONS


# ---------------------------------------------------------------------------
# Split


@pytest.fixture
def three_classes(tmp_path):
    make_class(tmp_path, "a", 10)
    make_class(tmp_path, "b", 5)
    make_class(tmp_path, "c", 3)
    return tmp_path


def test_split_is_stratified_with_expected_proportions(three_classes):
    r = open_dataset(three_classes, val_fraction=0.2, seed=0)
    assert r.classes == ["a", "b", "c"] and r.val_source == "split"
    val = {c: sum(1 for _, y in r.val if y == i) for i, c in enumerate(r.classes)}
    train = {c: sum(1 for _, y in r.train if y == i) for i, c in enumerate(r.classes)}
    assert val == {"a": 2, "b": 1, "c": 1}  # round(n * 0.2), at least 1
    assert train == {"a": 8, "b": 4, "c": 2}
    assert r.class_counts == {"a": 10, "b": 5, "c": 3} and r.num_images == 18
    # Disjoint, complete, and each label matches its folder.
    paths = [p for p, _ in r.train + r.val]
    assert len(set(paths)) == 18
    assert all(Path(p).parent.name == r.classes[y] for p, y in r.train + r.val)
    assert all(Path(p).is_absolute() for p in paths)


def test_split_is_deterministic_by_seed(three_classes):
    a = open_dataset(three_classes, seed=3)
    b = open_dataset(three_classes, seed=3)
    assert (a.train, a.val) == (b.train, b.val)
    others = [open_dataset(three_classes, seed=s).val for s in (4, 5, 6)]
    assert any(v != a.val for v in others)


@pytest.mark.parametrize("fraction", [0.01, 0.99])
def test_split_keeps_one_train_and_one_val_image_per_class(tmp_path, fraction):
    make_class(tmp_path, "a", 2)
    make_class(tmp_path, "b", 3)
    r = open_dataset(tmp_path, val_fraction=fraction)
    for label in (0, 1):
        assert sum(1 for _, y in r.val if y == label) >= 1
        assert sum(1 for _, y in r.train if y == label) >= 1


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1])
def test_val_fraction_out_of_range(three_classes, fraction):
    with pytest.raises(ConfigError):
        open_dataset(three_classes, val_fraction=fraction)


def test_val_folder_is_used_as_given(tmp_path):
    train_a = make_class(tmp_path / "train", "a", 3)
    train_b = make_class(tmp_path / "train", "b", 3)
    val_a = make_class(tmp_path / "val", "a", 1)
    val_b = make_class(tmp_path / "val", "b", 2)
    r = open_dataset(tmp_path, val_fraction=0.5)
    assert r.val_source == "folder"
    assert sorted(p for p, _ in r.val) == sorted(str(p) for p in val_a + val_b)
    assert sorted(p for p, _ in r.train) == sorted(str(p) for p in train_a + train_b)
    assert r.class_counts == {"a": 4, "b": 5}
    assert not any(w["code"] == "val_missing_class" for w in r.warnings)


def test_val_folder_without_a_train_class_warns(tmp_path):
    make_class(tmp_path / "train", "a", 3)
    make_class(tmp_path / "train", "b", 3)
    make_class(tmp_path / "val", "a", 2)
    r = open_dataset(tmp_path)
    assert r.classes == ["a", "b"]
    assert codes(r)["val_missing_class"] == {"classes": ["b"]}


def test_val_class_absent_from_train_is_refused(tmp_path):
    make_class(tmp_path / "train", "a", 3)
    make_class(tmp_path / "train", "b", 3)
    make_class(tmp_path / "val", "zebra", 2)
    with pytest.raises(DataError, match="zebra") as info:
        open_dataset(tmp_path)
    assert info.value.code == "val_class_not_in_train"


def test_lone_train_folder_is_split(tmp_path):
    make_class(tmp_path / "train", "a", 4)
    make_class(tmp_path / "train", "b", 4)
    r = open_dataset(tmp_path)
    assert r.classes == ["a", "b"] and r.val_source == "split"


def test_wrapper_folder_is_descended_and_subfolders_are_collected(tmp_path):
    make_class(tmp_path / "wrapper", "a", 2)
    make_class(tmp_path / "wrapper", "b", 2)
    make_class(tmp_path / "wrapper" / "b", "nested", 2)  # images below a class folder belong to it
    write(tmp_path / "wrapper" / "labels.csv", b"a,b\n")  # loose files in the root are ignored
    r = open_dataset(tmp_path)
    assert Path(r.root) == (tmp_path / "wrapper").absolute()
    assert r.class_counts == {"a": 2, "b": 4}
    assert r.skipped == []


def test_class_counts_exclude_skipped_files(tmp_path):
    make_class(tmp_path, "a", 3)
    make_class(tmp_path, "b", 2)
    write(tmp_path / "a" / "broken.jpg", b"not a jpeg")
    r = open_dataset(tmp_path)
    assert r.class_counts == {"a": 3, "b": 2}
    assert r.skipped == [SkippedFile("a/broken.jpg", "not_an_image", r.skipped[0].detail)]


def test_class_whose_files_are_all_broken_is_named(tmp_path):
    make_class(tmp_path, "a", 3)
    write(tmp_path / "b" / "x.jpg", b"")
    write(tmp_path / "b" / "y.png", b"nope")
    with pytest.raises(DataError, match="'b'") as info:
        open_dataset(tmp_path)
    assert info.value.code == "too_few_images"


def test_plain_file_is_not_a_dataset(tmp_path):
    f = write(tmp_path / "photo.png", png_bytes())
    with pytest.raises(DataError, match="neither a folder nor a .zip"):
        open_dataset(f)


def test_progress_is_reported(three_classes):
    calls = []
    open_dataset(three_classes, progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (18, 18)


def test_report_to_json(three_classes):
    r = open_dataset(three_classes)
    j = json.loads(json.dumps(r.to_json()))
    assert j["num_images"] == 18 and j["num_classes"] == 3
    # Training images per class: 20% of each class (at least one) is set aside for validation.
    assert j["train_counts"] == {"a": 8, "b": 4, "c": 2} and j["num_train"] == 14 and j["num_val"] == 4
    assert j["images_per_class"] == 4.67 and r.images_per_class == pytest.approx(14 / 3)
    assert j["imbalanced"] and j["size_per_class"] == 2.0, "imbalanced (10 vs 3): the map counts the smallest class"
    assert j["class_counts"] == {"a": 10, "b": 5, "c": 3}
    assert j["val_source"] == "split" and j["root"] == r.root
    assert j["skipped"] == [] and isinstance(j["warnings"], list)
    assert j["min_side_median"] == 32


# ---------------------------------------------------------------------------
# Warnings


def test_balanced_dataset_has_no_warnings(tmp_path):
    make_class(tmp_path, "a", 10)
    make_class(tmp_path, "b", 10)
    assert open_dataset(tmp_path).warnings == []


def test_imbalance_and_tiny_class_warnings(tmp_path):
    make_class(tmp_path, "big", 12)
    make_class(tmp_path, "small", 3)
    w = codes(open_dataset(tmp_path))
    assert w["imbalance"] == {"max_class": "big", "max_count": 12, "min_class": "small", "min_count": 3, "ratio": 4.0}
    assert w["tiny_class"] == {"classes": ["small"], "threshold": 10}
    assert "small_images" not in w


def test_small_images_warning(tmp_path):
    make_class(tmp_path, "a", 10, size=(16, 24))
    make_class(tmp_path, "b", 10, size=(16, 16))
    r = open_dataset(tmp_path)
    assert r.min_side_median == 16
    assert codes(r) == {"small_images": {"median_min_side": 16, "threshold": 32}}


# ---------------------------------------------------------------------------
# Images


def _save(path: Path, im: Image.Image, **kw) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    im.save(path, **kw)
    return path


def _rgba_half_red():
    return Image.new("RGBA", (8, 8), (255, 0, 0, 128))


MODE_CASES = {
    "RGBA transparent": ("png", lambda: Image.new("RGBA", (8, 8), (0, 0, 0, 0)), (255, 255, 255)),
    "RGBA half": ("png", _rgba_half_red, (255, 127, 127)),
    "LA transparent": ("png", lambda: Image.new("LA", (8, 8), (0, 0)), (255, 255, 255)),
    "P": ("png", lambda: Image.new("RGB", (8, 8), (10, 200, 30)).convert("P", palette=Image.Palette.ADAPTIVE), (10, 200, 30)),
    "L": ("png", lambda: Image.new("L", (8, 8), 100), (100, 100, 100)),
    "1": ("png", lambda: Image.new("1", (8, 8), 1), (255, 255, 255)),
    "I;16": ("png", lambda: Image.fromarray(np.full((8, 8), 40000, np.uint16)), (156, 156, 156)),
    "I;16 tiff": ("tif", lambda: Image.fromarray(np.full((8, 8), 40000, np.uint16)), (156, 156, 156)),
    "I 16-bit values": ("tif", lambda: Image.fromarray(np.full((8, 8), 40000, np.int32)), (156, 156, 156)),
    "I 8-bit values": ("tif", lambda: Image.fromarray(np.full((8, 8), 200, np.int32)), (200, 200, 200)),
    "F 0..1": ("tif", lambda: Image.fromarray(np.full((8, 8), 0.5, np.float32)), (128, 128, 128)),
    "CMYK": ("tif", lambda: Image.new("CMYK", (8, 8), (0, 0, 0, 0)), (255, 255, 255)),
    "YCbCr": ("tif", lambda: Image.new("RGB", (8, 8), (10, 200, 30)).convert("YCbCr"), (10, 200, 30)),
}


@pytest.mark.parametrize("name", list(MODE_CASES))
def test_modes_become_rgb(tmp_path, name):
    ext, make, expected = MODE_CASES[name]
    im = make()
    path = _save(tmp_path / f"img.{ext}", im)
    assert Image.open(path).mode.split(";")[0] in (im.mode.split(";")[0], "I")  # the file keeps its mode
    out = load_rgb(path)
    assert out.mode == "RGB" and out.size == (8, 8)
    assert np.allclose(out.getpixel((4, 4)), expected, atol=3), out.getpixel((4, 4))


def test_16bit_gradient_is_scaled_not_clipped(tmp_path):
    ramp = np.tile(np.linspace(0, 65535, 256).astype(np.uint16), (4, 1))
    out = np.asarray(load_rgb(_save(tmp_path / "ramp.png", Image.fromarray(ramp))))[..., 0]
    assert out[0, 0] == 0 and out[0, -1] == 255
    assert np.all(np.diff(out[0].astype(int)) >= 0) and len(np.unique(out)) > 200


def test_load_rgb_pixel_limit_is_checked_before_decoding(tmp_path):
    path = _save(tmp_path / "a.png", Image.new("RGB", (32, 32)))
    with pytest.raises(DataError, match="32x32 pixels, limit 100") as info:
        load_rgb(path, DataLimits(max_image_pixels=100))
    assert info.value.code == "too_many_pixels"
    # A 100-megapixel header (PIL would only warn) and a 400-megapixel one (PIL raises).
    for side in (10000, 20000):
        bomb = write(tmp_path / f"bomb{side}.png", huge_png_header(side, side))
        with pytest.raises(DataError) as info:
            load_rgb(bomb)
        assert info.value.code == "too_many_pixels"


@pytest.mark.parametrize("data,code", [(b"", "empty_file"), (b"GIF89a garbage", "not_an_image")])
def test_load_rgb_errors_have_codes(tmp_path, data, code):
    with pytest.raises(DataError) as info:
        load_rgb(write(tmp_path / "x.gif", data))
    assert info.value.code == code and info.value.hint


def test_eps_content_is_never_handed_to_its_plugin(tmp_path):
    # A PostScript file renamed .jpg must not reach Ghostscript: only image decoders are allowed.
    with pytest.raises(DataError) as info:
        load_rgb(write(tmp_path / "x.jpg", b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n"))
    assert info.value.code == "not_an_image"


def test_truncated_images_are_not_loaded_globally(three_classes):
    open_dataset(three_classes)
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


# ---------------------------------------------------------------------------
# Zip extraction


@pytest.mark.parametrize("name", ["..\\..\\evil.txt", "a/../../evil.txt", "D:evil.txt", "/evil.txt"])
def test_safe_extract_zip_refuses_escaping_names(tmp_path, name):
    z = make_zip(tmp_path / "d.zip", [("a/ok.png", png_bytes()), (name, b"x")])
    with pytest.raises(DataError, match="unsafe") as info:
        safe_extract_zip(z, tmp_path / "out")
    assert info.value.code == "zip_unsafe_path"
    assert not (tmp_path / "out").exists() and not (tmp_path / "evil.txt").exists()


def test_safe_extract_zip_limits(tmp_path):
    z = make_zip(tmp_path / "d.zip", [(f"a/{i}.png", png_bytes()) for i in range(4)])
    with pytest.raises(DataError) as info:
        safe_extract_zip(z, tmp_path / "o1", DataLimits(max_zip_files=3))
    assert info.value.code == "zip_too_many_files"
    with pytest.raises(DataError) as info:
        safe_extract_zip(z, tmp_path / "o2", DataLimits(max_zip_total_bytes=100))
    assert info.value.code == "zip_too_large"


def test_safe_extract_zip_entry_larger_than_declared(tmp_path):
    z = make_zip(tmp_path / "d.zip", [("a/x.bin", bytes(range(100)))], compression=zipfile.ZIP_STORED)
    data = bytearray(z.read_bytes())
    data[22:26] = (50).to_bytes(4, "little")  # local header: uncompressed size
    central = data.index(b"PK\x01\x02")
    data[central + 24:central + 28] = (50).to_bytes(4, "little")
    z.write_bytes(bytes(data))
    with pytest.raises(DataError) as info:
        safe_extract_zip(z, tmp_path / "out")
    assert info.value.code in ("zip_bomb", "bad_zip")


def test_safe_extract_zip_returns_root_and_drops_noise(tmp_path):
    z = make_zip(tmp_path / "d.zip", [
        ("top/a/1.png", png_bytes()), ("top/b/1.png", png_bytes()),
        ("__MACOSX/top/a/._1.png", b"x"), ("top/a/.DS_Store", b"x"),
    ])
    root = safe_extract_zip(z, tmp_path / "out")
    assert root == (tmp_path / "out" / "top").resolve()
    assert sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*")) == [
        "top", "top/a", "top/a/1.png", "top/b", "top/b/1.png"]


def test_zip_with_unicode_names_and_upper_case_extensions(tmp_path):
    z = make_zip(tmp_path / "d.zip", [(f"{c}/사진 {i} 😀.PNG", png_bytes()) for c in ("고양이", "개 🐶") for i in range(2)])
    r = open_dataset(z, work_dir=tmp_path / "work")
    assert r.classes == ["개 🐶", "고양이"] and r.num_images == 4 and r.skipped == []


def test_open_dataset_zip_without_work_dir_uses_temp(tmp_path, monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    z = make_zip(tmp_path / "d.zip", [(f"{c}/{i}.png", png_bytes()) for c in "ab" for i in range(2)])
    r = open_dataset(z)
    assert Path(r.root).parent == tmp_path / "tmp"
    assert all(Path(p).is_file() for p, _ in r.train + r.val)


# ---------------------------------------------------------------------------
# ImageStore


@pytest.fixture
def store_files(tmp_path):
    sizes = [(40, 20), (20, 40), (8, 8), (16, 16)]
    return [str(_save(tmp_path / f"{i}.png", Image.new("RGB", s, (i * 50, 0, 0)))) for i, s in enumerate(sizes)]


def test_image_store_shapes_and_dtype(store_files):
    store = ImageStore(store_files, 16)
    assert len(store) == 4 and store.fits_in_memory
    for i in range(4):
        t = store.get(i)
        assert t.shape == (3, 16, 16) and t.dtype == torch.uint8
    batch = store.get_batch([3, 0, 0])
    assert batch.shape == (3, 3, 16, 16) and batch.dtype == torch.uint8
    assert torch.equal(batch[1], store.get(0))
    assert int(batch[0, 0, 0, 0]) == 150  # colour kept
    assert store.get_batch([]).shape == (0, 3, 16, 16)


def test_image_store_center_crops(tmp_path):
    im = Image.new("RGB", (48, 16), (255, 0, 0))
    im.paste((0, 255, 0), (16, 0, 32, 16))  # the middle third is green
    store = ImageStore([str(_save(tmp_path / "w.png", im))], 16)
    t = store.get(0)
    assert t[1].min() > 200 and t[0].max() < 60  # only the centre remains


def test_image_store_decodes_once_when_it_fits(store_files):
    store = ImageStore(store_files, 16)
    for i in range(4):
        store.get(i)
    assert store.decodes == 4
    store.get_batch(range(4))
    for i in range(4):
        store.get(i)
    assert store.decodes == 4


def test_image_store_batch_decodes_missing_in_parallel(store_files):
    store = ImageStore(store_files, 16)
    store.get_batch(torch.tensor([0, 1, 2, 3, 1]))
    assert store.decodes == 4
    store.get_batch([2, 3])
    assert store.decodes == 4


def test_image_store_keeps_decoding_with_a_tiny_budget(store_files):
    store = ImageStore(store_files, 16, budget_bytes=3 * 16 * 16 * 4 - 1)
    assert not store.fits_in_memory
    store.get_batch(range(4))
    store.get_batch(range(4))
    store.get(0)
    assert store.decodes == 9


def test_image_store_is_picklable_and_reports_bad_files(tmp_path, store_files):
    store = pickle.loads(pickle.dumps(ImageStore(store_files + [str(write(tmp_path / "bad.png", b"x"))], 8)))
    assert store.get(0).shape == (3, 8, 8)
    with pytest.raises(DataError) as info:
        store.get(4)
    assert info.value.code == "not_an_image"
