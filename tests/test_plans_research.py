"""The research plans freeze, unfreeze and set learning rates exactly as stated: requires_grad, BatchNorm mode,
the optimizer's per-group rates; LP-FT's phases; Auto-RGN's per-tensor rates; the options' validation."""
from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from tlcore import events as ev
from tlcore.config import TrainConfig
from tlcore.errors import ConfigError
from tlcore.models import build_model
from tlcore.optim import AdamW, RelativeGradNorm, WarmupCosine
from tlcore.plans import (BLOCK_CHOICES, COMPARE_DEFAULT, PLAN_NAMES, apply_plan, get_plan, get_plan_spec,
                          param_groups, plan_of, resolve_block)


def bn_modes(module: nn.Module) -> set[bool]:
    return {m.training for m in module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)}


def trained_groups(net) -> set[str]:
    return {name for name, m in net.groups.items() if any(p.requires_grad for p in m.parameters())}


def test_the_registry_holds_the_research_plans_outside_the_maps_defaults():
    assert {"surgical", "lp-ft", "auto-rgn"} <= set(PLAN_NAMES)
    assert COMPARE_DEFAULT == ("head", "top", "full", "scratch"), "the lab experiment's plans are unchanged"
    assert get_plan_spec("surgical").trains == "block" and get_plan_spec("lp-ft").linear_probe_first
    assert get_plan_spec("auto-rgn").lr_rule == "rgn"


@pytest.mark.parametrize("model, block, group", [
    ("labnet", "first", "stem"), ("labnet", "middle", "stage2"), ("labnet", "last", "stage4"),
    ("labnet", "stage3", "stage3"), ("resnet18", "middle", "stage2"), ("mobilenet_v3_large", "middle", "stage3"),
    ("mobilenet_v3_large", "last", "stage5"),
])
@pytest.mark.parametrize("bn", ["train", "frozen"])
def test_surgical_trains_one_block_and_the_head(model, block, group, bn):
    net = build_model(model, 3, "none")
    plan = get_plan("surgical", block=block, bn=bn)
    report = apply_plan(net, plan)
    net.train()
    assert trained_groups(net) == {group, "head"}
    for name, m in net.groups.items():
        assert all(p.requires_grad == (name in (group, "head")) for p in m.parameters()), name
        if bn_modes(m):
            # frozen groups keep pretrained statistics; the block follows --bn
            assert bn_modes(m) == {name == group and bn == "train"}, name
    g = {r.name: r for r in report.groups}
    assert g[group].trainable and g[group].bn == bn and g[group].lr_mult == 1.0
    rates = {pg["name"]: pg["lr"] for pg in param_groups(net, plan, 1e-2, 0.0)}
    assert rates == {"head": 1e-2, "body": pytest.approx(1e-2)}
    opt_params = {id(p) for pg in param_groups(net, plan, 1e-2, 0.0) for p in pg["params"]}
    assert opt_params == {id(p) for p in net.parameters() if p.requires_grad}, "the optimizer sees exactly the trained tensors"


def test_unknown_block_is_refused_with_the_choices():
    with pytest.raises(ConfigError) as err:
        resolve_block(["stem", "stage1", "stage2", "pool", "head"], "stage9")
    assert "stage1" in err.value.user_message() and "first" in err.value.user_message()
    for bad in ("head", "pool"):
        with pytest.raises(ConfigError):
            resolve_block(["stem", "stage1", "pool", "head"], bad)
    assert BLOCK_CHOICES == ("first", "middle", "last")


