"""Similarity on real images with efficientnet_lite0, offline: photos of everyday things score clearly higher than
upscaled 8x8 digits and random noise."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from tlcore import photos
from tlcore.similarity import measure_similarity

SIZE = 96  # smaller than the network's 224: the same ordering, a fifth of the time


@pytest.fixture(autouse=True)
def _offline(tmp_path, monkeypatch):
    monkeypatch.setenv("TLCORE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def _digits(root, per_class=30):
    """scikit-learn's bundled 8x8 handwritten digits (real scans), 3 vs 8, upscaled to SIZE px."""
    from sklearn.datasets import load_digits

    d = load_digits()
    for cls in (3, 8):
        folder = root / f"digit{cls}"
        folder.mkdir(parents=True)
        for i, img in enumerate(d.images[d.target == cls][:per_class]):
            grey = Image.fromarray((img * 255 / 16).astype(np.uint8)).resize((SIZE, SIZE), Image.BILINEAR)
            grey.convert("RGB").save(folder / f"{i:03d}.png")
    return root


def _noise(root, per_class=30):
    rng = np.random.default_rng(0)
    for cls in ("a", "b"):
        folder = root / cls
        folder.mkdir(parents=True)
        for i in range(per_class):
            Image.fromarray(rng.integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8)).save(folder / f"{i:03d}.png")
    return root


@pytest.mark.slow
def test_photos_score_clearly_higher_than_digits_and_noise(tmp_path):
    scores = {
        "photos": measure_similarity(photos.make_photo_dataset(tmp_path / "photos", 24, 8, size=SIZE),
                                     "efficientnet_lite0", image_size=SIZE),
        "digits": measure_similarity(_digits(tmp_path / "digits"), "efficientnet_lite0", image_size=SIZE),
        "noise": measure_similarity(_noise(tmp_path / "noise"), "efficientnet_lite0", image_size=SIZE),
    }
    p, d, n = scores["photos"], scores["digits"], scores["noise"]
    assert p.grouped and not d.grouped  # the photos' crops are only compared across photos
    assert p.verdict == "similar" and d.verdict == "different" and n.verdict == "different", scores
    # At least 0.3 apart, and by more than three of the photos' standard errors. (The others' scores are clipped
    # at 0 and their references near 1, where a bootstrap error of T says little.)
    for other in (d, n):
        assert p.score - other.score > max(0.3, 3 * p.stderr), scores
    assert d.a_ref > 0.9, "a network without pretraining (or 8x8 pixels) already tells the digits apart"
    assert n.score < 0.15
