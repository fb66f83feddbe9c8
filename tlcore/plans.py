"""Freeze plans as data in one registry, and applying them to a grouped network.

Each plan says which layer groups train, how fast the retrained pretrained groups learn
relative to the new head, what BatchNorm does in trained groups, whether training augments by
default, whether the head is first fitted alone (LP-FT), and how learning rates are set (fixed
per group, or rescaled by relative gradient norm). The CLI's choices, Compare's list, the lab
recipes, the layer diagram and the config's validation all read this registry: adding a plan
is one entry.
"""
from __future__ import annotations

import difflib
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Sequence

from .errors import ConfigError

if TYPE_CHECKING:  # torch is imported by the functions that need it: the config stays light
    from .models import GroupedNet

#: What a plan trains: only the new output layer; the last ``top_stages`` stages and all after them;
#: one chosen block (see :data:`BLOCK_CHOICES`) and the new output layer; everything.
TRAINS = ("head", "top", "block", "all")
#: BatchNorm statistics in trained groups: updated from each batch, or kept as pretrained (eval mode).
BN_MODES = ("train", "frozen")
#: How the optimizer's learning rates are set: ``group``: fixed per layer group (the head at ``lr``,
#: pretrained groups at ``lr * body_lr_mult``, divided by ``lr_decay`` per group further down);
#: ``rgn``: one rate per tensor, rescaled each epoch by its relative gradient norm (Auto-RGN).
LR_RULES = ("group", "rgn")
#: Names a block can be given by, besides a group name: positions among a backbone's blocks.
BLOCK_CHOICES = ("first", "middle", "last")
#: Groups that are never a block: they have no parameters (``pool``) or are always trained (``head``).
NOT_BLOCKS = ("pool", "head")


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
    block: str = ""  # trains="block": the block trained when the run does not choose one
    #: LP-FT (Kumar et al., ICLR 2022): first fit the new head alone on cached features (a linear
    #: probe), then train what ``trains`` says starting from that head.
    linear_probe_first: bool = False
    lr_rule: str = "group"  # one of LR_RULES

    def __post_init__(self):
        if (self.trains not in TRAINS or self.bn not in BN_MODES or not 0 < self.body_lr_mult <= 1
                or self.lr_rule not in LR_RULES or (self.trains == "block") != bool(self.block)
                or (self.linear_probe_first and self.trains == "head")):
            raise ValueError(f"bad plan entry {self}")

    @property
    def retrains_pretrained(self) -> bool:
        """Does the plan retrain pretrained groups (so that ``--lr-decay`` and ``--bn`` apply)?"""
        return self.pretrained and self.trains != "head"


def _index(entries: Sequence[PlanSpec]) -> dict[str, PlanSpec]:
    out: dict[str, PlanSpec] = {}
    for spec in entries:
        if spec.name in out:
            raise ValueError(f"plan {spec.name!r} is registered twice")
        out[spec.name] = spec
    return out


#: The plans, in order from least to most trained (the research plans after the four of the map).
PLANS: dict[str, PlanSpec] = _index((
    # A linear head on frozen features is a convex problem: a higher rate reaches a linear probe's
    # accuracy within 10 epochs (at 1e-3 it sometimes stops short: issue #11's measurements).
    PlanSpec("head", "head", lr=1e-2),
    PlanSpec("top", "top"),
    # The body learns at a tenth of the head's rate: the careful default for your own data.
    PlanSpec("full", "all", body_lr_mult=0.1),
    PlanSpec("scratch", "all", pretrained=False),
    # Surgical fine-tuning (Lee et al., ICLR 2023): one block and the new head. Which block fits
    # depends on the kind of shift (tlcore.shift); the last block is the conventional choice.
    PlanSpec("surgical", "block", block="last", compare_default=False),
    # LP-FT (Kumar et al., ICLR 2022): the head first, then everything at the body's rate.
    PlanSpec("lp-ft", "all", body_lr_mult=0.1, linear_probe_first=True, compare_default=False),
    # Auto-RGN (Lee et al., ICLR 2023): every tensor trains, at a rate scaled by its relative gradient norm.
    PlanSpec("auto-rgn", "all", lr_rule="rgn", compare_default=False),
    # Keras's transfer-learning guide: fine-tune everything with BatchNorm kept in inference mode, so
    # that small batches of new data cannot overwrite the pretrained statistics.
    PlanSpec("full-frozen-bn", "all", body_lr_mult=0.1, bn="frozen", compare_default=False),
))
PLAN_NAMES: tuple[str, ...] = tuple(PLANS)
COMPARE_DEFAULT: tuple[str, ...] = tuple(p.name for p in PLANS.values() if p.compare_default)