@pytest.mark.parametrize("decay", [1.0, 2.6])
def test_lr_decay_divides_each_lower_group(decay):
    net = build_model("labnet", 3, "none")
    plan = get_plan("full", lr_decay=decay)  # body at 0.1 of the head
    apply_plan(net, plan)
    groups = param_groups(net, plan, 1e-2, 1e-4)
    rates = {g["name"]: g["lr"] for g in groups}
    if decay == 1.0:
        assert rates == {"head": 1e-2, "body": pytest.approx(1e-3)}
    else:
        expected = {"head": 1e-2, "stage4": 1e-3, "stage3": 1e-3 / 2.6, "stage2": 1e-3 / 2.6**2,
                    "stage1": 1e-3 / 2.6**3, "stem": 1e-3 / 2.6**4}
        assert rates == pytest.approx(expected)
    assert all(g["weight_decay"] == 1e-4 for g in groups)
    assert sum(len(g["params"]) for g in groups) == sum(1 for p in net.parameters() if p.requires_grad)


def test_lr_decay_skips_frozen_groups():
    net = build_model("labnet", 3, "none")
    plan = get_plan("top", top_stages=2, body_lr_mult=0.5, lr_decay=2.0)
    apply_plan(net, plan)
    rates = {g["name"]: g["lr"] for g in param_groups(net, plan, 1.0, 0.0)}
    assert rates == {"head": 1.0, "stage4": 0.5, "stage3": 0.25}


def test_bn_frozen_keeps_statistics_but_trains_scale_and_shift():
    net = build_model("labnet", 3, "none")
    apply_plan(net, get_plan("full", bn="frozen"))
    net.train()
    for name in ("stem", "stage1", "stage4"):
        bns = [m for m in net.groups[name].modules() if isinstance(m, nn.BatchNorm2d)]
        assert bns and all(not m.training for m in bns), name
        assert all(m.weight.requires_grad and m.bias.requires_grad for m in bns)
    before = net.groups["stem"][1].running_mean.clone()
    net(torch.randn(4, 3, 32, 32) * 5 + 3)
    assert torch.equal(net.groups["stem"][1].running_mean, before), "frozen BatchNorm statistics do not move"
    apply_plan(net, get_plan("full", bn="train"))
    net.train()
    net(torch.randn(4, 3, 32, 32) * 5 + 3)
    assert not torch.equal(net.groups["stem"][1].running_mean, before)


def test_full_frozen_bn_is_full_with_the_pretrained_statistics_kept():
    """A plan added as one registry entry: everything trains at full's rates, BatchNorm stays in inference mode."""
    net = build_model("labnet", 3, "none")
    report = apply_plan(net, get_plan("full-frozen-bn"))
    assert trained_groups(net) == set(net.groups) - {"pool"}
    assert {g.name: g.bn for g in report.groups if g.trainable and g.name not in ("pool", "head")} == {
        name: "frozen" for name in ("stem", "stage1", "stage2", "stage3", "stage4")}
    net.train()
    bn = next(m for m in net.groups["stage2"].modules() if isinstance(m, nn.BatchNorm2d))
    before = bn.running_mean.clone()
    net(torch.randn(4, 3, 32, 32) * 5 + 3)
    assert not bn.training and torch.equal(bn.running_mean, before), "frozen BatchNorm statistics do not move"
    full = build_model("labnet", 3, "none")
    apply_plan(full, get_plan("full"))
    rates = {g["name"]: g["lr"] for g in param_groups(net, get_plan("full-frozen-bn"), 1.0, 0.0)}
    assert rates == {g["name"]: g["lr"] for g in param_groups(full, get_plan("full"), 1.0, 0.0)}, "full's rates"
    assert "full-frozen-bn" not in COMPARE_DEFAULT
    assert TrainConfig(data="x", plan="full-frozen-bn").plan == "full-frozen-bn"


def test_lp_ft_trains_everything_at_the_bodys_rate_after_its_probe():
    net = build_model("labnet", 3, "none")
    plan = get_plan("lp-ft")
    report = apply_plan(net, plan)
    assert trained_groups(net) == {n for n in net.group_names if n != "pool"}
    rates = {g["name"]: g["lr"] for g in param_groups(net, plan, 1e-2, 0.0)}
    assert rates == pytest.approx({"head": 1e-3, "body": 1e-3}), "after the probe the head is no longer new"
    assert {g.name: g.lr_mult for g in report.groups}["head"] == pytest.approx(0.1)
    probe = plan.head_only()
    apply_plan(net, probe)
    assert trained_groups(net) == {"head"}
    assert [g["name"] for g in param_groups(net, probe, 1e-2, 0.0)] == ["head"]
    assert param_groups(net, probe, 1e-2, 0.0)[0]["lr"] == 1e-2


