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

1. ``full_throughput_ratio`` (full fine-tune): ``Trainer.fit`` against ``plain_epochs``, a
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

Every process of the benchmark sleeps idle OpenMP threads (``OMP_WAIT_POLICY=PASSIVE`` unless
set): on a shared machine a spinning helper thread takes the CPU from its own main thread.
"""
from __future__ import annotations

import ctypes
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

# Idle OpenMP threads sleep instead of spinning. On a machine shared with other processes a
# spinning helper thread takes the CPU from its own main thread (10x slower training on a busy
# 2-core machine). libgomp reads this once, when torch loads; ours and the baselines share it.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402
from torch import nn  # noqa: E402

from .config import TrainConfig  # noqa: E402
from .errors import TrainingError  # noqa: E402
from .models import build_model  # noqa: E402
from .optim import warmup_cosine  # noqa: E402
from .train import Trainer, pick_device, seed_everything  # noqa: E402

#: Each figure: (target as text, test). The README's table shows the same targets.
TARGETS = {
    "full_throughput_ratio": (">= 0.95", lambda v: v >= 0.95),
    "head_epoch_speedup": (">= 20", lambda v: v >= 20),
    "head_accuracy_gap": ("<= 1.0", lambda v: v <= 1.0),
    "top_throughput_ratio": (">= 1.0", lambda v: v >= 1.0),
    "decodes_after_epoch1": ("== 0", lambda v: v == 0),
    "first_event_ratio": ("<= 2.5", lambda v: v <= 2.5),
    "poll_overhead": ("<= 0.05", lambda v: v <= 0.05),
}
#: Figures reported without a target.
EXTRAS = ("top_peak_memory_ratio", "data_epoch_speedup")

POLL_INTERVAL_S = 0.5


@dataclass(frozen=True)
class BenchSetup:
    """Model, data and schedule shared by ours and the baselines."""

    model: str = "labnet"
    weights: str = "pretrained"
    image_size: int = 32
    num_classes: int = 6
    per_class: int = 100  # training images per class
    val_per_class: int = 50
    similarity: float = 0.8
    batch_size: int = 32
    epochs: int = 4  # full and top fits (epoch 1 is a warm-up, not counted)
    head_epochs: int = 6  # epochs 2..6 are timed: 5 epochs
    run_epochs: int = 8  # run processes of figures 5 and 6
    poll_window_s: float = 1.5  # figure 6: the reader alternates off and on in windows this long
    repeats: int = 3
    lr: float = 1e-3
    weight_decay: float = 1e-4
    seed: int = 0


def setup_for(device: torch.device, tiny: bool) -> BenchSetup:
    """The default set-up for a device; ``tiny`` is a seconds-long smoke run that still emits every key."""
    if tiny:
        return BenchSetup(num_classes=3, per_class=16, val_per_class=8, batch_size=16, epochs=2,
                          head_epochs=2, run_epochs=2, repeats=1, poll_window_s=0.5)
    if device.type == "cuda":
        # Big enough that a GPU step is real work; short epochs, so more of them for the run figures.
        return BenchSetup(model="resnet50", weights="none", image_size=160, per_class=800, val_per_class=100,
                          batch_size=128, epochs=4, head_epochs=6, run_epochs=20, repeats=3)
    return BenchSetup()


# ---------------------------------------------------------------------------
# Small helpers


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _median(values) -> float:
    return float(statistics.median(values))


def _log(msg: str) -> None:
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_description() -> str:
    load = ""
    if hasattr(os, "getloadavg"):
        load = f", load average {os.getloadavg()[0]:.1f} at start"
    return (f"{_cpu_name()}, {os.cpu_count()} CPU cores, {platform.system()} {platform.machine()}, "
            f"Python {platform.python_version()}{load}")


class PeakMemory:
    """Peak memory above the level at entry: the CUDA allocator's peak, or Linux's resident high-water mark."""

    def __init__(self, device: torch.device):
        self.device = device
        self.bytes: int | None = None

    @staticmethod
    def _status_kib(field: str) -> int:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
        raise OSError(field)

    def __enter__(self) -> "PeakMemory":
        if self.device.type == "cuda":
            _sync(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
            self._base = torch.cuda.memory_allocated(self.device)
            return self
        self._base = None
        try:
            ctypes.CDLL("libc.so.6").malloc_trim(0)  # hand freed pages back, so the base is honest
        except (OSError, AttributeError):
            pass
        try:
            Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current VmRSS
            self._base = self._status_kib("VmRSS") * 1024
        except OSError:
            self._base = None
        return self

    def __exit__(self, *exc) -> None:
        if self.device.type == "cuda":
            _sync(self.device)
            self.bytes = torch.cuda.max_memory_allocated(self.device) - self._base
        elif self._base is not None:
            try:
                self.bytes = self._status_kib("VmHWM") * 1024 - self._base
            except OSError:
                self.bytes = None


# ---------------------------------------------------------------------------
# The baseline: plain PyTorch


@dataclass
class PlainData:
    """The decoded dataset as plain tensors on the device, normalized once."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    num_classes: int


