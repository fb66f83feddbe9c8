"""Faults, load and security: dying runs, full disks, a crowded classroom, hostile paths."""
import json
import os
import re
import signal
import time
from pathlib import Path

import pytest
from conftest import wait_for as _wait_for
import torch

from tlcore.config import TrainConfig
from tlcore.runs import RunStore, pid_alive, read_events
from tlcore.worker import run_worker

ROOT = Path(__file__).resolve().parents[1]


def _cfg(data, **kw):
    base = dict(data=str(data), model="labnet", plan="top", weights="none", epochs=1, batch_size=8)
    base.update(kw)
    return TrainConfig(**base)


@pytest.mark.slow
def test_five_sessions_queue_and_all_complete(tiny_dataset, runs_dir):
    # Five "sessions": each its own store object, as five browser sessions would have.
    stores = [RunStore(runs_dir, max_concurrent=1) for _ in range(5)]
    ids = [s.start(_cfg(tiny_dataset, seed=i)) for i, s in enumerate(stores)]
    watcher = RunStore(runs_dir)
    max_running, saw_positions = 0, set()
    deadline = time.time() + 300
    while time.time() < deadline:
        infos = {r.run_id: r for r in watcher.list()}
        max_running = max(max_running, sum(r.status == "running" for r in infos.values()))
        saw_positions |= {r.queue_position for r in infos.values() if r.status == "queued"}
        if all(not infos[i].active for i in ids):
            break
        time.sleep(0.1)
    assert max_running == 1
    assert max(saw_positions) >= 3  # later sessions saw their place in the queue
    for store, run_id in zip(stores, ids):
        info = store.get(run_id)  # each session reconnects to its own run by id
        assert info.status == "completed", info.message
        assert any(e.kind == "epoch_end" for e in store.events(run_id)[0])


@pytest.mark.slow
def test_simulated_out_of_memory_in_a_run_process(tiny_dataset, runs_dir, monkeypatch):
    monkeypatch.setenv("TLCORE_FAULT", "oom_once")
    store = RunStore(runs_dir)
    run_id = store.start(_cfg(tiny_dataset, batch_size=8))
    info = store.wait(run_id, timeout=120)
    assert info.status == "completed"
    warnings = [e for e in store.events(run_id)[0] if e.kind == "warning"]
    assert warnings and "half the batch size (4)" in warnings[0].message


def test_nan_loss_run_fails_with_message(tiny_dataset, runs_dir):
    store = RunStore(runs_dir)
    run_id = store.create(_cfg(tiny_dataset, plan="scratch", lr=1e6, epochs=3))
    assert run_worker(runs_dir / run_id) == 1
    info = store.get(run_id)
    assert info.status == "failed" and info.error_code == "non_finite_loss"
    assert "learning rate" in info.message
    assert [e.kind for e in store.events(run_id)[0]][-1] == "failed"


def test_app_restart_reattaches_live_run_and_marks_dead_one(tiny_dataset, runs_dir, monkeypatch):
    monkeypatch.setenv("TLCORE_FAULT", "sleep0.05")
    first = RunStore(runs_dir)
    run_id = first.start(_cfg(tiny_dataset, epochs=100))
    assert _wait_for(lambda: first.get(run_id).status == "running", 60)
    # "Restart": a brand-new store (as a restarted app has) sees the live run and its events.
    second = RunStore(runs_dir)
    info = second.get(run_id)
    assert info.status == "running" and pid_alive(info.pid, run_id)
    assert _wait_for(lambda: any(e.kind == "batch" for e in second.events(run_id)[0]), 60)
    os.kill(info.pid, signal.SIGKILL)
    third = RunStore(runs_dir)
    assert _wait_for(lambda: third.get(run_id).status == "failed", 5)
    assert "ended unexpectedly" in third.get(run_id).message


def test_a_stale_status_with_a_reused_pid_is_not_alive(tiny_dataset, runs_dir):
    store = RunStore(runs_dir)
    run_id = store.create(_cfg(tiny_dataset))
    status_path = runs_dir / run_id / "status.json"
    st = json.loads(status_path.read_text())
    st.update(status="running", pid=os.getpid())  # a live pid, but not this run's worker
    status_path.write_text(json.dumps(st))
    assert store.get(run_id).status == "failed"


