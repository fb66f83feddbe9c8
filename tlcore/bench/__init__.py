"""Benchmarks: the tlcore trainer against plain PyTorch loops, on the same model, data, batch size and seed.

``python -m tlcore bench [--json] [--tiny] [--device auto|cpu|cuda]``. Every figure is a
ratio (or a count) measured in one run against a baseline measured in the same run, and
the median of ``repeats`` repetitions (3 by default), so that a shared, noisy machine
moves both sides together. Ours and the baseline alternate inside each repetition.

The data is a generated lab dataset (``tlcore.lab.world.write_imagefolder``: 32x32 PNGs,
``train/`` and ``val/`` folders) written to a temporary folder. On the CPU the model is
labnet with its shipped weights at 32x32, 600 training and 300 validation images, batch 32.
On CUDA it is resnet50 (random weights: no download) at 160x160, 4,800 training images,
batch 128, with mixed precision (bfloat16 autocast) and channels_last on, for ours and for
every baseline. On the CPU ours also runs channels_last (the trainer does so on CPUs: faster
oneDNN convolutions) while the plain baselines keep PyTorch's default layout, as plain code does.

What each figure compares, and why that is fair:

1. ``full_throughput_ratio`` (full fine-tune): ``train`` against ``plain_epochs``, a
   minimal hand-written loop (``model.train()``, ``torch.optim.AdamW`` with the same
   parameter groups and learning-rate schedule, plain tensor batches). The baseline gets
   the same decoded images already normalized in one tensor on the device, so the figure
   measures the training step plus our overheads (uint8 cache lookup and normalization,
   events, stop checks, loss checks, schedule). Images per second of the training phase,
   epochs 2.. (epoch 1 is a warm-up for both: oneDNN/cuDNN set-up, and our first decode).
   The two alternate epoch by epoch (``fit_interleaved``), so both see the same load.
2. ``head_epoch_speedup`` / ``head_accuracy_gap`` (head only): the naive loop recomputes
   the frozen backbone (in eval mode, under ``no_grad``) for every batch of every epoch;
   ours computes it once and trains the head on cached features. Median epoch time
   (training plus validation) over epochs 2..``head_epochs`` (5 or more epochs), epochs
   interleaved as in (1); the one-time feature computation is reported apart
   (``head_total_speedup`` includes it). The gap is the absolute difference of best
   validation accuracy in points; both start from the same weights, batch order and schedule.
3. ``top_throughput_ratio`` / ``top_peak_memory_ratio`` (``top`` plan, last stage trained):
   the naive loop only sets ``requires_grad=False`` on the frozen groups and trains with
   ``model.train()``; ours keeps the frozen prefix in eval mode and, since augmentation is
   off and the prefix's outputs fit the memory budget, caches them at the stage boundary.
   Training images per second, epochs 2..; ``top_total_speedup`` compares whole fits,
   cache included. Peak memory is the growth above the level at the start of the fit:
   the CUDA allocator's peak, or on Linux CPUs the resident set's high-water mark (coarse:
   malloc keeps pages; ours also holds its decoded images and the cache).
4. ``decodes_after_epoch1`` / ``data_epoch_speedup`` (data pipeline): from the same fits as
   (1): image files decoded after epoch 1 (the dataset fits the default 2 GiB budget), and
   data time (fetching batches, decoding included) of epoch 1 over epoch 2.
5. ``first_event_ratio`` (responsiveness): a real run process (``RunStore.start``, full
   fine-tune) from launch to its first ``batch`` event (the event's own timestamp), over the
   time a bare ``python -c "import torch, torchvision"`` takes, timed in the same repetition.
   A reader polls every 0.5 s while the run starts, as the app's live view does.
6. ``poll_overhead`` (live view cost): after the first batch the same run alternates windows
   of 1.5 s with no reader at all and windows where a reader calls ``read_events`` and
   ``RunStore.get`` every 0.5 s. Throughput in a window: images per second between
   consecutive ``batch`` events (epochs 2..) inside it. ``1 - with / without`` for each
   window without a reader and the one with a reader right after it; the figure is the
   median over all such pairs of all runs. Alternating inside one run cancels the load
   drift of a shared machine, which separate runs with and without a reader (10-50 % apart
   here) do not.

7. ``real_head_vs_inference`` (real photos, a real network): a whole ``head`` run of 10 epochs
   with efficientnet_lite0 on 400 real photos at 224 px (features computed once, into an empty
   disk cache) over one plain inference pass over the same files; see tlcore.bench.real.

8-9. ``streaming_throughput_ratio``, ``inspect_images_per_s`` (data larger than memory, part "lab"):
   streamed over in-memory training throughput, and ``inspect`` on 10,000 generated JPEGs checked
   from their headers; see tlcore.bench.streaming.

Figures 1-6 run with the disk feature cache off (``TLCORE_FEATURE_CACHE=0``): they time the
in-memory paths, and a repetition must not find the features of the one before it.

Every process of the benchmark sleeps idle OpenMP threads (``OMP_WAIT_POLICY=PASSIVE`` unless
set): on a shared machine a spinning helper thread takes the CPU from its own main thread.
"""
from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

