"""Data larger than memory (issue 17): streamed training, frozen features on disk, header checks, failures found in training."""
from __future__ import annotations

import io
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from tests.conftest import make_image_folder
from tlcore.config import TrainConfig
from tlcore.data import ImageStore, open_dataset
from tlcore.data.stream import RowWriter, default_workers, read_rows, rows_ready
from tlcore.train import Trainer, train

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TLCORE_CACHE_DIR", str(tmp_path / "cache"))


def _cfg(data, **kw) -> TrainConfig:
    base = dict(data=str(data), model="labnet", plan="full", epochs=3, batch_size=8, lr=0.01, augment=False, seed=0)
    base.update(kw)
    return TrainConfig(**base)


def _epochs(events) -> list:
    return [e for e in events if e.kind == "epoch_end"]


def _break_png(path: Path) -> None:
    """Damage a PNG's pixel data: its header and its end stay sound, only a full decode finds it."""
    data = bytearray(path.read_bytes())
    i = data.find(b"IDAT")
    data[i + 20] ^= 0xFF
    path.write_bytes(bytes(data))


# ---------------------------------------------------------------------------
# Streaming equals memory


def test_a_run_over_the_budget_streams_on_worker_processes_and_learns_the_same(tmp_path, monkeypatch):
    data = make_image_folder(tmp_path / "d", classes=3, per_class=20, size=32)
    pids = tmp_path / "decoder-pids"
    pids.mkdir()
    decode = ImageStore._decode

    def spying_decode(self, i):
        (pids / str(os.getpid())).touch()  # the workers are forked: they run this too
        return decode(self, i)

    monkeypatch.setattr(ImageStore, "_decode", spying_decode)
    in_memory, streamed = [], []
    a = train(_cfg(data), in_memory.append)
    memory_pids = {p.name for p in pids.iterdir()}
    b = train(_cfg(data, memory_budget_mb=0, workers=2), streamed.append)
    stream_pids = {p.name for p in pids.iterdir()} - memory_pids
    assert memory_pids == {str(os.getpid())}, "within the budget images are decoded here, once"
    workers = stream_pids - {str(os.getpid())}
    assert 2 <= len(workers) <= 4, "over it, worker processes decode (two for training, up to two for validation)"
    assert a.status == b.status == "completed"
    assert abs(a.best_val_accuracy - b.best_val_accuracy) <= 0.01, "the same accuracy (within 1 point)"
    for x, y in zip(_epochs(in_memory), _epochs(streamed)):
        assert x.val_accuracy == pytest.approx(y.val_accuracy, abs=1e-6)
        assert x.train_loss == pytest.approx(y.train_loss, rel=1e-4)
    ends = {name: next(e for e in got if e.kind == "fit_end") for name, got in (("memory", in_memory), ("stream", streamed))}
    assert ends["memory"].decodes_after_epoch1 == 0
    assert ends["stream"].decodes_after_epoch1 == 2 * 60, "streaming decodes every image again each epoch"


@pytest.mark.slow
def test_cli_memory_budget_zero_streams_with_workers_and_matches(tmp_path):
    """`python -m tlcore train --memory-budget-mb 0 --workers 1` against the same run in memory."""
    data = make_image_folder(tmp_path / "d", classes=3, per_class=20, size=32)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TLCORE_CACHE_DIR": str(tmp_path / "cache")}
    out = {}
    for name, extra in (("memory", []), ("stream", ["--memory-budget-mb", "0", "--workers", "1"])):
        proc = subprocess.run([sys.executable, "-m", "tlcore", "train", str(data), "--model", "labnet", "--plan", "full",
                               "--epochs", "3", "--batch-size", "8", "--lr", "0.01", "--no-augment", "--seed", "3",
                               "--runs-dir", str(tmp_path / "runs"), "--json", *extra],
                              capture_output=True, text=True, timeout=240, env=env)
        assert proc.returncode == 0, proc.stderr[-2000:]
        out[name] = json.loads(proc.stdout)
    assert out["memory"]["status"] == out["stream"]["status"] == "completed"
    assert abs(out["memory"]["best_val_accuracy"] - out["stream"]["best_val_accuracy"]) <= 0.01
    cfg = json.loads((Path(out["stream"]["run_dir"]) / "config.json").read_text())
    assert cfg["memory_budget_mb"] == 0 and cfg["workers"] == 1
    end = [json.loads(line) for line in (Path(out["stream"]["run_dir"]) / "events.jsonl").read_text().splitlines()]
    assert next(e for e in end if e["kind"] == "fit_end")["decodes_after_epoch1"] > 0, "it streamed"


def test_default_workers_come_from_the_cores():
    assert default_workers() >= 1
    assert default_workers(processes=64) == 1, "at least one, however many processes share the cores"


# ---------------------------------------------------------------------------
# Frozen features on disk


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="needs Linux /proc to see mapped files")
def test_streamed_frozen_features_are_memory_mapped_and_equal_computed_ones(tmp_path):
    data = make_image_folder(tmp_path / "d", classes=3, per_class=12, size=32)
    streamed = Trainer(_cfg(data, plan="head", memory_budget_mb=0, workers=1))
    streamed.setup()
    rows = streamed._cached_outputs(streamed.train, "train")
    files = list((tmp_path / "cache" / "scratch").rglob("train-head.npy"))
    assert len(files) == 1
    maps = Path("/proc/self/maps").read_text()
    assert str(files[0]) in maps, "the features are read from their file, memory-mapped"
    memory = Trainer(_cfg(data, plan="head"))
    memory.setup()
    ref = memory._cached_outputs(memory.train, "train")
    assert rows.shape == ref.shape and torch.allclose(rows.float(), ref.float().cpu(), atol=1e-5)
    streamed.close()
    memory.close()
    assert not files[0].exists(), "a fit's files go when it ends"