def load_plain_data(data_dir: Path, setup: BenchSetup, device: torch.device) -> PlainData:
    """The same images, in the same order, that the trainer reads (its split and its resizing)."""
    from .data import ImageStore, open_dataset
    from .models import get_spec

    report = open_dataset(data_dir, seed=setup.seed)
    spec = get_spec(setup.model)
    mean = torch.tensor(spec.mean).view(1, 3, 1, 1) * 255.0
    std = torch.tensor(spec.std).view(1, 3, 1, 1) * 255.0

    def tensors(items):
        store = ImageStore([p for p, _ in items], setup.image_size)
        x = (store.get_batch(range(len(store))).float() - mean) / std
        return x.to(device), torch.tensor([y for _, y in items], dtype=torch.long).to(device)

    x_train, y_train = tensors(report.train)
    x_val, y_val = tensors(report.val)
    return PlainData(x_train, y_train, x_val, y_val, report.num_classes)


def plain_model(setup: BenchSetup, num_classes: int, device: torch.device) -> nn.Module:
    """The same weights the trainer starts from (same seed, same builder)."""
    seed_everything(setup.seed)
    net = build_model(setup.model, num_classes, setup.weights).to(device)
    if device.type == "cuda":
        net = net.to(memory_format=torch.channels_last)
    return net


@torch.no_grad()
def plain_evaluate(net: nn.Module, data: PlainData, batch_size: int, device: torch.device) -> float:
    net.eval()
    correct = torch.zeros((), dtype=torch.long, device=device)
    for i in range(0, len(data.y_val), batch_size):
        x = data.x_val[i:i + batch_size]
        if device.type == "cuda":
            x = x.contiguous(memory_format=torch.channels_last)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            logits = net(x)
        correct += (logits.argmax(1) == data.y_val[i:i + batch_size]).sum()
    return float(correct) / max(1, len(data.y_val))


