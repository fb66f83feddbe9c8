"""Frozen features on disk: computed once per (data, backbone, weights, size, preprocessing), shared, never half-written."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from tests.conftest import make_image_folder
from tlcore import features
from tlcore.config import TrainConfig
from tlcore.data import ImageStore
from tlcore.features import FeatureKey, cached_features
from tlcore.similarity import measure_similarity
from tlcore.train import train


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TLCORE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv(features.ENV, raising=False)


def _key(**kw) -> FeatureKey:
    base = dict(model="m", weights="pretrained:/w:1:2", image_size=32, crop_pct=1.0, mean=(0.5,) * 3, std=(0.5,) * 3)
    return FeatureKey(**{**base, **kw})


def _files(tmp_path, n=6) -> list[str]:
    root = make_image_folder(tmp_path / "imgs", classes=2, per_class=n // 2, size=8)
    return sorted(str(p) for p in root.rglob("*.png"))


class Counter:
    def __init__(self, dim=4):
        self.calls, self.rows, self.dim = 0, 0, dim

    def __call__(self, idx):
        self.calls += 1
        self.rows += len(idx)
        return torch.arange(len(idx) * self.dim, dtype=torch.float32).view(len(idx), self.dim) + 100 * self.calls


def test_every_ingredient_of_the_key_matters():
    base = _key()
    for change in (dict(model="n"), dict(weights="file:/x:1:2"), dict(image_size=64), dict(crop_pct=0.875),
                   dict(mean=(0.4,) * 3), dict(std=(0.2,) * 3), dict(precision="bfloat16"), dict(layer="stage4")):
        assert _key(**change).digest() != base.digest(), change
    assert _key().digest() == base.digest()


def test_computed_once_then_read_back_and_an_edited_file_is_new(tmp_path):
    paths = _files(tmp_path)
    count = Counter()
    first = cached_features(_key(), paths, count)
    assert count.rows == 6 and first.shape == (6, 4)
    again = cached_features(_key(), paths[::-1], count)
    assert count.rows == 6, "nothing recomputed"
    assert torch.equal(again, first.flip(0))
    later = os.stat(paths[0]).st_mtime_ns + 10**9
    os.utime(paths[0], ns=(later, later))  # the file changed: a new image
    hits = []
    cached_features(_key(), paths, count, on_hits=hits.append)
    assert count.rows == 7 and hits == [5]
    cached_features(_key(image_size=64), paths, count)  # another key: computed afresh
    assert count.rows == 13


def test_switched_off_by_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(features.ENV, "0")
    count = Counter()
    cached_features(_key(), _files(tmp_path), count)
    cached_features(_key(), _files(tmp_path), count)
    assert count.rows == 12 and not (Path(os.environ["TLCORE_CACHE_DIR"]) / "features").exists()


def test_damaged_shards_are_misses_and_old_keys_are_pruned(tmp_path):
    paths = _files(tmp_path)
    cache = features.FeatureCache(_key())
    cached_features(_key(), paths, Counter())
    shard = next(cache.folder.glob("*.pt"))
    shard.write_bytes(b"half a file")
    count = Counter()
    cached_features(_key(), paths, count)
    assert count.rows == 6
    old = features.FeatureCache(_key(model="old"))
    old.add(["a"], torch.zeros(1, 1000))
    past = time.time() - 3600
    os.utime(old.folder, (past, past))
    features.prune(cache.root, max_bytes=1)  # over budget: the least recently written key goes first
    assert not old.folder.exists() and not cache.folder.exists()


WRITER = """
import sys, time, torch
from tlcore.features import FeatureKey, cached_features
paths = sys.argv[1:]
key = FeatureKey("m", "w", 32, 1.0, (0.5,) * 3, (0.5,) * 3)
def compute(idx):
    time.sleep(0.5)  # both processes compute at once
    return torch.ones(len(idx), 3)
out = cached_features(key, paths, compute)
assert out.shape == (len(paths), 3)
"""


def test_two_processes_at_once(tmp_path):
    paths = _files(tmp_path, n=8)
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, *paths], env=env) for _ in range(2)]
    assert all(p.wait(timeout=120) == 0 for p in procs)
    cache = features.FeatureCache(FeatureKey("m", "w", 32, 1.0, (0.5,) * 3, (0.5,) * 3))
    stored = cache.load()
    assert len(stored) == 8
    assert not [p for p in cache.folder.iterdir() if p.name.startswith(".")], "no temporary file left behind"
    count = Counter(dim=3)
    cached_features(cache.key, paths, count)
    assert count.rows == 0


def test_a_head_run_after_measuring_recomputes_nothing(tmp_path, monkeypatch):
    """Measure it (efficientnet_lite0), then a head run and a second one (Compare): no image is decoded again."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    data = make_image_folder(tmp_path / "data", classes=2, per_class=10, size=48)
    measured = measure_similarity(data, "efficientnet_lite0", image_size=64)
    assert measured.n_images == 20
    decodes = []
    real = ImageStore._decode

    def counting(self, i):
        decodes.append(i)
        return real(self, i)

    monkeypatch.setattr(ImageStore, "_decode", counting)
    for seed in (0, 1):
        got = []
        cfg = TrainConfig(data=str(data), model="efficientnet_lite0", plan="head", epochs=2, image_size=64, seed=seed)
        assert train(cfg, got.append).status == "completed"
        assert next(e for e in got if e.kind == "fit_start").feature_cache
    assert decodes == [], f"{len(decodes)} images decoded again"
