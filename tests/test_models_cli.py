"""The CLI contract of issue 11, offline: models --json, and recommend/train with efficientnet_lite0 on real photos."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tlcore import photos
from tlcore.models import REGISTRY

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args, tmp_path, timeout=600):
    env = {**os.environ, "PYTHONPATH": os.getcwd(), "TLCORE_CACHE_DIR": str(tmp_path / "cache"),
           "TLCORE_RUNS_DIR": str(tmp_path / "runs"), "HF_HOME": str(tmp_path / "hf"), "HF_HUB_OFFLINE": "1",
           "https_proxy": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9"}  # no download can happen
    return subprocess.run([sys.executable, "-m", "tlcore", *args], capture_output=True, text=True, timeout=timeout,
                          env=env, cwd=ROOT)


def test_models_json_lists_every_backbone(tmp_path):
    proc = run_cli("models", "--json", tmp_path=tmp_path)
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout)
    assert [m["name"] for m in got] == list(REGISTRY)
    by_name = {m["name"]: m for m in got}
    for m in got:
        assert m["source"] in ("torchvision", "timm", "lab")
        assert isinstance(m["offline"], bool) and m["groups"][0] == "stem" and m["groups"][-1] == "head"
        assert isinstance(m["input_size"], int)
    assert by_name["efficientnet_lite0"]["offline"] is True and by_name["labnet"]["offline"] is True
    assert by_name["resnet18"]["offline"] is False  # TORCH_HOME is an empty temp folder (conftest)
    assert by_name["timm:convnext_atto"]["offline"] is False  # an empty Hugging Face cache
    assert by_name["efficientnet_lite0"]["groups"] == ["stem", *(f"stage{i}" for i in range(1, 8)), "pool", "head"]


@pytest.mark.slow
def test_recommend_and_train_with_efficientnet_lite0_offline(tmp_path):
    data = photos.make_photo_dataset(tmp_path / "photos", per_class=12, val_per_class=6, size=96)
    proc = run_cli("recommend", str(data), "--model", "efficientnet_lite0", "--similarity", "auto", "--json",
                   tmp_path=tmp_path)
    assert proc.returncode == 0, proc.stderr
    rec = json.loads(proc.stdout)
    assert rec["similarity_source"] == "measured" and 0.0 <= rec["similarity"] <= 1.0
    assert rec["quadrant"] in (1, 2, 3, 4) and rec["plan"] in ("head", "top", "full", "scratch") and rec["reasons"]
    proc = run_cli("train", str(data), "--model", "efficientnet_lite0", "--plan", "head", "--epochs", "2",
                   "--json", tmp_path=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["status"] == "completed" and out["model"] == "efficientnet_lite0" and out["plan"] == "head"
    assert Path(out["run_dir"], "best.pt").is_file()
    # The run found the features "recommend" measured: nothing computed twice.
    events = [json.loads(line) for line in Path(out["run_dir"], "events.jsonl").read_text().splitlines()]
    assert not any(e["kind"] == "status" and e.get("phase") == "features" for e in events)