def plain_epochs(net: nn.Module, param_groups: list[dict], data: PlainData, setup: BenchSetup, epochs: int,
                 device: torch.device, forward=None, train_mode=None):
    """A minimal hand-written training loop, one epoch per ``next()``: yields timings and validation accuracy.

    ``forward(x)`` defaults to ``net(x)``; ``train_mode()`` to ``net.train()``.
    """
    forward = forward or net
    train_mode = train_mode or net.train
    opt = torch.optim.AdamW(param_groups, lr=setup.lr, weight_decay=setup.weight_decay)
    n, bs = len(data.y_train), setup.batch_size
    total_steps = math.ceil(n / bs) * epochs
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: warmup_cosine(step, total_steps))
    loss_fn = nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(setup.seed)
    amp = device.type == "cuda"
    for epoch in range(1, epochs + 1):
        _sync(device)
        t0 = time.perf_counter()
        train_mode()
        perm = torch.randperm(n, generator=gen).to(device)
        total_loss = torch.zeros((), device=device)
        for i in range(0, n, bs):
            idx = perm[i:i + bs]
            x, y = data.x_train[idx], data.y_train[idx]
            if amp:
                x = x.contiguous(memory_format=torch.channels_last)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
                logits = forward(x)
            loss = loss_fn(logits.float(), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total_loss += loss.detach() * len(idx)
        float(total_loss)  # waits for the device, as reading the epoch's loss does
        train_s = time.perf_counter() - t0
        val_acc = plain_evaluate(net, data, max(bs, 64), device)
        yield {"epoch": epoch, "train_s": train_s, "seconds": time.perf_counter() - t0, "images": n,
               "val_accuracy": val_acc}


def _warm_up(device: torch.device) -> None:
    """Pay one-time costs (torch.optim's first step imports torch._dynamo) before anything is timed."""
    p = nn.Parameter(torch.zeros(2, device=device))
    opt = torch.optim.AdamW([p], lr=1e-3)
    p.sum().backward()
    opt.step()


# ---------------------------------------------------------------------------
# Ours


def ours_config(data_dir: Path, setup: BenchSetup, plan: str, epochs: int, device: torch.device) -> TrainConfig:
    return TrainConfig(data=str(data_dir), model=setup.model, plan=plan, weights=setup.weights, top_stages=1,
                       epochs=epochs, batch_size=setup.batch_size, lr=setup.lr, weight_decay=setup.weight_decay,
                       image_size=setup.image_size, augment=False, seed=setup.seed, device=str(device))


def fit_interleaved(config: TrainConfig, baseline) -> tuple[Trainer, list[dict]]:
    """Fit ours; after each of our epochs the baseline (a ``plain_epochs`` generator) runs one.

    Alternating epoch by epoch makes both sides see the same load on a shared machine. The
    baseline runs from an ``epoch_end`` subscriber, after our epoch's timings were taken.
    """
    rows: list[dict] = []

    def emit(event) -> None:
        if event.kind == "epoch_end":
            rows.append(next(baseline))

    trainer = Trainer(config, emit)
    trainer.fit()
    return trainer, rows


def _throughput(timings: list[dict]) -> float:
    """Training images per second over epochs 2.. (epoch 1 is a warm-up)."""
    rows = timings[1:] if len(timings) > 1 else timings
    return sum(r["images"] for r in rows) / max(1e-9, sum(r["train_s"] for r in rows))


def _median_epoch_s(timings: list[dict]) -> float:
    rows = timings[1:] if len(timings) > 1 else timings
    return _median(r["seconds"] for r in rows)


def _plain_groups(net, lr: float, body_lr_mult: float) -> list[dict]:
    head = [p for p in net.head.parameters() if p.requires_grad]
    body = [p for name, m in net.groups.items() if name != "head" for p in m.parameters() if p.requires_grad]
    return [{"params": head, "lr": lr}] + ([{"params": body, "lr": lr * body_lr_mult}] if body else [])


# ---------------------------------------------------------------------------
# Figures 1-4: in this process


def bench_full(data_dir: Path, data: PlainData, setup: BenchSetup, device: torch.device) -> dict:
    """(1) full fine-tune throughput, and (4) the data pipeline, from the same fits."""
    ratios, data_speedups, decodes, raw = [], [], [], []
    for rep in range(setup.repeats):
        _log(f"full fine-tune {rep + 1}/{setup.repeats}")
        net = plain_model(setup, data.num_classes, device)
        # the same groups as the full plan: the body at a tenth of the head's learning rate
        baseline = plain_epochs(net, _plain_groups(net, setup.lr, 0.1), data, setup, setup.epochs, device)
        trainer, plain = fit_interleaved(ours_config(data_dir, setup, "full", setup.epochs, device), baseline)
        ours_ips, plain_ips = _throughput(trainer.epoch_timings), _throughput(plain)
        ratios.append(ours_ips / plain_ips)
        t = trainer.epoch_timings
        data_speedups.append(t[0]["data_s"] / max(1e-9, t[1]["data_s"]) if len(t) > 1 else 1.0)
        decodes.append(trainer.decodes_after_epoch1)
        raw.append({"ours_images_per_s": round(ours_ips, 1), "plain_images_per_s": round(plain_ips, 1),
                    "ours_data_s_by_epoch": [round(r["data_s"], 4) for r in t]})
    return {
        "full_throughput_ratio": _median(ratios),
        "decodes_after_epoch1": max(decodes),
        "data_epoch_speedup": _median(data_speedups),
        "raw_full": raw,
    }


def bench_head(data_dir: Path, data: PlainData, setup: BenchSetup, device: torch.device) -> dict:
    """(2) head only: epoch time with cached features against the backbone recomputed every epoch."""
    speedups, totals, gaps, raw = [], [], [], []
    for rep in range(setup.repeats):
        _log(f"head only {rep + 1}/{setup.repeats}")
        net = plain_model(setup, data.num_classes, device)
        for name, module in net.groups.items():
            if name != "head":
                module.requires_grad_(False)

        def forward(x, net=net):
            with torch.no_grad():
                feats = net.features(x)
            return net.head(feats)

        def train_mode(net=net):
            net.eval()  # the frozen backbone keeps its BatchNorm statistics
            net.head.train()

        baseline = plain_epochs(net, _plain_groups(net, setup.lr, 1.0), data, setup, setup.head_epochs, device,
                                forward, train_mode)
        trainer, plain = fit_interleaved(ours_config(data_dir, setup, "head", setup.head_epochs, device), baseline)
        ours = trainer.epoch_timings
        ours_s, plain_s = _median_epoch_s(ours), _median_epoch_s(plain)
        ours_acc, plain_acc = max(0.0, trainer.best_acc), max(r["val_accuracy"] for r in plain)
        speedups.append(plain_s / ours_s)
        totals.append(sum(r["seconds"] for r in plain) / (trainer.cache_seconds + sum(r["seconds"] for r in ours)))
        gaps.append(abs(plain_acc - ours_acc) * 100.0)
        raw.append({"ours_epoch_s": round(ours_s, 4), "plain_epoch_s": round(plain_s, 4),
                    "ours_feature_cache_s": round(trainer.cache_seconds, 3),
                    "ours_best_accuracy": round(ours_acc, 4), "plain_best_accuracy": round(plain_acc, 4)})
    return {
        "head_epoch_speedup": _median(speedups),
        "head_total_speedup": _median(totals),
        "head_accuracy_gap": _median(gaps),
        "raw_head": raw,
    }


def bench_top(data_dir: Path, data: PlainData, setup: BenchSetup, device: torch.device) -> dict:
    """(3) the ``top`` plan: our frozen prefix against a loop that only sets requires_grad=False.

    Whole fits one after the other (not interleaved) so that each one's peak memory is its own.
    """
    ratios, totals, mems, raw = [], [], [], []
    for rep in range(setup.repeats):
        _log(f"top plan {rep + 1}/{setup.repeats}")
        res = {}
        for who in (("ours", "plain") if rep % 2 == 0 else ("plain", "ours")):
            if who == "ours":
                with PeakMemory(device) as mem:
                    t_start = time.perf_counter()
                    trainer = Trainer(ours_config(data_dir, setup, "top", setup.epochs, device))
                    trainer.fit()
                    total = time.perf_counter() - t_start - trainer.setup_seconds
                res["ours"] = (_throughput(trainer.epoch_timings), total, mem.bytes)
            else:
                net = plain_model(setup, data.num_classes, device)
                trained = net.group_names[net.group_names.index(net.stage_names[-1]):]
                for name, module in net.groups.items():
                    if name not in trained:
                        module.requires_grad_(False)
                with PeakMemory(device) as mem:
                    t = list(plain_epochs(net, _plain_groups(net, setup.lr, 1.0), data, setup, setup.epochs, device))
                res["plain"] = (_throughput(t), sum(r["seconds"] for r in t), mem.bytes)
        ratios.append(res["ours"][0] / res["plain"][0])
        totals.append(res["plain"][1] / res["ours"][1])
        if res["ours"][2] is not None and res["plain"][2]:
            mems.append(res["ours"][2] / res["plain"][2])
        raw.append({"ours_images_per_s": round(res["ours"][0], 1), "plain_images_per_s": round(res["plain"][0], 1),
                    "ours_peak_bytes": res["ours"][2], "plain_peak_bytes": res["plain"][2]})
    return {
        "top_throughput_ratio": _median(ratios),
        "top_total_speedup": _median(totals),
        "top_peak_memory_ratio": _median(mems) if mems else None,
        "raw_top": raw,
    }


# ---------------------------------------------------------------------------
# Figures 5 and 6: run processes


def _bare_import_s() -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import torch, torchvision"], check=True)
    return time.perf_counter() - t0


def _observe_run(store, config: TrainConfig, window_s: float) -> dict:
    """Launch a run process and watch it as the live view does, then alternate the reader off and on.

    Until the first ``batch`` event a reader polls every 0.5 s (as the app does while a run
    starts). Then windows of ``window_s`` seconds alternate: no reader at all (the bench
    sleeps), then a reader calling ``read_events`` and ``RunStore.get`` every 0.5 s. Returns
    the launch-to-first-batch time and the training throughput inside each kind of window.
    """
    from .runs import read_events

    launched = time.time()
    run_id = store.start(config)
    run_dir = store.run_dir(run_id)
    proc = store._children[run_id]  # waited on directly: no reads of our own in the "off" windows
    offset, polls, first_batch = 0, 0, None

    def poll() -> list[dict]:
        nonlocal offset, polls
        events, offset = read_events(run_dir, offset)
        store.get(run_id)
        polls += 1
        return events

    while first_batch is None and proc.poll() is None:
        time.sleep(POLL_INTERVAL_S)
        first_batch = next((e["time"] for e in poll() if e["kind"] == "batch"), None)
    windows: list[tuple[bool, float, float]] = []  # (reader on, start, end)
    reading = False
    while proc.poll() is None:
        start = time.time()
        if reading:
            for _ in range(max(1, round(window_s / POLL_INTERVAL_S))):
                time.sleep(POLL_INTERVAL_S)
                poll()
        else:
            time.sleep(window_s)
        windows.append((reading, start, time.time()))
        reading = not reading
    proc.wait()
    events, _ = read_events(run_dir)
    info = store.get(run_id)
    if info.status != "completed":
        log = (run_dir / "log.txt").read_text(errors="replace")[-2000:]
        raise TrainingError(f"A benchmark run ended {info.status}: {info.message}\n{log}")
    if first_batch is None:
        first_batch = next(e["time"] for e in events if e["kind"] == "batch")
    return {"first_batch_s": first_batch - launched, "polls": polls,
            **_throughput_by_window(events, windows, config.batch_size)}


def _throughput_by_window(events: list[dict], windows: list[tuple[bool, float, float]], batch_size: int) -> dict:
    """Images per second between consecutive ``batch`` events of one epoch (epochs 2..), per reader window.

    Returns ``ratios``: reader-on over reader-off throughput for each off window and the on
    window right after it, and the images per second over all windows of each kind.
    """
    n = next(e["num_train"] for e in events if e["kind"] == "fit_start")
    bs = min(batch_size, n)
    per_window = [[0, 0.0] for _ in windows]  # images, seconds
    batches = [e for e in events if e["kind"] == "batch" and e["epoch"] >= 2]
    for a, b in zip(batches, batches[1:]):
        if a["epoch"] != b["epoch"] or b["step"] <= a["step"]:
            continue
        i = next((i for i, w in enumerate(windows) if w[1] <= a["time"] and b["time"] <= w[2]), None)
        if i is None:
            continue  # straddles a switch
        per_window[i][0] += min(b["step"] * bs, n) - a["step"] * bs
        per_window[i][1] += b["time"] - a["time"]
    rate = [img / sec if sec > 0 else None for img, sec in per_window]
    ratios = [rate[i + 1] / rate[i] for i in range(0, len(windows) - 1, 2)
              if not windows[i][0] and windows[i + 1][0] and rate[i] and rate[i + 1]]

    def overall(on: bool) -> float | None:
        img = sum(w[0] for w, win in zip(per_window, windows) if win[0] == on)
        sec = sum(w[1] for w, win in zip(per_window, windows) if win[0] == on)
        return img / sec if sec > 0 else None

    return {"ratios": ratios, "images_per_s_reader_on": overall(True), "images_per_s_reader_off": overall(False)}


def bench_runs(data_dir: Path, runs_dir: Path, setup: BenchSetup, device: torch.device) -> dict:
    """(5) launch to first batch against a bare torch import, and (6) the cost of a polling reader."""
    from .runs import RunStore

    store = RunStore(runs_dir, max_concurrent=1)
    config = ours_config(data_dir, setup, "full", setup.run_epochs, device)
    pkg_root = str(Path(__file__).resolve().parents[1])
    old_path = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = pkg_root + (os.pathsep + old_path if old_path else "")  # workers import tlcore
    ratios, overheads, raw = [], [], []
    try:
        for rep in range(setup.repeats):
            _log(f"run processes {rep + 1}/{setup.repeats}")
            bare = _bare_import_s()
            run = _observe_run(store, config, setup.poll_window_s)
            ratios.append(run["first_batch_s"] / bare)
            overheads += [1.0 - r for r in run.pop("ratios")]
            raw.append({"bare_import_s": round(bare, 3), **{k: round(v, 3) if isinstance(v, float) else v
                                                           for k, v in run.items()}})
    finally:
        if old_path is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old_path
    return {
        "first_event_ratio": _median(ratios),
        # The median over every pair of windows (off, then on) of every run. Tiny runs are too
        # short for a window to hold two batch events: 0.0, with no samples.
        "poll_overhead": _median(overheads) if overheads else 0.0,
        "poll_overhead_pairs": len(overheads),
        "raw_runs": raw,
    }


# ---------------------------------------------------------------------------
# Putting it together


def run_bench(tiny: bool = False, device: str = "auto") -> dict:
    """Run every figure; return the JSON-ready result."""
    from .lab.world import write_imagefolder

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
    with tempfile.TemporaryDirectory(prefix="tlcore-bench-") as tmp:
        data_dir = write_imagefolder(Path(tmp) / "data", setup.similarity, setup.per_class, setup.seed,
                                     setup.val_per_class, setup.num_classes)
        _warm_up(dev)
        data = load_plain_data(data_dir, setup, dev)
        result.update(bench_full(data_dir, data, setup, dev))
        result.update(bench_head(data_dir, data, setup, dev))
        result.update(bench_top(data_dir, data, setup, dev))
        del data
        result.update(bench_runs(data_dir, Path(tmp) / "runs", setup, dev))
    for key in (*TARGETS, *EXTRAS, "head_total_speedup", "top_total_speedup"):
        if isinstance(result.get(key), float):
            result[key] = round(result[key], 4)
    result["targets"] = {k: {"target": text, "pass": bool(test(result[k]))} for k, (text, test) in TARGETS.items()}
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
        f"{'figure':<24} {'value':>10}  {'target':<8} result",
    ]
    for key, (text, _) in TARGETS.items():
        ok = result["targets"][key]["pass"]
        lines.append(f"{key:<24} {_fmt(result[key]):>10}  {text:<8} {'pass' if ok else 'FAIL'}")
    for key in EXTRAS + ("head_total_speedup", "top_total_speedup"):
        lines.append(f"{key:<24} {_fmt(result.get(key)):>10}  {'-':<8} -")
    lines.append(f"\n{result['seconds']:.0f} s in all")
    return "\n".join(lines)


def main_bench(tiny: bool = False, as_json: bool = False, device: str = "auto") -> int:
    """Entry point of ``python -m tlcore bench``: prints JSON or a table; 0 once every figure was measured."""
    result = run_bench(tiny=tiny, device=device)
    print(json.dumps(result, indent=2) if as_json else format_table(result))
    return 0
