"""Distributed training through torchrun (issue 17): two gloo processes on the CPU train like one, rank 0 alone
writes, Stop ends every rank, and a killed rank fails the run quickly."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from tests.conftest import make_image_folder, wait_for
from tlcore.config import TrainConfig
from tlcore.errors import ConfigError
from tlcore.launch import rank_records, torchrun_command
from tlcore.runs import RunStore, pid_alive
from tlcore.train.distributed import SINGLE, DistContext

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(not (torch.distributed.is_available() and torch.distributed.is_gloo_available()),
                                reason="needs torch.distributed with gloo")

#: What a run directory holds (rank records aside): no rank but 0 adds anything.
RUN_FILES = {"config.json", "meta.json", "events.jsonl", "status.json", "best.pt", "log.txt"}


@pytest.fixture
def data(tmp_path) -> Path:
    return make_image_folder(tmp_path / "d", classes=3, per_class=20, size=32)


def _cli_train(data: Path, runs: Path, tmp_path: Path, *extra: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TLCORE_CACHE_DIR": str(tmp_path / "cache")}
    proc = subprocess.run([sys.executable, "-m", "tlcore", "train", str(data), "--model", "labnet", "--no-augment",
                           "--batch-size", "8", "--lr", "0.01", "--seed", "0", "--runs-dir", str(runs), "--json", *extra],
                          capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stdout[-1000:] + proc.stderr[-3000:]
    return json.loads(proc.stdout)


def _events(run_dir) -> list[dict]:
    return [json.loads(line) for line in (Path(run_dir) / "events.jsonl").read_text().splitlines()]


@pytest.mark.slow
def test_two_gloo_processes_train_like_one_and_only_rank_0_writes(data, tmp_path):
    one = _cli_train(data, tmp_path / "runs1", tmp_path, "--plan", "full", "--epochs", "4")
    two = _cli_train(data, tmp_path / "runs2", tmp_path, "--plan", "full", "--epochs", "4", "--nproc-per-node", "2")
    assert one["status"] == two["status"] == "completed"
    n_val = next(e for e in _events(one["run_dir"]) if e["kind"] == "fit_start")["num_val"]
    # Same seed, same global batches; BatchNorm sees half a batch per process, hence "within noise":
    # at most one validation image apart, and both learn the task.
    assert abs(one["best_val_accuracy"] - two["best_val_accuracy"]) <= 1 / n_val + 1e-6
    assert two["best_val_accuracy"] >= 0.9

    run_dir = Path(two["run_dir"])
    assert {p.name for p in run_dir.iterdir()} - {".ranks"} == RUN_FILES
    records = rank_records(run_dir)
    assert sorted(records) == [0, 1], "both ranks ran"
    assert all(r["status"] == "completed" and r["epochs_completed"] == 4 for r in records.values())
    assert records[0]["pid"] != records[1]["pid"]
    kinds = [e["kind"] for e in _events(run_dir)]
    assert kinds.count("fit_start") == kinds.count("fit_end") == kinds.count("evaluation") == 1, "one writer"
    assert kinds.count("epoch_end") == 4
    fit = next(e for e in _events(run_dir) if e["kind"] == "fit_start")
    assert fit["device"] == "2 x cpu (gloo)" and fit["num_train"] == 48
    assert all(e["images"] == 48 for e in _events(run_dir) if e["kind"] == "epoch_end"), "the two shares make one epoch"
    status = json.loads((run_dir / "status.json").read_text())
    assert status["processes"] == 2 and status["status"] == "completed"
    ckpt = torch.load(run_dir / "best.pt", map_location="cpu", weights_only=True)
    assert ckpt["classes"] == ["class_0", "class_1", "class_2"]


@pytest.mark.slow
def test_frozen_features_on_two_processes_give_exactly_the_single_process_run(data, tmp_path):
    """head: features computed once (rank 0) and read by rank 1; the weighted shares make the global batch's gradient."""
    one = _cli_train(data, tmp_path / "runs1", tmp_path, "--plan", "head", "--epochs", "3")
    two = _cli_train(data, tmp_path / "runs2", tmp_path, "--plan", "head", "--epochs", "3", "--nproc-per-node", "2")
    curves = [[(e["train_loss"], e["val_loss"], e["val_accuracy"]) for e in _events(r["run_dir"]) if e["kind"] == "epoch_end"]
              for r in (one, two)]
    assert len(curves[0]) == len(curves[1]) == 3
    for a, b in zip(*curves):
        assert a == pytest.approx(b, rel=1e-4, abs=1e-6)
    records = rank_records(Path(two["run_dir"]))
    files = ["train-head", "validation-head"]
    assert records[0]["shared_files"] == {"written": files, "read": []}, "rank 0 computed the features once"
    assert records[1]["shared_files"] == {"written": [], "read": files}, "rank 1 read them from its file"
    assert not (Path(two["run_dir"]) / ".ranks" / "shared").exists(), "and the files go when the run ends"


