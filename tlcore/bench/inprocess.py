"""Figures 1-4, in this process: full fine-tune throughput, head-only caching, the top plan, the data pipeline.

Ours is measured through its events (a subscriber records them), never by reading the trainer's insides.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from .. import events as ev
from ..config import TrainConfig
from ..train import train
from .common import BenchSetup, PeakMemory, _log, _median
from .plain import PlainData, _plain_groups, plain_epochs, plain_model

# ---------------------------------------------------------------------------
# Ours


def ours_config(data_dir: Path, setup: BenchSetup, plan: str, epochs: int, device: torch.device) -> TrainConfig:
    return TrainConfig(data=str(data_dir), model=setup.model, plan=plan, weights=setup.weights, top_stages=1,
                       epochs=epochs, batch_size=setup.batch_size, lr=setup.lr, weight_decay=setup.weight_decay,
                       image_size=setup.image_size, augment=False, seed=setup.seed, device=str(device))


@dataclass
class Recorded:
    """What a subscriber saw of one fit of ours: its events, folded."""

    progress: ev.Progress = field(default_factory=ev.Progress)

    def __call__(self, event: ev.Event) -> None:
        self.progress.feed([event])

    @property
    def timings(self) -> list[dict]:
        """Per epoch: seconds training, fetching batches (decoding included) and in all, and images seen."""
        return [{"epoch": e.epoch, "train_s": e.train_seconds, "data_s": e.data_seconds, "seconds": e.seconds,
                 "images": e.images} for e in self.progress.epochs]

    @property
    def fit_start(self) -> ev.FitStart:
        return self.progress.fit_start

    @property
    def fit_end(self) -> ev.FitEnd:
        return self.progress.fit_end


def fit_interleaved(config: TrainConfig, baseline) -> tuple[Recorded, list[dict]]:
    """Fit ours; after each of our epochs the baseline (a ``plain_epochs`` generator) runs one.

    Alternating epoch by epoch makes both sides see the same load on a shared machine. The
    baseline runs from an ``epoch_end`` subscriber, after our epoch's timings were taken.
    """
    rows: list[dict] = []
    ours = Recorded()

    def emit(event: ev.Event) -> None:
        ours(event)
        if isinstance(event, ev.EpochEnd):
            rows.append(next(baseline))

    train(config, emit)
    return ours, rows


def _throughput(timings: list[dict]) -> float:
    """Training images per second over epochs 2.. (epoch 1 is a warm-up)."""
    rows = timings[1:] if len(timings) > 1 else timings
    return sum(r["images"] for r in rows) / max(1e-9, sum(r["train_s"] for r in rows))


def _median_epoch_s(timings: list[dict]) -> float:
    rows = timings[1:] if len(timings) > 1 else timings
    return _median(r["seconds"] for r in rows)


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
        ours, plain = fit_interleaved(ours_config(data_dir, setup, "full", setup.epochs, device), baseline)
        ours_ips, plain_ips = _throughput(ours.timings), _throughput(plain)
        ratios.append(ours_ips / plain_ips)
        t = ours.timings
        data_speedups.append(t[0]["data_s"] / max(1e-9, t[1]["data_s"]) if len(t) > 1 else 1.0)
        decodes.append(ours.fit_end.decodes_after_epoch1)
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
        rec, plain = fit_interleaved(ours_config(data_dir, setup, "head", setup.head_epochs, device), baseline)
        ours = rec.timings
        ours_s, plain_s = _median_epoch_s(ours), _median_epoch_s(plain)
        ours_acc, plain_acc = rec.fit_end.best_val_accuracy, max(r["val_accuracy"] for r in plain)
        cache_s = rec.fit_start.cache_seconds
        speedups.append(plain_s / ours_s)
        totals.append(sum(r["seconds"] for r in plain) / (cache_s + sum(r["seconds"] for r in ours)))
        gaps.append(abs(plain_acc - ours_acc) * 100.0)
        raw.append({"ours_epoch_s": round(ours_s, 4), "plain_epoch_s": round(plain_s, 4),
                    "ours_feature_cache_s": round(cache_s, 3),
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
                    rec = Recorded()
                    train(ours_config(data_dir, setup, "top", setup.epochs, device), rec)
                    total = time.perf_counter() - t_start - rec.fit_start.setup_seconds
                res["ours"] = (_throughput(rec.timings), total, mem.bytes)
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


