"""The app's starting weights: pretrained, a weights-folder file or an upload, checked in place; the offline error
names fixes a browser user can act on, where the action is, and the rest of the page still renders."""
from __future__ import annotations

import pytest
import torch
import torchvision

from tests.conftest import make_image_folder
from tests.test_app import app_env, lab_cache, new_app, shown  # noqa: F401 - fixtures and helpers
from tlcore.config import TrainConfig
from tlcore.runs import RunStore
from tlcore.train import train


@pytest.fixture
def offline(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    for var in ("https_proxy", "HTTPS_PROXY"):
        monkeypatch.setenv(var, "http://127.0.0.1:9")  # no download can happen


def test_offline_measure_error_names_browser_fixes_and_keeps_the_map(app_env, offline):
    at = new_app(page="views/2_Decision_map.py")
    assert at.selectbox(key="map_weights_choice").value == "pretrained"
    at.selectbox(key="map_model").set_value("resnet18").run()
    assert "needs its ImageNet weights" in at.warning[0].value and "efficientnet_lite0" in at.warning[0].value
    at.button(key="measure").click().run()
    assert not at.exception
    error = at.error[0].value
    assert "Could not download the ImageNet weights for resnet18" in error
    assert "Starting weights" in error and "weights folder" in error and "efficientnet_lite0" in error
    assert "--weights" not in error and "TORCH_HOME" not in error, "no command-line fixes in the browser"
    assert at.get("plotly_chart"), "the map and the layer diagram still render"
    assert at.subheader[0].value.startswith("Quadrant"), "the recommendation still renders"
    at.selectbox(key="map_model").set_value("efficientnet_lite0").run()
    assert not at.warning and at.selectbox(key="map_weights_choice").options[0] == "Pretrained (on this machine)"


def test_weights_folder_files_are_offered_and_checked(app_env, offline, tmp_path, monkeypatch):
    folder = tmp_path / "weights"
    folder.mkdir()
    torch.manual_seed(0)
    torch.save(torchvision.models.resnet18(weights=None, num_classes=10).state_dict(), folder / "resnet18_ten.pth")
    torch.save(torchvision.models.resnet18(weights=None), folder / "whole_model.pth")
    monkeypatch.setenv("TLCORE_WEIGHTS_DIRS", str(folder))
    at = new_app(page="views/3_Train.py")
    at.selectbox(key="train_model").set_value("resnet18").run()
    choice = at.selectbox(key="train_weights_choice")
    assert choice.options[1:3] == ["weights/resnet18_ten.pth (weights folder)", "weights/whole_model.pth (weights folder)"]
    choice.set_value("weights/whole_model.pth").run()
    assert "whole pickled model" in at.error[0].value and "\n" not in at.error[0].value
    assert at.button(key="start_run").disabled, "a file that does not fit cannot start a run"
    assert not RunStore(app_env).list()
    at.selectbox(key="train_weights_choice").set_value("weights/resnet18_ten.pth").run()
    assert not at.error and "10 classes" in at.warning[0].value and "new output layer" in at.warning[0].value
    assert not at.button(key="start_run").disabled


def test_uploaded_weights_start_a_run_from_them(app_env, offline, tmp_path):
    data = make_image_folder(tmp_path / "d", classes=3, per_class=6)
    ckpt = tmp_path / "best.pt"
    train(TrainConfig(data=str(data), model="labnet", plan="head", epochs=1, batch_size=8), checkpoint_path=ckpt)
    at = new_app(page="views/3_Train.py")
    at.selectbox(key="train_weights_choice").set_value("__upload__").run()
    assert at.button(key="start_run").disabled and "Upload a weights file" in shown(at)
    at.file_uploader(key="train_weights_file").set_value(("best.pt", ckpt.read_bytes(), "application/octet-stream")).run()
    assert not at.error, [e.value for e in at.error]
    assert "3 classes" in at.warning[0].value, "trained on 3 classes, used for the lab's 6: a new output layer"
    at.number_input(key="epochs").set_value(1).run()
    at.button(key="start_run").click().run()
    assert not at.exception and not at.error
    run = RunStore(app_env).get(at.query_params["run"])
    cfg = RunStore(app_env).config(run.run_id)
    assert cfg.weights.endswith("best.pt") and cfg.weights != str(ckpt), "the uploaded copy, kept in the cache"
