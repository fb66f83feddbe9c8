"""Real-world runs (issue #12): batches of one, inputs below a backbone's minimum, runs started from any folder,
class imbalance, non-finite numbers, classes without validation images, and what inspect reports for a zip."""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from tests.conftest import make_image_folder
from tlcore import events as ev
from tlcore.config import TrainConfig
from tlcore.models import get_spec, list_models
from tlcore.train import batch_slices, train

ROOT = Path(__file__).resolve().parents[1]


def tlcore(*args, cwd=None, env=None, timeout=300):
    return subprocess.run([sys.executable, "-m", "tlcore", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, cwd=cwd, env={**os.environ, **(env or {})})


def _strict_json(text: str):
    """json.loads that refuses NaN and Infinity, as strict parsers (JavaScript's JSON.parse) do."""
    def refuse(name):
        raise ValueError(f"non-standard JSON constant {name}")

    return json.loads(text, parse_constant=refuse)


def _split_folder(root: Path, train_counts: dict[str, int], val_counts: dict[str, int], size: int = 24) -> Path:
    """train/ and val/ folders with the given images per class (classes told apart by colour)."""
    rng = np.random.default_rng(0)
    colours = [(220, 40, 40), (40, 200, 60), (40, 60, 220), (200, 200, 40)]
    for split, counts in (("train", train_counts), ("val", val_counts)):
        for k, (cls, n) in enumerate(counts.items()):
            d = root / split / cls
            d.mkdir(parents=True, exist_ok=True)
            for i in range(n):
                img = np.clip(rng.normal(0, 20, (size, size, 3)) + np.array(colours[k % 4]), 0, 255).astype(np.uint8)
                Image.fromarray(img).save(d / f"{i:03d}.png")
    return root


# ---------------------------------------------------------------------------
# 6. No batch size and dataset size combination crashes a run


@pytest.mark.parametrize("n,bs,expected", [(9, 8, [9]), (17, 8, [8, 9]), (16, 8, [8, 8]), (1, 8, [1]), (3, 1, [1, 2])])
def test_batches_never_end_with_a_single_image(n, bs, expected):
    assert [s.stop - s.start for s in batch_slices(n, bs)] == expected


def test_nine_images_batch_eight_full_resnet18_at_32_px(tmp_path, runs_dir):
    """The reported case, through the CLI: 9 training images, batch size 8, BatchNorm training, 1x1 maps in stage 4."""
    data = _split_folder(tmp_path / "d", {"a": 5, "b": 4}, {"a": 2, "b": 2}, size=32)
    proc = tlcore("train", data, "--model", "resnet18", "--plan", "full", "--weights", "none", "--image-size", 32,
                  "--batch-size", 8, "--epochs", 1, "--runs-dir", runs_dir, "--json")
    assert proc.returncode == 0, proc.stderr
    assert _strict_json(proc.stdout.strip().splitlines()[-1])["status"] == "completed"


@pytest.mark.slow
@pytest.mark.parametrize("model", list_models())
def test_every_backbone_trains_at_its_minimum_size_with_a_last_batch_of_one(model, tmp_path):
    spec = get_spec(model)
    data = _split_folder(tmp_path / "d", {"a": 3, "b": 2}, {"a": 1, "b": 1}, size=spec.min_input_size)
    got = []
    cfg = TrainConfig(data=str(data), model=model, plan="full", weights="none", epochs=1, batch_size=4,
                      image_size=spec.min_input_size, cache_features=False)
    res = train(cfg, got.append)  # 5 training images in batches of 4: the last one would hold 1
    assert res.status == "completed"
    assert next(e for e in got if isinstance(e, ev.FitStart)).steps_per_epoch == 1


def test_batch_size_one_with_batchnorm_trains_with_two(tmp_path):
    data = _split_folder(tmp_path / "d", {"a": 3, "b": 3}, {"a": 1, "b": 1}, size=16)
    got = []
    res = train(TrainConfig(data=str(data), model="labnet", plan="full", weights="none", epochs=1, batch_size=1), got.append)
    assert res.status == "completed"
    assert any(isinstance(e, ev.Warning_) and e.code == "batch_size_raised" for e in got)
    assert next(e for e in got if isinstance(e, ev.FitStart)).batch_size == 2


# ---------------------------------------------------------------------------
# 7. Inputs smaller than a backbone accepts are refused up front, naming the minimum


def test_input_below_the_minimum_is_refused_before_a_run_exists(tiny_dataset, runs_dir):
    assert get_spec("convnext_tiny").min_input_size == 32
    proc = tlcore("train", tiny_dataset, "--model", "convnext_tiny", "--plan", "head", "--weights", "none",
                  "--image-size", 16, "--runs-dir", runs_dir, "--json")
    assert proc.returncode == 2
    err = proc.stderr.strip().splitlines()
    assert len(err) == 1 and "32" in err[0] and "convnext_tiny" in err[0] and "Traceback" not in proc.stderr
    assert not runs_dir.exists() or not any(runs_dir.iterdir()), "no run directory is left behind"


def test_the_trainer_refuses_it_too(tiny_dataset):
    from tlcore.errors import ConfigError

    got = []
    with pytest.raises(ConfigError, match="at least 32"):
        train(TrainConfig(data=str(tiny_dataset), model="convnext_tiny", weights="none", image_size=24), got.append)
    assert got[-1].kind == "failed" and got[-1].code == "image_too_small"


# ---------------------------------------------------------------------------
# 8. Runs work whatever folder the app was started from


def test_a_run_started_from_another_folder_imports_tlcore(tmp_path, tiny_dataset):
    """As ``cd /tmp && streamlit run /path/to/app.py``: the launcher's cwd has no tlcore and PYTHONPATH is unset."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    script = (
        "import sys; sys.path.insert(0, %r)\n"  # the app itself finds its package (streamlit adds the script's folder)
        "from tlcore.config import TrainConfig\n"
        "from tlcore.runs import RunStore\n"
        "store = RunStore('runs')\n"
        "rid = store.start(TrainConfig(data=%r, model='labnet', plan='head', weights='none', epochs=1))\n"
        "info = store.wait(rid, timeout=120)\n"
        "print(info.status, info.message)\n"
    ) % (str(ROOT), str(tiny_dataset))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([sys.executable, "-c", script], cwd=elsewhere, capture_output=True, text=True, timeout=180,
                          env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("completed"), proc.stdout + proc.stderr


# ---------------------------------------------------------------------------
# 9. Class imbalance: balanced accuracy everywhere, the best epoch by it


def test_imbalanced_classes_report_balanced_accuracy_and_choose_by_it(tmp_path, runs_dir):
    data = _split_folder(tmp_path / "d", {"normal": 60, "defect": 4}, {"normal": 15, "defect": 2})
    proc = tlcore("train", data, "--model", "labnet", "--plan", "head", "--epochs", 2, "--runs-dir", runs_dir, "--json")
    assert proc.returncode == 0, proc.stderr
    result = _strict_json(proc.stdout.strip().splitlines()[-1])
    assert 0.0 <= result["best_val_balanced_accuracy"] <= 1.0
    run_dir = Path(result["run_dir"])
    events = [ev.Event.from_json(_strict_json(line)) for line in (run_dir / "events.jsonl").read_text().splitlines()]
    fit = next(e for e in events if isinstance(e, ev.FitStart))
    assert fit.imbalanced is True
    assert any(isinstance(e, ev.Warning_) and e.code == "imbalanced_best" for e in events)
    ends = [e for e in events if isinstance(e, ev.EpochEnd)]
    best = [e for e in ends if e.best][-1]
    assert best.val_balanced_accuracy == max(e.val_balanced_accuracy for e in ends), "chosen by balanced accuracy"
    listed = _strict_json(tlcore("runs", "--runs-dir", runs_dir, "--json").stdout)
    assert listed[0]["best_val_balanced_accuracy"] == pytest.approx(result["best_val_balanced_accuracy"])
    assert torch.load(run_dir / "best.pt", weights_only=True)["val_balanced_accuracy"] == pytest.approx(
        best.val_balanced_accuracy)


def test_a_model_that_never_predicts_the_rare_class_scores_half_balanced():
    from tlcore.train.metrics import balanced_accuracy, confusion_matrix

    labels = torch.tensor([0] * 60 + [1] * 4)
    always_normal = torch.zeros(64, dtype=torch.long)
    c = confusion_matrix(labels, always_normal, 2)
    assert float((always_normal == labels).float().mean()) == pytest.approx(60 / 64)  # 94 % "accuracy"
    assert balanced_accuracy(c) == pytest.approx(0.5)


# ---------------------------------------------------------------------------
# 10. Strict JSON everywhere; a non-finite epoch is never the best


def test_json_we_write_is_strict():
    from tlcore.fsutil import dumps

    text = dumps({"a": float("nan"), "b": [1.0, float("inf"), -float("inf")], "c": {"d": 0.5}})
    assert _strict_json(text) == {"a": None, "b": [1.0, None, None], "c": {"d": 0.5}}


def test_diverging_run_writes_strict_json(tiny_dataset, runs_dir):
    proc = tlcore("train", tiny_dataset, "--model", "labnet", "--plan", "scratch", "--lr", "1e6", "--epochs", 3, "--batch-size", 8,
                  "--runs-dir", runs_dir, "--json")
    assert proc.returncode == 2
    result = _strict_json(proc.stdout.strip().splitlines()[-1])
    run_dir = Path(result["run_dir"])
    for line in (run_dir / "events.jsonl").read_text().splitlines():
        _strict_json(line)
    show = tlcore("runs", "show", result["run_id"], "--runs-dir", runs_dir, "--json")
    assert _strict_json(show.stdout)["status"] == "failed"


def test_an_epoch_with_a_non_finite_validation_loss_is_never_the_best(tiny_dataset, monkeypatch):
    from tlcore.train import Trainer

    real = Trainer._evaluate
    calls = {"n": 0}

    def nan_after_first(self):
        loss, pred, conf = real(self)
        calls["n"] += 1
        if calls["n"] >= 2:  # epoch 2 on: perfect predictions, but the loss is not finite
            return float("nan"), self.val.labels.clone(), conf
        return loss, pred, conf

    monkeypatch.setattr(Trainer, "_evaluate", nan_after_first)
    got = []
    res = train(TrainConfig(data=str(tiny_dataset), model="labnet", plan="head", weights="none", epochs=3), got.append)
    ends = [e for e in got if isinstance(e, ev.EpochEnd)]
    assert [e.best for e in ends] == [True, False, False]
    assert ends[1].val_loss is None and res.best_epoch == 1


# ---------------------------------------------------------------------------
# 11. A class without validation images has no accuracy ("n/a"), and stays out of balanced accuracy


def test_class_without_validation_images_is_not_zero(tmp_path):
    data = _split_folder(tmp_path / "d", {"a": 6, "b": 6, "c": 6}, {"a": 3, "b": 3})
    got = []
    train(TrainConfig(data=str(data), model="labnet", plan="head", epochs=2), got.append)
    evaluation = next(e for e in got if isinstance(e, ev.Evaluation))
    assert evaluation.classes == ["a", "b", "c"] and evaluation.per_class_accuracy[2] is None
    known = [a for a in evaluation.per_class_accuracy if a is not None]
    assert evaluation.balanced_accuracy == pytest.approx(sum(known) / len(known))
    assert any(w["code"] == "val_missing_class" for w in __import__("tlcore.data", fromlist=["x"]).open_dataset(data).warnings)


# ---------------------------------------------------------------------------
# 12. inspect on a zip names the zip, not a scratch folder that is gone


def test_inspect_zip_reports_the_zip_and_no_vanished_folder(tmp_path, tiny_dataset):
    z = tmp_path / "pets.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for p in sorted(tiny_dataset.rglob("*.png")):
            zf.write(p, p.relative_to(tiny_dataset.parent).as_posix())
    proc = tlcore("inspect", z, "--json")
    assert proc.returncode == 0, proc.stderr
    info = _strict_json(proc.stdout)
    assert info["zip"] == str(z.resolve()) and info["root"] is None and info["num_images"] == 36
    folder = _strict_json(tlcore("inspect", tiny_dataset, "--json").stdout)
    assert Path(folder["root"]).is_dir()


def test_finite_numbers_pass_through_unchanged():
    from tlcore.fsutil import strict

    assert strict({"x": [1, 2.5, "s", None, True]}) == {"x": [1, 2.5, "s", None, True]}
    assert math.isnan(float("nan")) and strict(float("nan")) is None
