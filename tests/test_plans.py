"""Each plan freezes exactly what it says: requires_grad and BatchNorm mode checked."""
import pytest
from torch import nn

from tlcore.models import build_model, list_models
from tlcore.plans import apply_plan, get_plan, param_groups


def _bn_modes(module):
    return {m.training for m in module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)}


@pytest.mark.parametrize("model", ["labnet", "resnet18", "mobilenet_v3_small"])
@pytest.mark.parametrize("plan_name, top", [("head", 1), ("top", 1), ("top", 2), ("full", 1), ("scratch", 1)])
def test_plan_freezes_exactly_its_groups(model, plan_name, top):
    net = build_model(model, 3, "none")
    plan = get_plan(plan_name, top)
    report = apply_plan(net, plan)
    trainable = set(plan.trainable_groups(net))
    stages = net.stage_names
    if plan_name == "head":
        assert trainable == {"head"}
    elif plan_name == "top":
        assert set(stages[-top:]) <= trainable and not set(stages[:-top]) & trainable
        assert "stem" not in trainable and "head" in trainable
    else:
        assert trainable == set(net.group_names)
    net.train()
    for g in report.groups:
        module = net.groups[g.name]
        assert all(p.requires_grad == g.trainable for p in module.parameters())
        assert g.trainable == (g.name in trainable)
        modes = _bn_modes(module)
        if modes:
            # frozen BatchNorm keeps its statistics: eval mode even under net.train()
            assert modes == {g.trainable}
    assert report.trainable_params + report.frozen_params == sum(p.numel() for p in net.parameters())
    assert report.trainable_params == sum(p.numel() for p in net.parameters() if p.requires_grad)


def test_full_plan_gives_backbone_lower_lr():
    net = build_model("labnet", 3, "none")
    plan = get_plan("full")
    apply_plan(net, plan)
    groups = {g["name"]: g for g in param_groups(net, plan, 1e-3, 0.0)}
    assert groups["body"]["lr"] == pytest.approx(1e-4)
    assert groups["head"]["lr"] == pytest.approx(1e-3)
    net2 = build_model("labnet", 3, "none")
    apply_plan(net2, get_plan("head"))
    assert [g["name"] for g in param_groups(net2, get_plan("head"), 1e-3, 0.0)] == ["head"]


def test_bad_plan_names():
    from tlcore.errors import ConfigError

    with pytest.raises(ConfigError):
        get_plan("half")
    with pytest.raises(ConfigError):
        get_plan("top", 0)