def test_row_files_are_complete_or_absent(tmp_path):
    path = tmp_path / "rows.npy"
    writer = RowWriter(path, 10)
    writer.append(torch.arange(12, dtype=torch.float32).view(4, 3))
    assert not rows_ready(path), "nobody reads a file still being written"
    writer.append(torch.ones(2, 3, dtype=torch.float32))
    writer.finish({"failed": {"3": ["truncated", "x"]}})
    rows, extra = read_rows(path)
    assert rows.shape == (6, 3) and rows[5].tolist() == [1.0, 1.0, 1.0] and extra["failed"]["3"][0] == "truncated"
    bf = RowWriter(tmp_path / "bf.npy", 2)
    bf.append(torch.tensor([[1.5, -2.0]], dtype=torch.bfloat16))
    bf.finish()
    back, _ = read_rows(tmp_path / "bf.npy", mmap=False)
    assert back.dtype == torch.bfloat16 and back.float().tolist() == [[1.5, -2.0]]


# ---------------------------------------------------------------------------
# Large folders: header checks, and failures found by training


def test_inspect_of_a_large_folder_reads_headers_not_pixels(tmp_path, monkeypatch):
    from tlcore.data import images

    data = make_image_folder(tmp_path / "d", classes=3, per_class=12, size=32)
    _break_png(data / "class_0" / "img_003.png")  # sound header and end: found only by decoding
    cut = (data / "class_1" / "img_004.png").read_bytes()
    (data / "class_1" / "img_004.png").write_bytes(cut[: len(cut) // 2])  # no IEND: the header check sees it
    (data / "class_2" / "empty.png").write_bytes(b"")
    monkeypatch.setenv("TLCORE_FULL_CHECK_MAX_FILES", "10")
    calls = []
    decode = images._decode
    monkeypatch.setattr(images, "_decode", lambda *a, **k: calls.append(a[0].name) or decode(*a, **k))
    report = open_dataset(data)
    assert report.checked == "header"
    assert calls == ["img_004.png"], "only the file whose end is missing is decoded, to say why"
    skipped = {s.path: s.reason for s in report.skipped}
    assert skipped == {"class_1/img_004.png": "truncated", "class_2/empty.png": "empty_file"}
    assert any(p.endswith("class_0/img_003.png") for p, _ in report.train + report.val), "the damage is not visible yet"

    proc = subprocess.run([sys.executable, "-m", "tlcore", "inspect", str(data)], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0 and "checked from file headers" in proc.stdout
    proc = subprocess.run([sys.executable, "-m", "tlcore", "inspect", str(data), "--json"], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert json.loads(proc.stdout)["checked"] == "header"
    monkeypatch.setenv("TLCORE_FULL_CHECK_MAX_FILES", "1000")
    assert open_dataset(data).checked == "full", "small folders are still decoded in full"


@pytest.mark.parametrize("plan,budget", [("full", 2048), ("full", 0), ("head", 2048), ("head", 0)])
def test_a_file_failing_its_first_decode_is_left_out_and_named(tmp_path, monkeypatch, plan, budget):
    monkeypatch.setenv("TLCORE_FULL_CHECK_MAX_FILES", "0")
    data = make_image_folder(tmp_path / "d", classes=3, per_class=12, size=32)
    report = open_dataset(data)
    bad_train, bad_val = Path(report.train[4][0]), Path(report.val[1][0])
    _break_png(bad_train)
    _break_png(bad_val)
    got = []
    res = train(_cfg(data, plan=plan, memory_budget_mb=budget, workers=1, epochs=2), got.append)
    assert res.status == "completed"
    warnings = [e for e in got if e.kind == "warning" and e.code == "images_left_out"]
    said = " ".join(w.message for w in warnings)
    assert f"{bad_train.parent.name}/{bad_train.name}" in said and f"{bad_val.parent.name}/{bad_val.name}" in said
    assert len(warnings) == 2, "each file is reported once, when first met"
    assert all(e.images == len(report.train) - 1 for e in _epochs(got)), "it is out of every epoch"
    evaluation = next(e for e in got if e.kind == "evaluation")
    assert sum(map(sum, evaluation.confusion)) == len(report.val) - 1, "and out of validation"
    assert all(m["path"] != str(bad_val) for m in evaluation.misclassified)


# ---------------------------------------------------------------------------
# The benchmark's figures


@pytest.mark.slow
def test_bench_streaming_figures(tmp_path):
    from tlcore.bench.common import setup_for
    from tlcore.bench.streaming import bench_streaming
    from tlcore.lab.world import write_imagefolder

    setup = setup_for(torch.device("cpu"), tiny=True)
    data = write_imagefolder(tmp_path / "lab", setup.similarity, setup.per_class, setup.seed, setup.val_per_class,
                             setup.num_classes)
    out = bench_streaming(tmp_path, data, setup, torch.device("cpu"), tiny=True)
    for key in ("streaming_throughput_ratio", "inspect_images_per_s", "inspect_full_images_per_s"):
        assert isinstance(out[key], float) and math.isfinite(out[key]) and out[key] > 0, key
    assert out["raw_inspect"]["checked"] == "header"
    raw = out["raw_streaming"][0]
    assert raw["stream_best_accuracy"] == raw["memory_best_accuracy"] and raw["stream_decodes_after_epoch1"] > 0
