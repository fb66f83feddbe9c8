"""Freeze plans as data, and applying them to a grouped network."""
from __future__ import annotations

from dataclasses import asdict, dataclass

from .config import PLAN_NAMES
from .errors import ConfigError
from .models import GroupedNet, count_params

__all__ = ["PLAN_NAMES", "FreezePlan", "get_plan", "apply_plan", "plan_report", "param_groups"]


@dataclass(frozen=True)
class FreezePlan:
    """Which groups train and how. ``top_stages`` only matters for ``top``."""

    name: str
    pretrained: bool  # start from pretrained weights?
    top_stages: int = 1
    backbone_lr_mult: float = 1.0  # learning rate of trained body groups relative to the head
    augment_default: bool = False

    def trainable_groups(self, net: GroupedNet) -> list[str]:
        names = net.group_names
        if self.name == "head":
            return ["head"]
        if self.name == "top":
            stages = net.stage_names
            n = max(1, min(self.top_stages, len(stages)))
            first = stages[-n]
            return names[names.index(first):]
        return list(names)


def get_plan(name: str, top_stages: int = 1, augment_default: bool | None = None) -> FreezePlan:
    """The named plan. ``full`` trains the body at a tenth of the head's learning rate."""
    if name == "head":
        plan = FreezePlan("head", pretrained=True)
    elif name == "top":
        if top_stages < 1:
            raise ConfigError(f"--top-stages must be at least 1, not {top_stages}.")
        plan = FreezePlan("top", pretrained=True, top_stages=top_stages, backbone_lr_mult=1.0)
    elif name == "full":
        plan = FreezePlan("full", pretrained=True, backbone_lr_mult=0.1)
    elif name == "scratch":
        plan = FreezePlan("scratch", pretrained=False, backbone_lr_mult=1.0)
    else:
        raise ConfigError(f"Unknown plan {name!r}.", f"Choose one of: {', '.join(PLAN_NAMES)} (or auto).")
    if augment_default is not None:
        plan = FreezePlan(plan.name, plan.pretrained, plan.top_stages, plan.backbone_lr_mult, augment_default)
    return plan


@dataclass(frozen=True)
class GroupReport:
    name: str
    trainable: bool
    params: int
    trainable_params: int


@dataclass(frozen=True)
class PlanReport:
    plan: str
    groups: list[GroupReport]

    @property
    def trainable_params(self) -> int:
        return sum(g.trainable_params for g in self.groups)

    @property
    def frozen_params(self) -> int:
        return sum(g.params - g.trainable_params for g in self.groups)

    def to_json(self) -> dict:
        return {
            "plan": self.plan,
            "groups": [asdict(g) for g in self.groups],
            "trainable_params": self.trainable_params,
            "frozen_params": self.frozen_params,
        }


def apply_plan(net: GroupedNet, plan: FreezePlan) -> PlanReport:
    """Freeze every group the plan does not train (requires_grad off, BatchNorm in eval)."""
    trainable = set(plan.trainable_groups(net))
    net.set_frozen([n for n in net.group_names if n not in trainable])
    return plan_report(net, plan.name)


def plan_report(net: GroupedNet, plan_name: str) -> PlanReport:
    groups = [
        GroupReport(name, name not in net.frozen, count_params(m), count_params(m, trainable_only=True))
        for name, m in net.groups.items()
    ]
    return PlanReport(plan_name, groups)


def param_groups(net: GroupedNet, plan: FreezePlan, lr: float, weight_decay: float) -> list[dict]:
    """Optimizer groups: only trainable parameters; the body at lr * backbone_lr_mult."""
    head = [p for p in net.head.parameters() if p.requires_grad]
    body = [
        p
        for name, m in net.groups.items()
        if name != "head" and name not in net.frozen
        for p in m.parameters()
        if p.requires_grad
    ]
    groups = [{"params": head, "lr": lr, "weight_decay": weight_decay, "name": "head"}]
    if body:
        groups.append({"params": body, "lr": lr * plan.backbone_lr_mult, "weight_decay": weight_decay, "name": "body"})
    return groups
