"""Run processes: run directory contents, stop, kill -9, queueing, restart, run id validation."""
import json
import os
import signal
import time

import pytest
from conftest import wait_for as _wait_for
import torch

from tlcore.config import TrainConfig
from tlcore.errors import RunError
from tlcore.runs import RunStore, read_events, validate_run_id

pytestmark = pytest.mark.slow


def _cfg(data, **kw):
    base = dict(data=str(data), model="labnet", plan="top", weights="none", epochs=2, batch_size=8)
    base.update(kw)
    return TrainConfig(**base)


def test_run_directory_and_events(tiny_dataset, runs_dir):
    store = RunStore(runs_dir)
    run_id = store.start(_cfg(tiny_dataset))
    info = store.wait(run_id, timeout=120)
    assert info.status == "completed", info.message
    d = runs_dir / run_id
    for name in ("config.json", "events.jsonl", "status.json", "best.pt", "log.txt"):
        assert (d / name).exists(), name
    events, _ = read_events(d)
    ends = [e for e in events if e.kind == "epoch_end"]
    assert [e.epoch for e in ends] == [1, 2]
    assert {"train_accuracy", "val_accuracy", "train_loss", "val_loss"} <= set(ends[0].to_json())
    assert info.best_val_accuracy == pytest.approx(max(e.val_accuracy for e in ends))
    torch.load(d / "best.pt", weights_only=True)
    # A restart: a new store over the same folder lists the run and its curve again.
    again = RunStore(runs_dir)
    assert [r.run_id for r in again.list()] == [run_id]
    assert len([e for e in again.events(run_id)[0] if e.kind == "epoch_end"]) == 2


def test_stop_mid_run_is_fast_and_keeps_best(tiny_dataset, runs_dir, monkeypatch):
    monkeypatch.setenv("TLCORE_FAULT", "sleep0.05")  # slow batches so the run is mid-epoch
    store = RunStore(runs_dir)
    run_id = store.start(_cfg(tiny_dataset, epochs=200))
    assert _wait_for(lambda: (runs_dir / run_id / "best.pt").exists(), 90)
    t0 = time.time()
    store.stop(run_id)
    assert _wait_for(lambda: not store.get(run_id).active, 2.0)
    assert time.time() - t0 <= 2.0
    info = store.get(run_id)
    assert info.status == "stopped"
    assert torch.load(runs_dir / run_id / "best.pt", weights_only=True)["epoch"] >= 1


def test_killed_run_is_reported_failed(tiny_dataset, runs_dir, monkeypatch):
    monkeypatch.setenv("TLCORE_FAULT", "sleep0.05")
    store = RunStore(runs_dir)
    run_id = store.start(_cfg(tiny_dataset, epochs=200))
    assert _wait_for(lambda: (runs_dir / run_id / "best.pt").exists(), 90)
    os.kill(store.get(run_id).pid, signal.SIGKILL)
    assert _wait_for(lambda: store.get(run_id).status == "failed", 5)
    info = RunStore(runs_dir).get(run_id)
    assert info.status == "failed" and "ended unexpectedly" in info.message
    torch.load(runs_dir / run_id / "best.pt", weights_only=True)
    assert json.loads((runs_dir / run_id / "status.json").read_text())["status"] == "failed"


def test_runs_queue_one_at_a_time(tiny_dataset, runs_dir):
    store = RunStore(runs_dir, max_concurrent=1)
    first = store.start(_cfg(tiny_dataset, epochs=3))
    second = store.start(_cfg(tiny_dataset, epochs=1))
    seen_overlap = False
    seen_queued = False
    deadline = time.time() + 180
    while time.time() < deadline:
        a, b = store.get(first), store.get(second)
        if a.status == "running" and b.status == "running":
            seen_overlap = True
        if a.status == "running" and b.status == "queued":
            seen_queued = True
            assert store.queue_position(second) == 1
        if not a.active and not b.active:
            break
        time.sleep(0.05)
    assert store.get(first).status == "completed" and store.get(second).status == "completed"
    assert seen_queued and not seen_overlap


def test_run_ids_are_validated(runs_dir):
    store = RunStore(runs_dir)
    for bad in ["../etc", "..", "a/b", "", "x" * 200, "/abs"]:
        with pytest.raises(RunError):
            store.get(bad)
    assert validate_run_id("20260101-000000-head-abc123")
    with pytest.raises(RunError):
        store.get("20260101-000000-head-abc123")


def test_unwritable_runs_dir_gives_clear_error(tmp_path, tiny_dataset):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(RunError) as err:
        RunStore(blocker / "runs").start(_cfg(tiny_dataset))
    assert "runs directory" in str(err.value) and "--runs-dir" in str(err.value)
