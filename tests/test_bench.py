"""The benchmark: its tiny mode runs and reports every figure; the trainer's frozen-prefix cache it relies on."""
import json
import math
import os
import subprocess
import sys

import pytest

from tlcore.config import TrainConfig
from tlcore.train import train

FIGURES = (
    "full_throughput_ratio",
    "head_epoch_speedup",
    "head_accuracy_gap",
    "top_throughput_ratio",
    "top_peak_memory_ratio",
    "decodes_after_epoch1",
    "data_epoch_speedup",
    "first_event_ratio",
    "poll_overhead",
)


@pytest.mark.slow
def test_tiny_bench_emits_every_figure(monkeypatch):
    # A fresh process, as a user runs it: the bench sets its OpenMP policy before torch loads.
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)  # importing tlcore.bench below sets it; undone after
    proc = subprocess.run([sys.executable, "-m", "tlcore", "bench", "--tiny", "--json", "--device", "cpu"],
                          capture_output=True, text=True, timeout=240, env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert proc.returncode == 0, proc.stderr[-2000:]
    from tlcore.bench import TARGETS, format_table

    result = json.loads(proc.stdout)
    for key in FIGURES:
        if key == "top_peak_memory_ratio" and result[key] is None:
            continue  # no way to read peak memory on this system (it needs Linux's /proc)
        assert isinstance(result[key], (int, float)) and math.isfinite(result[key]), key
    assert result["decodes_after_epoch1"] == 0  # a count, not a timing: holds even when tiny
    assert result["device"] == "cpu" and result["torch_version"] and result["machine"]
    assert result["tiny"] is True and result["repetitions"] >= 1
    assert set(result["targets"]) == set(TARGETS)
    table = format_table(result)
    for key in FIGURES:
        assert key in table
    assert "pass" in table


def test_reader_windows_pair_off_with_the_next_on():
    from tlcore import events as ev
    from tlcore.bench.processes import _throughput_by_window

    # 10 images a step; one batch event a second; epoch 1 (warm-up) is ignored.
    events = [ev.FitStart(num_train=1000)]
    events += [ev.BatchProgress(epoch=1, step=s, time=float(s)) for s in range(1, 4)]
    events += [ev.BatchProgress(epoch=2, step=s, time=10.0 + s) for s in range(1, 9)]
    windows = [(False, 10.5, 14.5), (True, 14.5, 18.5)]
    got = _throughput_by_window(events, windows, batch_size=10)
    assert got["images_per_s_reader_off"] == pytest.approx(10.0)  # steps 1->4 inside the first window
    assert got["images_per_s_reader_on"] == pytest.approx(10.0)
    assert got["ratios"] == [pytest.approx(1.0)]


def _top_cfg(data, **kw):
    base = dict(data=str(data), model="labnet", plan="top", weights="none", epochs=2, batch_size=8, seed=0, lr=1e-2)
    base.update(kw)
    return TrainConfig(**base)


def test_frozen_prefix_cache_matches_recomputing(tmp_path):
    from tests.conftest import make_image_folder

    data = make_image_folder(tmp_path / "d", classes=3, per_class=12)
    runs = {}
    for cache in (True, False):
        got = []
        res = train(_top_cfg(data, cache_features=cache), got.append)
        runs[cache] = (res, got)
    assert next(e for e in runs[True][1] if e.kind == "fit_start").feature_cache is True
    assert next(e for e in runs[False][1] if e.kind == "fit_start").feature_cache is False
    curves = {c: [(e.train_loss, e.val_accuracy) for e in got if e.kind == "epoch_end"] for c, (_, got) in runs.items()}
    for (loss_c, acc_c), (loss_n, acc_n) in zip(curves[True], curves[False]):
        assert loss_c == pytest.approx(loss_n, rel=1e-3)
        assert acc_c == pytest.approx(acc_n, abs=0.02)
    assert runs[True][0].best_val_accuracy == pytest.approx(runs[False][0].best_val_accuracy, abs=0.02)


def test_frozen_prefix_over_the_memory_budget_is_recomputed(tiny_dataset):
    got = []
    res = train(_top_cfg(tiny_dataset, epochs=1, memory_budget_mb=0), got.append)
    assert res.status == "completed"
    assert next(e for e in got if e.kind == "fit_start").feature_cache is False