def test_auto_rgn_has_one_optimizer_group_per_tensor():
    net = build_model("labnet", 3, "none")
    plan = get_plan("auto-rgn")
    apply_plan(net, plan)
    groups = param_groups(net, plan, 1e-2, 0.0)
    assert all(len(g["params"]) == 1 for g in groups)
    assert len(groups) == sum(1 for p in net.parameters() if p.requires_grad)
    names = [g["name"] for g in groups]
    assert "stem.0.weight" in names and "head.weight" in names and len(set(names)) == len(names)
    assert all(g["lr"] == 1e-2 for g in groups), "the body's multiplier is 1; RGN scales each tensor"


def test_relative_grad_norm_moves_rates_towards_the_measured_norms():
    a = nn.Parameter(torch.ones(4, 4))  # |w| = 4
    b = nn.Parameter(torch.ones(4, 4))
    bias = nn.Parameter(torch.full((4,), 1e-4))  # a near-zero 1-D tensor: its ratio is huge
    opt = AdamW([{"params": [a], "lr": 1.0, "name": "a"}, {"params": [b], "lr": 1.0, "name": "b"},
                 {"params": [bias], "lr": 1.0, "name": "bias"}])
    sched = WarmupCosine(opt, 100)
    rule = RelativeGradNorm(opt)

    def grads(ga: float, gb: float):
        a.grad, b.grad, bias.grad = torch.full_like(a, ga), torch.full_like(b, gb), torch.full_like(bias, 1.0)
        rule.observe()

    grads(0.4, 0.1)  # RGN a = 0.4, b = 0.1: the first batch sets epoch 1's rates at once
    lr = {g["name"]: g["initial_lr"] for g in opt.param_groups}
    assert lr["a"] == pytest.approx(1.0) and lr["b"] == pytest.approx(0.25) and lr["bias"] == pytest.approx(1.0)
    assert opt.param_groups[0]["lr"] == pytest.approx(sched.optimizer.param_groups[0]["initial_lr"] * 0.1), \
        "the schedule's warm-up factor still applies"
    for _ in range(3):
        grads(0.05, 0.2)  # now b's gradient is the larger one
    rule.epoch_end()
    lr = {g["name"]: g["initial_lr"] for g in opt.param_groups}
    assert lr["b"] == pytest.approx(1.0)
    assert lr["a"] == pytest.approx(0.05 / 0.2), "the mean RGN since the last update, over the largest"
    assert rule.history[-1]["a"] < rule.history[0]["a"] and rule.history[-1]["b"] > rule.history[0]["b"]


def _lab(tmp_path, per_class=8):
    from tlcore.lab.world import write_imagefolder

    return write_imagefolder(tmp_path / "lab", 1.0, per_class, seed=0, val_per_class=6)


def test_auto_rgn_in_the_trainer_sets_rates_from_each_epochs_gradients(tmp_path):
    from tlcore.train.trainer import Trainer

    cfg = TrainConfig(data=str(_lab(tmp_path)), plan="auto-rgn", epochs=3, batch_size=16, lr=1e-2, cache_features=False)
    trainer = Trainer(cfg)
    trainer.fit()
    rule = trainer.lr_rule
    assert len(rule.history) == 1 + 3, "the first batch, then each epoch's end"
    assert rule.history[1] != rule.history[2], "the rates change between epochs"
    for measured, scales in zip(rule.measured, rule.history):
        matrices = [n for n in measured if not n.endswith("bias") and ".1." not in n and ".4." not in n]
        ref = max(measured[n] for n in matrices)
        for n in matrices:  # each weight's rate is its RGN over the largest: the direction of the measured norms
            assert scales[n] == pytest.approx(measured[n] / ref)
    groups = {g["name"]: g for g in trainer_opt_groups(trainer)}
    assert groups["head.weight"]["initial_lr"] == pytest.approx(1e-2 * rule.history[-1]["head.weight"])