def _start_slow_run(runs: Path, data: Path, monkeypatch) -> tuple[RunStore, str]:
    monkeypatch.setenv("TLCORE_FAULT", "sleep0.05")  # every step waits: time to act mid-training
    store = RunStore(runs)
    run_id = store.start(TrainConfig(data=str(data), model="labnet", plan="full", epochs=100, batch_size=8,
                                     nproc_per_node=2))
    assert wait_for(lambda: any(e.kind == "batch" for e in store.events(run_id)[0]), 120), \
        (store.run_dir(run_id) / "log.txt").read_text()[-3000:]
    assert sorted(rank_records(store.run_dir(run_id))) == [0, 1]
    return store, run_id


def _all_gone(store: RunStore, run_id: str) -> bool:
    status = json.loads((store.run_dir(run_id) / "status.json").read_text())
    pids = [(r["pid"], r["pid_start"]) for r in rank_records(store.run_dir(run_id)).values()]
    pids.append((status.get("launcher_pid"), status.get("launcher_start")))
    return not any(pid_alive(pid, started=start) for pid, start in pids)


@pytest.mark.slow
def test_a_killed_rank_fails_the_run_within_a_minute(data, runs_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("TLCORE_CACHE_DIR", str(tmp_path / "cache"))
    store, run_id = _start_slow_run(runs_dir, data, monkeypatch)
    victim = rank_records(store.run_dir(run_id))[1]["pid"]
    t0 = time.time()
    os.kill(victim, signal.SIGKILL)
    assert wait_for(lambda: not store.get(run_id).active, 60), "no hang: the run ends"
    took = time.time() - t0
    info = store.get(run_id)
    assert info.status == "failed" and info.error_code == "rank_died" and "Rank 1 of 2" in info.message, info.message
    assert took < 60
    assert store.events(run_id)[0][-1].kind == "failed"
    assert wait_for(lambda: _all_gone(store, run_id), 30), "no rank is left behind"
    print(f"a killed rank failed the run in {took:.1f} s")


@pytest.mark.slow
def test_stop_ends_every_rank(data, runs_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("TLCORE_CACHE_DIR", str(tmp_path / "cache"))
    store, run_id = _start_slow_run(runs_dir, data, monkeypatch)
    info = store.stop(run_id, wait=True, grace_s=30)
    assert info.status == "stopped"
    assert store.events(run_id)[0][-1].kind == "cancelled", "the ranks stopped together, rank 0 said so"
    assert wait_for(lambda: _all_gone(store, run_id), 30)


# ---------------------------------------------------------------------------
# The pieces, without processes


def test_shares_of_global_batches_cover_them_once():
    perm = torch.randperm(21, generator=torch.Generator().manual_seed(0))
    slices = [slice(0, 8), slice(8, 16), slice(16, 21)]
    ranks = [DistContext(rank=r, world=2) for r in (0, 1)]
    shares = [ctx.shard(perm, slices) for ctx in ranks]
    assert len(shares[0]) == len(shares[1]) == 3, "every rank runs the same steps"
    for step in range(3):
        together = sorted(shares[0][step][0].tolist() + shares[1][step][0].tolist())
        assert together == sorted(perm[slices[step]].tolist()), "one global batch, split"
        assert shares[0][step][1] == slices[step].stop - slices[step].start
    small_last = DistContext(rank=0, world=2).shard(perm, [slice(0, 18), slice(18, 21)])
    assert len(small_last) == 1, "a last batch too small for two images per rank joins the one before"
    assert [(i.tolist(), n) for i, n in SINGLE.shard(perm, slices)] == [(perm[s].tolist(), s.stop - s.start) for s in slices]


def test_validation_shares_have_equal_steps_and_cover_every_image():
    parts = [DistContext(rank=r, world=3).eval_batches(10, 2) for r in range(3)]
    assert len({len(p) for p in parts}) == 1
    assert sorted(i for p in parts for b in p for i in b) == list(range(10))
    assert SINGLE.eval_batches(5, 2) == [range(0, 2), range(2, 4), range(4, 5)]


def test_loss_weights_make_the_global_mean():
    ctx = DistContext(rank=0, world=2)
    loss = torch.tensor(2.0)
    assert float(ctx.scale_loss(loss, 3, 5)) == pytest.approx(2.0 * 3 * 2 / 5)
    assert SINGLE.scale_loss(loss, 3, 5) is loss


def test_torchrun_command_and_settings(tmp_path):
    cfg = TrainConfig(data="x", nproc_per_node=2)
    cmd = torchrun_command(cfg, tmp_path)
    assert cmd[1:3] == ["-m", "torch.distributed.run"] and "--standalone" in cmd
    assert cmd[-4:] == ["--module", "tlcore", "rank", str(tmp_path)]
    multi = torchrun_command(TrainConfig(data="x", nproc_per_node=4, nnodes=2, rdzv_endpoint="10.0.0.1:29400"), tmp_path)
    assert "--standalone" not in multi and multi[multi.index("--rdzv-endpoint") + 1] == "10.0.0.1:29400"
    assert multi[multi.index("--nnodes") + 1] == "2"
    assert TrainConfig(data="x", nproc_per_node=4, nnodes=2, rdzv_endpoint="h:1").world_size == 8
    for bad in (dict(nnodes=2), dict(rdzv_endpoint="nohost"), dict(nproc_per_node=0), dict(workers=-1),
                dict(nproc_per_node=2, device="cuda:1")):
        with pytest.raises(ConfigError):
            TrainConfig(data="x", **bad)


def test_cli_flags_reach_the_config():
    from tlcore.cli import _scale_settings, build_parser

    args = build_parser().parse_args(["train", "d", "--nproc-per-node", "2", "--nnodes", "2", "--rdzv-endpoint",
                                      "h:29400", "--workers", "3", "--memory-budget-mb", "0"])
    assert _scale_settings(args) == {"memory_budget_mb": 0, "workers": 3, "nproc_per_node": 2, "nnodes": 2,
                                     "rdzv_endpoint": "h:29400"}


def test_train_page_offers_gpus_when_several_are_visible(tmp_path, monkeypatch):
    """"GPUs: N" on the Train page with more than one GPU; the choice reaches the run's config."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from tlcore import service

    monkeypatch.setenv("TLCORE_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("TLCORE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(service.defaults, "LAB_DEFAULT_PER_CLASS", 10)
    monkeypatch.setattr(service.defaults, "LAB_VAL_PER_CLASS", 10)
    st.cache_resource.clear()
    st.cache_data.clear()
    started = []
    monkeypatch.setattr(service, "start_run", lambda store, config, **kw: started.append(config) or "run-1")
    for gpus, expect in ((1, None), (4, 2)):
        monkeypatch.setattr(service.training, "gpu_count", lambda gpus=gpus: gpus)
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        at.run()
        at.switch_page("views/3_Train.py").run()
        assert not at.exception, [e.value for e in at.exception]
        if expect is None:
            assert "gpus" not in [s.key for s in at.selectbox], "one GPU or none: no choice to make"
            continue
        assert at.selectbox(key="gpus").options == ["1", "2", "3", "4"]
        at.selectbox(key="gpus").set_value(expect).run()
        at.button(key="start_run").click().run()
        assert started and started[-1].nproc_per_node == expect and started[-1].world_size == expect
    st.cache_resource.clear()