# Idle OpenMP threads sleep instead of spinning. On a machine shared with other processes a
# spinning helper thread takes the CPU from its own main thread (10x slower training on a busy
# 2-core machine). libgomp reads this once, when torch loads; ours and the baselines share it.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402

from ..train import pick_device  # noqa: E402
from .common import EXTRAS, TARGETS, _cpu_name, machine_description, setup_for  # noqa: E402
from .inprocess import bench_full, bench_head, bench_top  # noqa: E402
from .plain import _warm_up, load_plain_data  # noqa: E402
from .processes import bench_runs  # noqa: E402
from .real import bench_real  # noqa: E402
from .streaming import bench_streaming  # noqa: E402



#: Parts of the benchmark that ``--only`` can pick: figures 1-6 (lab data, labnet) and figure 7 (real photos).
PARTS = ("lab", "real")


def run_bench(tiny: bool = False, device: str = "auto", only: str | None = None) -> dict:
    """Run every figure (or only one part, see PARTS); return the JSON-ready result."""
    from ..lab.world import write_imagefolder

    t0 = time.time()
    dev = pick_device(device)
    setup = setup_for(dev, tiny)
    result: dict = {
        "machine": machine_description(),
        "device": str(dev),
        "device_name": torch.cuda.get_device_name(dev) if dev.type == "cuda" else _cpu_name(),
        "torch_version": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", ""),
        "mixed_precision": dev.type == "cuda",
        "channels_last": "ours and baselines" if dev.type == "cuda" else (
            "ours only (plain PyTorch keeps its default layout)" if dev.type == "cpu" else "no"),
        "tiny": tiny,
        "repetitions": setup.repeats,
        "setup": asdict(setup),
    }
    old_feature_cache = os.environ.get("TLCORE_FEATURE_CACHE")
    parts = (only,) if only else PARTS
    result["parts"] = list(parts)
    with tempfile.TemporaryDirectory(prefix="tlcore-bench-") as tmp:
        os.environ["TLCORE_FEATURE_CACHE"] = "0"  # figures 1-6 time the in-memory paths (run processes inherit it)
        try:
            if "lab" in parts:
                data_dir = write_imagefolder(Path(tmp) / "data", setup.similarity, setup.per_class, setup.seed,
                                             setup.val_per_class, setup.num_classes)
                _warm_up(dev)
                data = load_plain_data(data_dir, setup, dev)
                result.update(bench_full(data_dir, data, setup, dev))
                result.update(bench_head(data_dir, data, setup, dev))
                result.update(bench_top(data_dir, data, setup, dev))
                del data
                result.update(bench_runs(data_dir, Path(tmp) / "runs", setup, dev))
                result.update(bench_streaming(Path(tmp), data_dir, setup, dev, tiny))
        finally:
            if old_feature_cache is None:
                os.environ.pop("TLCORE_FEATURE_CACHE", None)
            else:
                os.environ["TLCORE_FEATURE_CACHE"] = old_feature_cache
        if "real" in parts:
            (Path(tmp) / "real").mkdir()
            result.update(bench_real(Path(tmp) / "real", dev, tiny, setup.repeats))
    for key in (*TARGETS, *EXTRAS, "head_total_speedup", "top_total_speedup"):
        if isinstance(result.get(key), float):
            result[key] = round(result[key], 4)
    result["targets"] = {k: {"target": text, "pass": bool(test(result[k]))} for k, (text, test) in TARGETS.items()
                         if k in result}
    result["seconds"] = round(time.time() - t0, 1)
    return result


def _fmt(value) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, int):
        return str(value)
    return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"


def format_table(result: dict) -> str:
    """The human-readable report: each figure, its target and pass/fail."""
    lines = [
        f"tlcore bench on {result['device']} ({result['device_name']}), torch {result['torch_version']}",
        f"machine: {result['machine']}",
        f"median of {result['repetitions']} repetitions{' (tiny smoke run: timings mean little)' if result['tiny'] else ''}",
        "",
        f"{'figure':<28} {'value':>10}  {'target':<8} result",
    ]
    for key, (text, _) in TARGETS.items():
        if key not in result["targets"]:
            continue
        ok = result["targets"][key]["pass"]
        lines.append(f"{key:<28} {_fmt(result[key]):>10}  {text:<8} {'pass' if ok else 'FAIL'}")
    for key in EXTRAS + ("head_total_speedup", "top_total_speedup"):
        if key not in result:
            continue
        lines.append(f"{key:<28} {_fmt(result.get(key)):>10}  {'-':<8} -")
    lines.append(f"\n{result['seconds']:.0f} s in all")
    return "\n".join(lines)


def main_bench(tiny: bool = False, as_json: bool = False, device: str = "auto", only: str | None = None) -> int:
    """Entry point of ``python -m tlcore bench``: prints JSON or a table; 0 once every figure was measured."""
    result = run_bench(tiny=tiny, device=device, only=only)
    print(json.dumps(result, indent=2) if as_json else format_table(result))
    return 0