def trainer_opt_groups(trainer):
    return trainer.lr_rule.optimizer.param_groups


def test_lp_ft_second_phase_starts_from_the_first_phases_head(tmp_path):
    from tlcore.train.trainer import Trainer

    seen: list = []
    snapshots: dict = {}

    class Watch(Trainer):
        def _make_optimizer(self, steps, epochs):
            opt, sched = super()._make_optimizer(steps, epochs)
            snapshots.setdefault("opt", []).append(
                ({g["name"] for g in opt.param_groups}, {n: p.detach().clone() for n, p in self.net.head.named_parameters()}))
            return opt, sched

    def emit(e):
        seen.append(e)
        if isinstance(e, ev.EpochEnd) and e.epoch == 2:
            snapshots["probe_end"] = {n: p.detach().clone() for n, p in watch.net.head.named_parameters()}

    cfg = TrainConfig(data=str(_lab(tmp_path)), plan="lp-ft", epochs=2, probe_epochs=2, batch_size=16, lr=1e-2)
    watch = Watch(cfg, emit)
    watch.fit()
    phases = [e for e in seen if isinstance(e, ev.PhaseStart)]
    assert [(p.phase, p.epoch, p.epochs) for p in phases] == [("linear_probe", 1, 2), ("fine_tune", 3, 2)]
    fit_start = next(e for e in seen if isinstance(e, ev.FitStart))
    assert fit_start.epochs == 4
    (probe_groups, probe_start), (ft_groups, ft_start) = snapshots["opt"]
    assert probe_groups == {"head"} and ft_groups == {"head", "body"}
    for n in ft_start:
        assert torch.equal(ft_start[n], snapshots["probe_end"][n]), "fine-tuning starts from the probe's head"
        assert not torch.equal(ft_start[n], probe_start[n]), "the probe trained the head"
    epochs = [e for e in seen if isinstance(e, ev.EpochEnd)]
    assert [e.epoch for e in epochs] == [1, 2, 3, 4]
    assert ev.Progress().feed(seen).best_epoch.epoch >= 3, "the plan's result is the fine-tuned model"
    assert [p.phase for p in ev.Progress().feed(seen).phases] == ["linear_probe", "fine_tune"]


def test_phase_events_cross_the_process_boundary():
    e = ev.PhaseStart(phase="fine_tune", epoch=5, epochs=3, trainable_params=10)
    back = ev.Event.from_json(json.loads(json.dumps(e.to_json())))
    assert isinstance(back, ev.PhaseStart) and back.phase == "fine_tune" and back.epoch == 5


def test_config_options_validate_and_round_trip():
    cfg = TrainConfig(data="x", plan="surgical", block="middle", lr_decay=2.6, bn="frozen", probe_epochs=7)
    again = TrainConfig.from_json(json.loads(cfg.dumps()))
    assert again == cfg
    plan = plan_of(again)
    assert (plan.block, plan.lr_decay, plan.bn) == ("middle", 2.6, "frozen")
    assert TrainConfig(data="x").bn is None and plan_of(TrainConfig(data="x", plan="surgical")).block == "last"
    for bad in (dict(lr_decay=0.5), dict(lr_decay=float("nan")), dict(bn="sometimes"), dict(block="../x"),
                dict(probe_epochs=-1)):
        with pytest.raises(ConfigError):
            TrainConfig(data="x", plan="full", **bad)


def test_an_unknown_block_is_refused_before_a_run_starts(tiny_dataset):
    from tlcore import service

    cfg = service.make_config(tiny_dataset, "labnet", "surgical", block="stage9")
    with pytest.raises(ConfigError) as err:
        service.check_run(cfg)
    assert "stage9" in err.value.user_message()