def get_plan_spec(name: str) -> PlanSpec:
    try:
        return PLANS[name]
    except KeyError:
        raise ConfigError(f"Unknown plan {name!r}.", f"Choose one of: {', '.join(PLAN_NAMES)} (or auto).",
                          code="unknown_plan") from None


def block_names(groups: Sequence[str]) -> list[str]:
    """The groups a block can be, in forward order: stem and stages (every group but pool and head)."""
    return [g for g in groups if g not in NOT_BLOCKS]


def resolve_block(groups: Sequence[str] | "GroupedNet", block: str) -> str:
    """The group that ``block`` names among a backbone's groups.

    ``first``: the first block (the stem: the layer that sees the pixels); ``last``: the last
    stage; ``middle``: the block halfway between (``stage2`` of stem + 4 stages); otherwise the
    name of a block. Raises ConfigError naming the choices.
    """
    names = block_names(list(getattr(groups, "group_names", groups)))
    if block == "first":
        return names[0]
    if block == "last":
        return names[-1]
    if block == "middle":
        return names[len(names) // 2]
    if block in names:
        return block
    close = difflib.get_close_matches(str(block), names + list(BLOCK_CHOICES), n=2)
    raise ConfigError(f"Unknown block {block!r}.",
                      (f"Did you mean {', '.join(close)}? " if close else "")
                      + f"Choose one of: {', '.join(BLOCK_CHOICES + tuple(names))}.", code="unknown_block")


@dataclass(frozen=True)
class FreezePlan:
    """A plan with its options for one run.

    ``top_stages``: how many stages ``top`` retrains; ``body_lr_mult``: the retrained pretrained
    groups' rate relative to the head's; ``block``: what a ``block`` plan trains; ``lr_decay``:
    each lower trained group learns at the rate of the one above divided by this (ULMFiT's
    discriminative fine-tuning, Howard and Ruder 2018; 1 = one rate for the body); ``bn``:
    BatchNorm statistics of trained groups (``train`` or ``frozen``).
    """

    spec: PlanSpec
    top_stages: int = 1
    body_lr_mult: float = 1.0
    block: str = ""
    lr_decay: float = 1.0
    bn: str = "train"

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
        if self.spec.trains == "block":
            return [resolve_block(names, self.block or self.spec.block), "head"]
        return names

    def head_only(self) -> "FreezePlan":
        """This plan's linear-probe phase: the new head alone, on frozen (cached) features."""
        return replace(self, spec=PLANS["head"], bn="train")


def get_plan(name: str, top_stages: int = 1, body_lr_mult: float | None = None, *, block: str = "",
             lr_decay: float = 1.0, bn: str | None = None) -> FreezePlan:
    """The named plan with its options; None (or "") keeps the plan's own (``full``: 0.1; its BatchNorm mode; its block)."""
    spec = get_plan_spec(name)
    if top_stages < 1:
        raise ConfigError(f"--top-stages must be at least 1, not {top_stages}.")
    if not lr_decay >= 1.0:
        raise ConfigError(f"--lr-decay must be at least 1, not {lr_decay}.", "Use 1 for one rate, 2.6 as in ULMFiT.")
    if bn is not None and bn not in BN_MODES:
        raise ConfigError(f"--bn must be one of {', '.join(BN_MODES)}, not {bn!r}.")
    mult = spec.body_lr_mult if body_lr_mult is None else body_lr_mult
    return FreezePlan(spec, top_stages, mult, block or spec.block, float(lr_decay), bn or spec.bn)


def plan_of(config) -> FreezePlan:
    """The FreezePlan a TrainConfig asks for (its plan and every plan option it sets)."""
    return get_plan(config.plan, config.top_stages, config.body_lr_mult, block=config.block,
                    lr_decay=config.lr_decay, bn=config.bn)


@dataclass(frozen=True)
class GroupReport:
    name: str
    trainable: bool
    params: int
    trainable_params: int
    lr_mult: float = 0.0  # the group's peak learning rate relative to the head's (0: frozen)
    bn: str = ""  # BatchNorm of a trained group: "train" or "frozen" ("" when frozen or without BatchNorm)


@dataclass(frozen=True)
class PlanReport:
    plan: str
    groups: list[GroupReport] = field(default_factory=list)
    lr_rule: str = "group"  # "rgn": the rates above are rescaled each epoch by relative gradient norm

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
            "lr_rule": self.lr_rule,
        }


