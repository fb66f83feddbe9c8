"""timm as a backbone provider: groups from timm's metadata, the sequential and whole-model layouts, weights offline."""
from __future__ import annotations

import time

import pytest
import torch
from torch import nn

from tlcore.config import TrainConfig
from tlcore.errors import ModelError, WeightsDownloadError
from tlcore.models import REGISTRY, build_model, get_spec, pretrained_offline
from tlcore.models import timm_models as tm
from tlcore.plans import apply_plan, get_plan


@pytest.fixture(autouse=True)
def _no_network(tmp_path, monkeypatch):
    """No test here may download: an empty Hugging Face cache, offline mode, and a dead proxy besides."""
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    for var in ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY"):
        monkeypatch.setenv(var, "http://127.0.0.1:9")


def _owned_once(net, model: nn.Module) -> None:
    """Every parameter of the timm model (its old classifier aside) belongs to exactly one group."""
    owner = {}
    for name, group in net.groups.items():
        for p in group.parameters():
            assert id(p) not in owner, f"a parameter is in {owner.get(id(p))} and {name}"
            owner[id(p)] = name
    old_head = {id(p) for p in model.get_classifier().parameters()}
    missing = [n for n, p in model.named_parameters() if id(p) not in owner and id(p) not in old_head]
    assert not missing, missing[:5]


@pytest.mark.parametrize("name", [n for n, s in REGISTRY.items() if s.source == "timm"])
def test_registry_data_matches_timms_metadata(name):
    """The curated entries' groups, input size, normalization and crop are timm's own (read on the meta device)."""
    spec = get_spec(name)
    derived = tm.derive_spec(tm.PREFIX + spec.arch)
    for field in ("groups", "input_size", "mean", "std", "crop_pct", "min_input_size", "fixed_input_size"):
        assert getattr(spec, field) == getattr(derived, field), field


# One small model of each class whose forward is a chain of its top-level children.
SEQUENTIAL = ["test_efficientnet", "lcnet_050", "test_resnet", "test_convnext", "regnetx_002", "ghostnet_050",
              "rexnet_100"]


def test_every_sequential_class_is_checked():
    classes = {type(tm.create(a, meta=True)).__name__ for a in SEQUENTIAL}
    assert classes == set(tm.SEQUENTIAL_CLASSES)


@pytest.mark.parametrize("arch", SEQUENTIAL)
def test_sequential_groups_reproduce_timms_forward(arch):
    torch.manual_seed(0)
    net = build_model(f"timm:{arch}", 3, "none")
    assert type(net).__name__ == "GroupedNet" and net.splittable
    model = net.groups["pool"]._model[0]
    assert net.head is model.get_classifier() and net.head.out_features == 3  # reset_classifier's
    _owned_once(net, model)
    assert tuple(net.group_names) == get_spec(f"timm:{arch}").groups
    net.eval()
    x = torch.randn(2, 3, 32, 32)
    stages = net.stage_names
    with torch.no_grad():
        want = model(x)
        assert torch.allclose(net(x), want, atol=1e-5)
        for stage in {stages[0], stages[len(stages) // 2], stages[-1]}:  # the frozen-prefix cache cuts here
            assert torch.allclose(net.forward_from(net.forward_until(x, stage), stage), want, atol=1e-5)
        assert torch.allclose(net.features(x), model.forward_head(model.forward_features(x), pre_logits=True))


def test_vision_transformer_runs_whole_with_groups_for_freezing(tiny_dataset):
    torch.manual_seed(0)
    net = build_model("timm:test_vit", 2, "none")
    assert type(net).__name__ == "TimmWholeNet" and not net.splittable
    model = net._model[0]
    _owned_once(net, model)
    spec = get_spec("timm:test_vit")
    assert spec.fixed_input_size and spec.min_input_size == spec.input_size == 160
    assert spec.num_stages == len(model.blocks)  # one stage per transformer block (timm's coarse groups)
    net.eval()
    x = torch.randn(2, 3, 160, 160)
    with torch.no_grad():
        assert torch.allclose(net(x), model(x), atol=1e-5)
        pooled = model.forward_head(model.forward_features(x), pre_logits=True)
        assert torch.allclose(net.features(x), pooled, atol=1e-6)
    report = apply_plan(net, get_plan("top", top_stages=2))
    trained = [g.name for g in report.groups if g.trainable]
    assert trained == [*spec.stage_names[-2:], "pool", "head"]
    assert model.cls_token.requires_grad is False and model.blocks[-1].attn.qkv.weight.requires_grad is True

    from tlcore.train.trainer import Trainer

    trainer = Trainer(TrainConfig(data=str(tiny_dataset), model="timm:test_vit", plan="top", weights="none",
                                  epochs=1, batch_size=8, augment=False))
    trainer.setup()
    assert trainer.cache_start is None, "no frozen prefix of a whole-model network is cached"
    result = trainer.fit()
    assert result.status == "completed" and result.epochs_completed == 1


def test_unknown_timm_name_suggests_close_ones():
    with pytest.raises(ModelError) as err:
        get_spec("timm:convnext_attto")
    assert "timm:convnext_atto" in str(err.value) and err.value.code == "unknown_model"


@pytest.mark.parametrize("offline_by", ["HF_HUB_OFFLINE", "dead proxy"])
def test_pretrained_timm_weights_offline_fail_fast_naming_the_fixes(offline_by, monkeypatch):
    if offline_by == "dead proxy":
        monkeypatch.delenv("HF_HUB_OFFLINE")
    assert not pretrained_offline(get_spec("timm:test_convnext"))
    t0 = time.monotonic()
    with pytest.raises(WeightsDownloadError) as err:
        build_model("timm:test_convnext", 2, "pretrained")
    assert time.monotonic() - t0 < 10
    msg = str(err.value)
    assert "test_convnext" in msg and "HF_HOME" in msg and "--weights FILE" in msg and "efficientnet_lite0" in msg
    assert "\x1b" not in msg and "\n" not in msg


def test_pretrained_timm_weights_from_the_hugging_face_cache(tmp_path, monkeypatch):
    """A file already in the HF cache (as timm's download leaves it) is used offline, loaded by timm."""
    from safetensors.torch import save_file

    torch.manual_seed(1)
    source = tm.create("test_convnext")
    repo = source.pretrained_cfg["hf_hub_id"]
    cache = tmp_path / "hf-home" / "hub" / ("models--" + repo.replace("/", "--"))
    rev = "0" * 40
    (cache / "refs").mkdir(parents=True)
    (cache / "refs" / "main").write_text(rev)
    snap = cache / "snapshots" / rev
    snap.mkdir(parents=True)
    save_file({k: v.contiguous() for k, v in source.state_dict().items()}, str(snap / "model.safetensors"))
    assert pretrained_offline(get_spec("timm:test_convnext"))
    net = build_model("timm:test_convnext", 4, "pretrained")
    assert torch.equal(net.groups["stem"][0].weight, source.stem[0].weight)
    assert net.head.out_features == 4