def test_a_worker_between_fork_and_exec_is_alive_and_a_reused_pid_is_not(tiny_dataset, runs_dir):
    """Just after launch the worker's command line is still the app's; its start time already is its own."""
    from tlcore.runs import process_start_time

    store = RunStore(runs_dir)
    run_id = store.create(_cfg(tiny_dataset))
    status_path = runs_dir / run_id / "status.json"
    st = json.loads(status_path.read_text())
    me = process_start_time(os.getpid())
    assert me is not None
    st.update(status="running", pid=os.getpid(), pid_start=me)  # this process: no run id on its command line
    status_path.write_text(json.dumps(st))
    assert store.get(run_id).status == "running", "a launched worker is not declared dead before its exec"
    st.update(pid_start=me - 1)  # the same pid, started at another time: reused
    status_path.write_text(json.dumps(st))
    assert store.get(run_id).status == "failed"


def test_full_disk_during_run_keeps_previous_checkpoint(tiny_dataset, runs_dir, monkeypatch):
    """A checkpoint write that fails (disk full) fails the run clearly; the last good best.pt stays."""
    from tlcore import train as train_mod

    store = RunStore(runs_dir)
    run_id = store.create(_cfg(tiny_dataset, epochs=3, plan="full"))
    best = runs_dir / run_id / "best.pt"
    real_save = torch.save
    calls = {"n": 0}

    def flaky_save(obj, f, *a, **k):
        calls["n"] += 1
        if calls["n"] >= 2:
            with open(f, "wb") as fh:
                fh.write(b"partial")
            raise OSError(28, "No space left on device")
        return real_save(obj, f, *a, **k)

    monkeypatch.setattr(torch, "save", flaky_save)

    def improving_evaluation(self):  # every epoch a new best, so that a second save is attempted
        labels = self.val.labels
        pred = labels.clone()
        wrong = max(0, len(labels) - 1 - self.epochs_completed)
        pred[:wrong] = (labels[:wrong] + 1) % len(self.classes)
        return 0.0, pred, torch.ones(len(labels))

    monkeypatch.setattr(train_mod.Trainer, "_evaluate", improving_evaluation)
    assert run_worker(runs_dir / run_id) == 1
    info = store.get(run_id)
    assert info.status == "failed" and info.error_code == "checkpoint_write"
    assert "No space left" in info.message
    monkeypatch.undo()
    assert torch.load(best, weights_only=True)["epoch"] == 1
    assert not [p for p in best.parent.iterdir() if p.name.endswith(".tmp")]


def test_every_torch_load_is_weights_only():
    offenders = []
    for path in list((ROOT / "tlcore").rglob("*.py")) + list(ROOT.glob("*.py")) + list((ROOT / "pages").glob("*.py")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"torch\.load\(", line) and "weights_only=True" not in line:
                offenders.append(f"{path.relative_to(ROOT)}:{n}")
    assert offenders == []


def test_tlcore_never_imports_streamlit():
    for path in (ROOT / "tlcore").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"^\s*(import streamlit|from streamlit)", text, re.M), path


def test_classroom_config_keeps_protections():
    import tomllib

    cfg = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert cfg["server"]["enableXsrfProtection"] is True
    assert cfg["server"]["enableCORS"] is True
    assert 1 <= cfg["server"]["maxUploadSize"] <= 1024
    assert cfg["server"]["fileWatcherType"] == "none"
    assert cfg["client"]["showErrorDetails"] == "none"


def test_events_log_is_append_only_and_tolerates_a_torn_line(tmp_path):
    log = tmp_path / "events.jsonl"
    log.write_text('{"kind": "fit_start"}\n{"kind": "epo')  # a line still being written
    events, offset = read_events(tmp_path)
    assert [e.kind for e in events] == ["fit_start"]
    with open(log, "a") as fh:
        fh.write('ch_start", "epoch": 1}\n')
    more, _ = read_events(tmp_path, offset)
    assert [(e.kind, e.epoch) for e in more] == [("epoch_start", 1)]