def apply_plan(net: "GroupedNet", plan: FreezePlan) -> PlanReport:
    """Freeze every group the plan does not train (requires_grad off, BatchNorm in eval); returns the report.

    With ``plan.bn == "frozen"`` the trained groups' BatchNorm layers stay in eval mode too
    (their statistics are kept as pretrained; their scale and shift still train).
    """
    trainable = set(plan.trainable_groups(net.group_names))
    net.set_frozen([n for n in net.group_names if n not in trainable],
                   bn_frozen=trainable if plan.bn == "frozen" else ())
    return plan_report(net, plan)


def group_lr_mults(group_names: Sequence[str], plan: FreezePlan, trainable: Sequence[str]) -> dict[str, float]:
    """Each trained group's peak learning rate relative to ``lr`` (the new head's).

    The head: 1 (after LP-FT's linear probe the head is no longer new: the body's rate, as in
    LP-FT, where fine-tuning uses one small rate for the whole network). The highest trained
    block: ``body_lr_mult``; each trained block below it: the one above divided by ``lr_decay``
    (frozen blocks in between are skipped). Groups without parameters (``pool``) take the rate
    of the block before them.
    """
    out = {"head": plan.body_lr_mult if plan.spec.linear_probe_first else 1.0}
    blocks = [g for g in block_names(group_names) if g in trainable]
    for depth, name in enumerate(reversed(blocks)):
        out[name] = plan.body_lr_mult / plan.lr_decay**depth
    rate = plan.body_lr_mult
    for name in group_names:
        if name in trainable and name not in out:
            out[name] = rate
        rate = out.get(name, rate)
    return out


def plan_report(net: "GroupedNet", plan: FreezePlan | str) -> PlanReport:
    """Per group: trained or frozen, parameter counts, the relative learning rate, BatchNorm mode."""
    from torch import nn

    from .models import count_params

    name = plan if isinstance(plan, str) else plan.name
    trainable = [g for g in net.group_names if g not in net.frozen]
    mults = group_lr_mults(net.group_names, plan, trainable) if not isinstance(plan, str) else {}
    groups = []
    for gname, m in net.groups.items():
        has_bn = any(isinstance(x, nn.modules.batchnorm._BatchNorm) for x in m.modules())
        trained = gname not in net.frozen
        bn = ("frozen" if gname in net.bn_frozen else "train") if (trained and has_bn) else ""
        n = count_params(m)
        groups.append(GroupReport(gname, trained, n, count_params(m, trainable_only=True),
                                  round(mults.get(gname, 0.0), 6) if trained and n else 0.0, bn))
    return PlanReport(name, groups, plan.spec.lr_rule if not isinstance(plan, str) else "group")


def param_groups(net: "GroupedNet", plan: FreezePlan, lr: float, weight_decay: float) -> list[dict]:
    """Optimizer groups: only trainable parameters, at the rates :func:`group_lr_mults` gives.

    ``group`` rule: the head (``head``); the body as one group ``body`` at ``lr * body_lr_mult``
    when ``lr_decay`` is 1, else one group per trained layer group (named after it).
    ``rgn`` rule: one group per tensor (named ``<group>.<parameter>``), each with ``layer_group``;
    :class:`tlcore.optim.RelativeGradNorm` rescales them.
    """
    trainable = [n for n in net.group_names if n not in net.frozen]
    mults = group_lr_mults(net.group_names, plan, trainable)

    def params(name):
        return [p for p in net.groups[name].parameters() if p.requires_grad]

    if plan.spec.lr_rule == "rgn":
        return [{"params": [p], "lr": lr * mults[g], "weight_decay": weight_decay, "name": f"{g}.{pname}",
                 "layer_group": g}
                for g in trainable for pname, p in net.groups[g].named_parameters() if p.requires_grad]
    groups = [{"params": params("head"), "lr": lr * mults["head"], "weight_decay": weight_decay, "name": "head"}]
    body = [g for g in trainable if g != "head" and params(g)]
    if not body:
        return groups
    if len({mults[g] for g in body}) == 1:
        groups.append({"params": [p for g in body for p in params(g)], "lr": lr * mults[body[0]],
                       "weight_decay": weight_decay, "name": "body"})
    else:
        groups += [{"params": params(g), "lr": lr * mults[g], "weight_decay": weight_decay, "name": g}
                   for g in reversed(body)]
    return groups
