"""Figures 5 and 6: real run processes, launch to first batch and the cost of a polling reader."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import torch

from .. import events as ev
from ..config import TrainConfig
from ..errors import TrainingError
from .common import POLL_INTERVAL_S, BenchSetup, _log, _median
from .inprocess import ours_config



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
    from ..runs import read_events

    launched = time.time()
    run_id = store.start(config)
    run_dir = store.run_dir(run_id)
    proc = store._children[run_id]  # waited on directly: no reads of our own in the "off" windows
    offset, polls, first_batch = 0, 0, None

    def poll() -> list[ev.Event]:
        nonlocal offset, polls
        events, offset = read_events(run_dir, offset)
        store.get(run_id)
        polls += 1
        return events

    while first_batch is None and proc.poll() is None:
        time.sleep(POLL_INTERVAL_S)
        first_batch = next((e.time for e in poll() if isinstance(e, ev.BatchProgress)), None)
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
        first_batch = next(e.time for e in events if isinstance(e, ev.BatchProgress))
    return {"first_batch_s": first_batch - launched, "polls": polls,
            **_throughput_by_window(events, windows, config.batch_size)}


def _throughput_by_window(events: list[ev.Event], windows: list[tuple[bool, float, float]], batch_size: int) -> dict:
    """Images per second between consecutive ``batch`` events of one epoch (epochs 2..), per reader window.

    Returns ``ratios``: reader-on over reader-off throughput for each off window and the on
    window right after it, and the images per second over all windows of each kind.
    """
    n = next(e.num_train for e in events if isinstance(e, ev.FitStart))
    bs = min(batch_size, n)
    per_window = [[0, 0.0] for _ in windows]  # images, seconds
    batches = [e for e in events if isinstance(e, ev.BatchProgress) and e.epoch >= 2]
    for a, b in zip(batches, batches[1:]):
        if a.epoch != b.epoch or b.step <= a.step:
            continue
        i = next((i for i, w in enumerate(windows) if w[1] <= a.time and b.time <= w[2]), None)
        if i is None:
            continue  # straddles a switch
        per_window[i][0] += min(b.step * bs, n) - a.step * bs
        per_window[i][1] += b.time - a.time
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
    from ..runs import RunStore

    store = RunStore(runs_dir, max_concurrent=1)
    config = ours_config(data_dir, setup, "full", setup.run_epochs, device)
    ratios, overheads, raw = [], [], []
    for rep in range(setup.repeats):
        _log(f"run processes {rep + 1}/{setup.repeats}")
        bare = _bare_import_s()
        run = _observe_run(store, config, setup.poll_window_s)
        ratios.append(run["first_batch_s"] / bare)
        overheads += [1.0 - r for r in run.pop("ratios")]
        raw.append({"bare_import_s": round(bare, 3), **{k: round(v, 3) if isinstance(v, float) else v
                                                       for k, v in run.items()}})
    return {
        "first_event_ratio": _median(ratios),
        # The median over every pair of windows (off, then on) of every run. Tiny runs are too
        # short for a window to hold two batch events: 0.0, with no samples.
        "poll_overhead": _median(overheads) if overheads else 0.0,
        "poll_overhead_pairs": len(overheads),
        "raw_runs": raw,
    }


