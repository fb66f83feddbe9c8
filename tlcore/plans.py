"""Freeze plans as data in one registry, and applying them to a grouped network.

Each plan says which layer groups train, how fast the retrained pretrained groups learn
relative to the new head, what BatchNorm does in trained groups, and whether training
augments by default. The CLI's choices, Compare's defaults, the lab recipes, the layer
diagram and the config's validation all read this registry: adding a plan is one entry.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Sequence

from .errors import ConfigError

if TYPE_CHECKING:  # torch is imported by the functions that need it: the config stays light
    from .models import GroupedNet

#: What a plan trains: only the new output layer; the last ``top_stages`` stages and all after them; everything.
TRAINS = ("head", "top", "all")
#: BatchNorm statistics in trained groups: updated from each batch, or kept as pretrained (eval mode).
BN_MODES = ("train", "frozen")


@dataclass(frozen=True)
class PlanSpec:
    """One registry entry."""

    name: str
    trains: str  # one of TRAINS
    pretrained: bool = True  # start from the backbone's pretrained weights?
    body_lr_mult: float = 1.0  # learning rate of retrained pretrained groups, relative to the head's
    bn: str = "train"  # one of BN_MODES, for the groups that train
    augment: bool = False  # augmentation when the run's config does not say
    compare_default: bool = True  # selected by default on the Compare page
    lr: float = 1e-3  # the new output layer's peak learning rate when the run's config does not say

    def __post_init__(self):
        if self.trains not in TRAINS or self.bn not in BN_MODES or not 0 < self.body_lr_mult <= 1:
            raise ValueError(f"bad plan entry {self}")


def _index(entries: Sequence[PlanSpec]) -> dict[str, PlanSpec]:
    out: dict[str, PlanSpec] = {}
    for spec in entries:
        if spec.name in out:
            raise ValueError(f"plan {spec.name!r} is registered twice")
        out[spec.name] = spec
    return out


#: The plans, in order from least to most trained.
PLANS: dict[str, PlanSpec] = _index((
    # A linear head on frozen features is a convex problem: a higher rate reaches a linear probe's
    # accuracy within 10 epochs (at 1e-3 it sometimes stops short: issue #11's measurements).
    PlanSpec("head", "head", lr=1e-2),
    PlanSpec("top", "top"),
    # The body learns at a tenth of the head's rate: the careful default for your own data.
    PlanSpec("full", "all", body_lr_mult=0.1),
    PlanSpec("scratch", "all", pretrained=False),
))
PLAN_NAMES: tuple[str, ...] = tuple(PLANS)
COMPARE_DEFAULT: tuple[str, ...] = tuple(p.name for p in PLANS.values() if p.compare_default)


def get_plan_spec(name: str) -> PlanSpec:
    try:
        return PLANS[name]
    except KeyError:
        raise ConfigError(f"Unknown plan {name!r}.", f"Choose one of: {', '.join(PLAN_NAMES)} (or auto).",
                          code="unknown_plan") from None


@dataclass(frozen=True)
class FreezePlan:
    """A plan with its options for one run: how many stages ``top`` retrains, the body's learning rate."""

    spec: PlanSpec
    top_stages: int = 1
    body_lr_mult: float = 1.0

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def pretrained(self) -> bool:
        return self.spec.pretrained

    def trainable_groups(self, groups: Sequence[str] | "GroupedNet") -> list[str]:
        """The groups this plan trains, in order, given a backbone's group names (or the net itself)."""
        names = list(getattr(groups, "group_names", groups))
        if self.spec.trains == "head":
            return ["head"]
        if self.spec.trains == "top":
            stages = [n for n in names if n.startswith("stage")]
            first = stages[-max(1, min(self.top_stages, len(stages)))]
            return names[names.index(first):]
        return names


def get_plan(name: str, top_stages: int = 1, body_lr_mult: float | None = None) -> FreezePlan:
    """The named plan with its options; ``body_lr_mult`` None keeps the plan's own (``full``: 0.1)."""
    spec = get_plan_spec(name)
    if top_stages < 1:
        raise ConfigError(f"--top-stages must be at least 1, not {top_stages}.")
    mult = spec.body_lr_mult if body_lr_mult is None else body_lr_mult
    return FreezePlan(spec, top_stages, mult)


@dataclass(frozen=True)
class GroupReport:
    name: str
    trainable: bool
    params: int
    trainable_params: int


@dataclass(frozen=True)
class PlanReport:
    plan: str
    groups: list[GroupReport] = field(default_factory=list)

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


def apply_plan(net: "GroupedNet", plan: FreezePlan) -> PlanReport:
    """Freeze every group the plan does not train (requires_grad off, BatchNorm in eval); returns the report."""
    trainable = set(plan.trainable_groups(net.group_names))
    net.set_frozen([n for n in net.group_names if n not in trainable],
                   bn_frozen=trainable if plan.spec.bn == "frozen" else ())
    return plan_report(net, plan.name)


def plan_report(net: "GroupedNet", plan_name: str) -> PlanReport:
    from .models import count_params

    groups = [
        GroupReport(name, name not in net.frozen, count_params(m), count_params(m, trainable_only=True))
        for name, m in net.groups.items()
    ]
    return PlanReport(plan_name, groups)


def param_groups(net: "GroupedNet", plan: FreezePlan, lr: float, weight_decay: float) -> list[dict]:
    """Optimizer groups: only trainable parameters; the head at ``lr``, the body at ``lr * plan.body_lr_mult``."""
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
        groups.append({"params": body, "lr": lr * plan.body_lr_mult, "weight_decay": weight_decay, "name": "body"})
    return groups
