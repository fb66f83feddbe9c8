"""What every benchmark figure shares: the set-up, the targets, timing helpers and peak memory."""
from __future__ import annotations

import ctypes
import os
import platform
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

import torch

#: Each figure: (target as text, test). The README's table shows the same targets.
TARGETS = {
    "full_throughput_ratio": (">= 0.95", lambda v: v >= 0.95),
    "head_epoch_speedup": (">= 20", lambda v: v >= 20),
    "head_accuracy_gap": ("<= 1.0", lambda v: v <= 1.0),
    "top_throughput_ratio": (">= 1.0", lambda v: v >= 1.0),
    "decodes_after_epoch1": ("== 0", lambda v: v == 0),
    "first_event_ratio": ("<= 2.5", lambda v: v <= 2.5),
    "poll_overhead": ("<= 0.05", lambda v: v <= 0.05),
    "real_head_vs_inference": ("<= 1.3", lambda v: v <= 1.3),
}
#: Figures reported without a target.
EXTRAS = ("top_peak_memory_ratio", "data_epoch_speedup", "real_head_accuracy", "real_probe_accuracy",
          "real_head_probe_gap", "streaming_throughput_ratio", "inspect_images_per_s", "inspect_full_images_per_s")

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


