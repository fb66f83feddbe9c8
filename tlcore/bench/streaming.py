"""Figures 8 and 9: data larger than memory. Streaming against in-memory training, and ``inspect`` on 10,000 JPEGs.

8. ``streaming_throughput_ratio``: the same full fine-tune twice, the images kept decoded in memory
   (the default budget) and streamed (``memory_budget_mb=0``: every epoch decodes again, on
   ``DataLoader`` worker processes, a few batches ahead); training images per second of epochs 2..
   (epoch 1 decodes in both), streamed over in memory. Both fits use the same data, model,
   batch order and seed (and reach the same accuracy); the two alternate in order between repetitions.
   On a CPU a streamed fit leaves its decoding workers their cores (fewer compute threads); the
   in-memory fit runs with that many threads too, so that the figure compares the data paths only.
9. ``inspect_images_per_s``: ``inspect`` (``tlcore.service.inspect_dataset``) on a folder of 10,000
   generated JPEGs (10 classes, 256x192), which it checks from headers (more than
   ``DataLimits.full_check_max_files`` files); ``inspect_full_images_per_s`` is the same folder
   with every file decoded (the check small folders get), for comparison. The files were just
   written, so they are read from the page cache on both sides.
"""
from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from ..data.limits import DataLimits
from ..data.stream import default_workers, usable_cores
from ..train import train
from .common import BenchSetup, _log, _median
from .inprocess import Recorded, _throughput, ours_config

#: Generated JPEGs for figure 9 (tiny mode: a few hundred).
INSPECT_IMAGES, INSPECT_IMAGES_TINY = 10_000, 300
INSPECT_CLASSES = 10
INSPECT_SIZE = (256, 192)


def bench_streaming_throughput(data_dir: Path, setup: BenchSetup, device: torch.device) -> dict:
    """(8) streamed over in-memory training throughput, full fine-tune, epochs 2..; median over repetitions."""
    ratios, raw = [], []
    for rep in range(setup.repeats):
        _log(f"streaming {rep + 1}/{setup.repeats}")
        got = {}
        for who in (("memory", "stream") if rep % 2 == 0 else ("stream", "memory")):
            cfg = ours_config(data_dir, setup, "full", setup.epochs, device)
            if who == "stream":
                cfg = cfg.with_(memory_budget_mb=0)
            rec = Recorded()
            threads = torch.get_num_threads()
            if who == "memory" and device.type == "cpu":  # the threads the streamed fit keeps (see above)
                torch.set_num_threads(max(1, min(threads, usable_cores() - default_workers())))
            try:
                train(cfg, rec)
            finally:
                torch.set_num_threads(threads)
            got[who] = (_throughput(rec.timings), rec.fit_end.best_val_accuracy, rec.fit_end.decodes_after_epoch1)
        ratios.append(got["stream"][0] / got["memory"][0])
        raw.append({"memory_images_per_s": round(got["memory"][0], 1), "stream_images_per_s": round(got["stream"][0], 1),
                    "memory_best_accuracy": round(got["memory"][1], 4), "stream_best_accuracy": round(got["stream"][1], 4),
                    "stream_decodes_after_epoch1": got["stream"][2]})
    return {"streaming_throughput_ratio": _median(ratios), "raw_streaming": raw}


def write_jpeg_folder(root: Path, count: int, classes: int = INSPECT_CLASSES, size: tuple[int, int] = INSPECT_SIZE,
                      seed: int = 0) -> Path:
    """``count`` small photo-like JPEGs (smooth colour fields with noise) in ``classes`` class folders."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    noise = rng.normal(0, 8, (2 * h, 2 * w, 3)).astype(np.float32)  # one pool, cut at random places
    for c in range(classes):
        (root / f"class_{c:02d}").mkdir(parents=True, exist_ok=True)
    for i in range(count):
        c = i % classes
        base = rng.uniform(40, 215, 3).astype(np.float32)
        slope = rng.uniform(-0.3, 0.3, (2, 3)).astype(np.float32)
        y0, x0 = rng.integers(0, h), rng.integers(0, w)
        img = base + xx[..., None] * slope[0] + yy[..., None] * slope[1] + noise[y0:y0 + h, x0:x0 + w]
        Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(root / f"class_{c:02d}" / f"{i:05d}.jpg", quality=85)
    return root


def bench_inspect(folder: Path, count: int) -> dict:
    """(9) inspect's images per second on ``folder``: from headers (its default there) and decoding every file."""
    from .. import service
    from ..data import open_dataset

    t0 = time.perf_counter()
    info = service.inspect_dataset(folder)
    header_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    full = open_dataset(folder, limits=replace(DataLimits(), full_check_max_files=count + 1))
    full_s = time.perf_counter() - t0
    assert info["num_images"] == full.num_images == count, "every generated JPEG is usable"
    return {"inspect_images_per_s": count / header_s, "inspect_full_images_per_s": count / full_s,
            "raw_inspect": {"images": count, "checked": info["checked"], "header_s": round(header_s, 3),
                            "full_s": round(full_s, 3)}}


def bench_streaming(tmp: Path, data_dir: Path, setup: BenchSetup, device: torch.device, tiny: bool) -> dict:
    """Figures 8 and 9."""
    out = bench_streaming_throughput(data_dir, setup, device)
    count = INSPECT_IMAGES_TINY if tiny else INSPECT_IMAGES
    _log(f"writing {count} JPEGs for inspect")
    folder = write_jpeg_folder(tmp / "jpegs", count)
    if tiny:  # few files: make the header check apply all the same
        import os

        saved = os.environ.get("TLCORE_FULL_CHECK_MAX_FILES")
        os.environ["TLCORE_FULL_CHECK_MAX_FILES"] = "0"
        try:
            out.update(bench_inspect(folder, count))
        finally:
            if saved is None:
                os.environ.pop("TLCORE_FULL_CHECK_MAX_FILES", None)
            else:
                os.environ["TLCORE_FULL_CHECK_MAX_FILES"] = saved
    else:
        out.update(bench_inspect(folder, count))
    return out
