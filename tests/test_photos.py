"""The built-in real-photo dataset: deterministic, sources kept apart between train and val, licenses recorded."""
from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tlcore import photos, service
from tlcore.data import open_dataset
from tlcore.errors import DataError

ROOT = Path(__file__).resolve().parents[1]


def _digest(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*.jpg")):
        h.update(str(p.relative_to(root)).encode())
        h.update(np.asarray(Image.open(p)).tobytes())  # pixels: byte-exact JPEG files may differ across Pillows
    return h.hexdigest()


def test_layout_split_by_source_and_determinism(tmp_path):
    a = photos.make_photo_dataset(tmp_path / "a", per_class=6, val_per_class=3, size=64)
    b = photos.make_photo_dataset(tmp_path / "b", per_class=6, val_per_class=3, size=64)
    c = photos.make_photo_dataset(tmp_path / "c", per_class=6, val_per_class=3, size=64, seed=1)
    assert _digest(a) == _digest(b) != _digest(c)
    sources = {}
    for split, n in (("train", 6), ("val", 3)):
        assert sorted(p.name for p in (a / split).iterdir()) == sorted(photos.CLASSES)
        for cls in photos.CLASSES:
            files = sorted((a / split / cls).glob("*.jpg"))
            assert len(files) == n
            sources.setdefault(split, set()).update(photos.source_of(f.name) for f in files)
            with Image.open(files[0]) as im:
                assert im.size == (64, 64) and im.mode == "RGB"
    assert sources["train"] and sources["val"] and not sources["train"] & sources["val"], "no photo feeds both splits"
    want = {s.sid for s in photos.SOURCES if s.split == "val"}
    assert sources["val"] == want and len(want) == len(photos.CLASSES)  # one held-out photo per class
    report = open_dataset(a)
    assert report.num_classes == 2 and len(report.val) == 6
    assert all("/val/" in p.replace("\\", "/") for p, _ in report.val), "val/ is the validation split"


def test_every_source_has_a_license_in_the_record_the_module_and_the_readme(tmp_path):
    out = photos.make_photo_dataset(tmp_path / "p", per_class=2, val_per_class=1, size=32)
    record = photos.photo_info(out)
    assert record["version"] == photos.VERSION and record["classes"] == list(photos.CLASSES)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for src in record["sources"]:
        assert src["license"], src
        assert src["rel"] in photos.__doc__, src["rel"]
        assert Path(src["rel"]).name in readme, src["rel"]


def test_a_missing_package_is_a_clear_error_and_nothing_is_written(tmp_path, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(photos.importlib.util, "find_spec", lambda name, *a: None if name == "skimage" else real(name, *a))
    assert photos.missing_packages() == ["scikit-image"] and not photos.available()
    with pytest.raises(DataError) as err:
        photos.make_photo_dataset(tmp_path / "x", per_class=2, val_per_class=1, size=32)
    assert "pip install scikit-image" in str(err.value) and err.value.code == "photos_missing"
    assert not (tmp_path / "x").exists() and list(tmp_path.iterdir()) == []


def test_service_writes_the_demo_once_and_reuses_it(tmp_path, monkeypatch):
    monkeypatch.setenv("TLCORE_CACHE_DIR", str(tmp_path / "cache"))
    first = service.photo_dataset(per_class=4, val_per_class=2, size=48)
    stamp = (first / "photos.json").stat().st_mtime_ns
    again = service.photo_dataset(per_class=4, val_per_class=2, size=48)
    assert again == first and (first / "photos.json").stat().st_mtime_ns == stamp
    assert service.photo_info(first)["per_class"] == 4
    assert service.default_model_for(first) == "efficientnet_lite0"
    assert service.default_model_for(service.lab_dataset(0.5, 4)) == "labnet"
