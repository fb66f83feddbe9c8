"""The command-line contract: JSON keys, exit codes and one-line errors."""
import json
import subprocess
import sys
import time

import pytest
import torch


def tlcore(*args, env=None, timeout=300):
    import os

    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "tlcore", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env=full_env)


def _assert_one_error_line(proc):
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), proc.stderr
    assert "Traceback" not in proc.stderr


def test_inspect_json(tiny_dataset):
    proc = tlcore("inspect", tiny_dataset, "--json")
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    assert info["num_images"] == 36 and info["num_classes"] == 3
    assert info["class_counts"] == {"class_0": 12, "class_1": 12, "class_2": 12}
    assert info["skipped"] == [] and info["size"] == "small"


def test_recommend_with_user_similarity(tiny_dataset):
    proc = tlcore("recommend", tiny_dataset, "--model", "labnet", "--similarity", "0.8", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["quadrant"] == 4 and out["plan"] == "head" and out["size"] == "small"
    assert out["similarity"] == 0.8 and out["similarity_source"] == "user" and out["reasons"]


@pytest.mark.parametrize(
    "args",
    [
        ("inspect", "/no/such/folder"),
        ("recommend", "{data}", "--similarity", "2"),
        ("train", "{data}", "--model", "resnet19"),
        ("train", "{data}", "--epochs", "x"),
        ("train", "{data}", "--plan", "full", "--body-lr-mult", "2"),
        ("runs", "show", "../../etc"),
    ],
)
def test_user_mistakes_give_one_error_line(args, tiny_dataset, runs_dir):
    proc = tlcore(*[a.format(data=tiny_dataset) for a in args])
    _assert_one_error_line(proc)


@pytest.mark.slow
def test_train_two_epochs_writes_run_dir(tiny_dataset, runs_dir):
    proc = tlcore("train", tiny_dataset, "--model", "resnet18", "--plan", "top", "--weights", "none", "--epochs", 2,
                  "--batch-size", 12, "--image-size", 32, "--body-lr-mult", 0.5, "--runs-dir", runs_dir, "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["status"] == "completed" and result["epochs_completed"] == 2
    assert 0.0 <= result["best_val_accuracy"] <= 1.0
    from pathlib import Path

    run_dir = Path(result["run_dir"])
    assert run_dir.parent == runs_dir.resolve() and result["run_id"] == run_dir.name
    ends = [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()]
    ends = [e for e in ends if e["kind"] == "epoch_end"]
    assert [e["epoch"] for e in ends] == [1, 2]
    assert json.loads((run_dir / "config.json").read_text())["body_lr_mult"] == 0.5
    for name in ("config.json", "status.json", "best.pt", "log.txt"):
        assert (run_dir / name).exists()
    listed = json.loads(tlcore("runs", "--runs-dir", runs_dir, "--json").stdout)
    assert listed[0]["run_id"] == result["run_id"] and listed[0]["status"] == "completed"
    assert {"run_id", "status", "best_val_accuracy", "plan", "model"} <= set(listed[0])


@pytest.mark.slow
def test_imagenet_offline_then_from_local_cache(tiny_dataset, runs_dir, tmp_path):
    torch_home = tmp_path / "torch-home"
    # A closed local port as proxy: the download fails at once, as with no network.
    env = {"TORCH_HOME": str(torch_home), "https_proxy": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9"}
    args = ("train", tiny_dataset, "--model", "resnet18", "--plan", "head", "--weights", "imagenet", "--epochs", 1,
            "--image-size", 32, "--runs-dir", runs_dir, "--json")
    t0 = time.time()
    proc = tlcore(*args, env=env)
    assert time.time() - t0 < 30
    assert proc.returncode == 2
    err = proc.stderr.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and "ImageNet weights" in err[0]
    assert "--weights FILE" in err[0] and "Traceback" not in proc.stderr
    # A weights file of the expected name in the torch cache: the same command trains.
    import torchvision

    from tlcore.models import imagenet_weights_url

    ckpt_dir = torch_home / "hub" / "checkpoints"
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    torch.save(torchvision.models.resnet18(weights=None).state_dict(), ckpt_dir / imagenet_weights_url("resnet18").rsplit("/", 1)[1])
    proc = tlcore(*args, env=env)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1])["status"] == "completed"
