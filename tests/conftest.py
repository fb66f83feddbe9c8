"""Shared fixtures: tiny generated image folders, isolated runs and caches."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# Worker processes and the CLI run from the repo root.
os.chdir(ROOT)
os.environ.setdefault("OMP_NUM_THREADS", "2")
# Idle OpenMP threads sleep instead of spinning (before torch loads): busy-waiting threads made in-process
# tests up to 10x slower on a shared 2-core machine.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def make_image_folder(root: Path, classes: int = 3, per_class: int = 12, size: int = 16, seed: int = 0) -> Path:
    """Classes told apart by colour and a stripe direction: learnable in a few epochs."""
    rng = np.random.default_rng(seed)
    palette = [(220, 40, 40), (40, 200, 60), (40, 60, 220), (220, 200, 40), (200, 40, 200), (40, 200, 200)]
    for c in range(classes):
        d = root / f"class_{c}"
        d.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            img = np.clip(rng.normal(0, 25, (size, size, 3)) + np.array(palette[c % len(palette)]), 0, 255)
            if c % 2:
                img[::4, :, :] = 255
            else:
                img[:, ::4, :] = 0
            Image.fromarray(img.astype(np.uint8)).save(d / f"img_{i:03d}.png")
    return root


def wait_for(pred, timeout: float = 60.0) -> bool:
    """Poll ``pred`` until it holds or ``timeout`` seconds pass."""
    import time

    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def tiny_dataset(tmp_path) -> Path:
    return make_image_folder(tmp_path / "tiny")


@pytest.fixture
def runs_dir(tmp_path, monkeypatch) -> Path:
    d = tmp_path / "runs"
    monkeypatch.setenv("TLCORE_RUNS_DIR", str(d))
    return d


@pytest.fixture(autouse=True)
def _isolated_torch_home(tmp_path_factory, monkeypatch):
    """Never touch (or download into) the user's torch or Hugging Face caches, nor the project's ./.tlcore-cache."""
    base = tmp_path_factory.getbasetemp()
    monkeypatch.setenv("TORCH_HOME", str(base / "torch-home"))
    monkeypatch.setenv("HF_HOME", str(base / "hf-home"))
    monkeypatch.setenv("TLCORE_CACHE_DIR", str(base / "tlcore-cache"))  # shared by the session's tests; some set their own


@pytest.fixture(scope="module")
def playwright_api():
    """Playwright, for a browser test module; checked before its server starts, so that a machine without a
    browser skips at once (tests/browser_support.py)."""
    from tests.browser_support import browser_or_skip

    return browser_or_skip()
