"""timm as a backbone provider: any timm model split into our layer groups, from timm's own metadata.

Groups come from the model's ``group_matcher(coarse=True)`` (the matcher timm itself uses for
layer-wise learning-rate decay), read with timm's ``group_parameters``: group 0 is the stem,
each following group is one stage (timm's "blocks": ``blocks.N``, ``layerN``, ``stages.N``, ...;
the layers timm attaches to the previous group, such as EfficientNet's ``conv_head``, stay
with the last stage), and the unmatched rest is split into the pooling part and the classifier
(``get_classifier()``, replaced by ``reset_classifier``). Input size, normalization and the
eval crop come from the model's ``pretrained_cfg``. The structure is read from a model built
on PyTorch's ``meta`` device: no weights, no memory, and no dummy forward pass.

Two ways to run the groups (see :class:`~tlcore.models.grouped.GroupedNet`):

* **sequential** (timm convnets whose ``forward_features`` is the chain of their top-level
  children before ``global_pool``/``head``: the classes in :data:`SEQUENTIAL_CLASSES`, each
  checked against timm's own forward by the tests): the groups are sequential modules, so the
  trainer can cache a frozen prefix at a stage boundary, and the pooled features at the head.
  The ``pool`` group runs timm's own ``forward_head(x, pre_logits=True)`` and holds the layers it
  uses besides the classifier (MobileNetV3's ``conv_head``, ConvNeXt's head norm, ...).
* **whole** (everything else: ViT, hybrid and attention models whose forward is not a chain):
  the model runs its own ``forward_features`` then ``forward_head(pre_logits=True)``; the groups
  only hold parameters, for freezing and learning rates. Features are cached at the head only
  (``forward_until(x, "head")`` is the pooled feature vector); no frozen prefix is cached
  (``GroupedNet.splittable`` is False: ``forward_until`` any other group is the input itself and
  ``forward_from`` that group runs the whole network).
"""
from __future__ import annotations

import difflib
import re
from functools import lru_cache
from typing import TYPE_CHECKING

import torch
from torch import nn

from ..errors import ModelError
from .grouped import GroupedNet
from .registry import TIMM_PREFIX as PREFIX

if TYPE_CHECKING:
    from .registry import BackboneSpec

#: timm model classes whose ``forward_features`` runs their top-level children in registration
#: order up to ``global_pool``/``head``, and whose ``forward_head`` uses only the children from
#: there on. tests/test_models_timm.py checks each against the timm model's own output.
SEQUENTIAL_CLASSES = frozenset({"EfficientNet", "MobileNetV3", "ResNet", "ConvNeXt", "RegNet", "GhostNet", "RexNet"})

#: The first top-level child of the head side in the sequential classes.
_HEAD_START = ("global_pool", "head")


def _timm():
    try:
        import timm
    except ImportError:  # pragma: no cover - timm is a dependency
        raise ModelError("timm is not installed.", "Install it: pip install 'timm>=1.0'.", code="no_timm") from None
    return timm


def check_name(arch: str) -> None:
    """Raise ModelError naming close matches when timm has no model ``arch`` (tags like ``.in1k`` allowed)."""
    timm = _timm()
    base = arch.split(".", 1)[0]
    if timm.is_model(base):
        return
    close = difflib.get_close_matches(base, timm.list_models(), n=3, cutoff=0.7)
    hint = f"Did you mean {', '.join(PREFIX + c for c in close)}?" if close else "See timm.list_models() for the names."
    raise ModelError(f"timm has no model {arch!r}.", hint, code="unknown_model")


def create(arch: str, *, meta: bool = False) -> nn.Module:
    """The timm model ``arch`` with its own (ImageNet) classifier and random weights; on ``meta``: structure only."""
    timm = _timm()
    check_name(arch)
    if meta:
        with torch.device("meta"):
            return timm.create_model(arch, pretrained=False)
    return timm.create_model(arch, pretrained=False)


def pretrained_cfg(arch: str) -> dict:
    """The timm pretrained config of ``arch`` (input size, mean/std, crop, where its weights are)."""
    return dict(create(arch, meta=True).pretrained_cfg)


def classifier_name(model: nn.Module) -> str:
    """The dotted name of the model's classifier module (``classifier``, ``fc``, ``head.fc``, ...)."""
    target = model.get_classifier()
    for name, module in model.named_modules():
        if module is target and name:
            return name
    raise ModelError(f"{type(model).__name__} has no single classifier layer.",
                     "Choose another timm model (one with a single linear classifier).", code="unsupported_model")


def parameter_groups(model: nn.Module) -> dict[str, int]:
    """Parameter name -> timm's coarse group ordinal (0 = stem, last = everything unmatched)."""
    from timm.models._manipulate import group_parameters

    return group_parameters(model, model.group_matcher(coarse=True), reverse=True)


def _stem_matches(model: nn.Module, name: str) -> bool:
    spec = model.group_matcher(coarse=True).get("stem")
    return bool(spec) and isinstance(spec, str) and re.match(spec, name) is not None


def stage_count(model: nn.Module) -> int:
    """How many stages timm's coarse matcher gives (its groups besides the stem and the unmatched rest)."""
    ids = parameter_groups(model)
    first = next(iter(ids))
    if ids[first] != 0 or not _stem_matches(model, first):
        raise ModelError(f"{type(model).__name__}: timm's layer groups do not start with a stem.",
                         "Choose another timm model.", code="unsupported_model")
    n = len(set(ids.values())) - 2
    if n < 1:
        raise ModelError(f"{type(model).__name__}: timm's layer groups give no stages.",
                         "Choose another timm model.", code="unsupported_model")
    return n


def group_names(num_stages: int) -> tuple[str, ...]:
    return ("stem", *(f"stage{i}" for i in range(1, num_stages + 1)), "pool", "head")


def is_sequential(model: nn.Module) -> bool:
    return type(model).__name__ in SEQUENTIAL_CLASSES and any(n in dict(model.named_children()) for n in _HEAD_START)


@lru_cache(maxsize=64)
def derive_spec(name: str) -> "BackboneSpec":
    """A registry entry for ``timm:ARCH`` (or a bare timm name) from timm's metadata, built on ``meta``.

    Raises ModelError for an unknown name or a model whose groups cannot be read.
    """
    from .registry import BackboneSpec

    arch = name[len(PREFIX):] if name.startswith(PREFIX) else name
    model = create(arch, meta=True)
    cfg = model.pretrained_cfg
    size = int(cfg.get("input_size", (3, 224, 224))[-1])
    reduction = int(model.feature_info[-1].get("reduction", 32)) if getattr(model, "feature_info", None) else 32
    fixed = bool(cfg.get("fixed_input_size", False))
    params_m = round(sum(p.numel() for p in model.parameters()) / 1e6, 1)
    return BackboneSpec(
        name=PREFIX + arch, source="timm", arch=arch, groups=group_names(stage_count(model)), input_size=size,
        mean=tuple(float(v) for v in cfg.get("mean", (0.485, 0.456, 0.406))),
        std=tuple(float(v) for v in cfg.get("std", (0.229, 0.224, 0.225))),
        min_input_size=size if fixed else max(16, reduction), description=f"timm {arch}", approx_params_m=params_m,
        crop_pct=float(cfg.get("crop_pct") or 1.0), fixed_input_size=fixed)


# ---------------------------------------------------------------------------
# Groups


class _Parts(nn.Module):
    """Holds modules and loose parameters/buffers of one group (for freezing, learning rates, the state dict)."""

    def __init__(self):
        super().__init__()
        self.parts = nn.ModuleDict()

    def own(self, name: str, module: nn.Module) -> None:
        self.parts[name.replace(".", "_") or "root"] = module

    def own_tensor(self, name: str, tensor: torch.Tensor, is_param: bool) -> None:
        key = "t_" + name.replace(".", "_")
        if is_param:
            self.register_parameter(key, tensor)
        else:
            self.register_buffer(key, tensor)


class TimmPool(_Parts):
    """The ``pool`` group of a sequential timm model: its own ``forward_head(x, pre_logits=True)``.

    Holds the head-side layers other than the classifier. The timm model itself is kept out of
    the module tree (so its parameters belong to the groups only); its own ``training`` flag
    follows this group's, since timm's head applies its dropout by that flag.
    """

    def __init__(self, model: nn.Module):
        super().__init__()
        self._model = [model]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._model[0].forward_head(x, pre_logits=True)

    def train(self, mode: bool = True):  # noqa: D102
        super().train(mode)
        self._model[0].training = mode
        return self


def _own_all_but(owner: _Parts, module: nn.Module, prefix: str, skip: nn.Module) -> None:
    """Give ``owner`` every part of ``module`` except ``skip`` (the classifier), as coarsely as possible."""
    if module is skip:
        return
    if not any(m is skip for m in module.modules()):
        owner.own(prefix, module)
        return
    for name, p in module.named_parameters(recurse=False):
        owner.own_tensor(f"{prefix}.{name}", p, True)
    for name, b in module.named_buffers(recurse=False):
        owner.own_tensor(f"{prefix}.{name}", b, False)
    for name, child in module.named_children():
        _own_all_but(owner, child, f"{prefix}.{name}" if prefix else name, skip)


def _segments(model: nn.Module, feature_children: list[tuple[str, nn.Module]], ids: dict[str, int]):
    """The feature chain as (name, module, group id or None), containers split where their groups change."""
    out = []
    for name, child in feature_children:
        own_ids = {ids[f"{name}.{p}"] for p, _ in child.named_parameters()}
        if len(own_ids) <= 1:
            out.append((name, child, next(iter(own_ids), None)))
            continue
        if not isinstance(child, nn.Sequential):
            return None
        for sub, grandchild in child.named_children():
            sub_ids = {ids[f"{name}.{sub}.{p}"] for p, _ in grandchild.named_parameters()}
            if len(sub_ids) > 1:
                return None
            out.append((f"{name}.{sub}", grandchild, next(iter(sub_ids), None)))
    return out


def _sequential_groups(model: nn.Module, num_stages: int) -> list[tuple[str, nn.Module]] | None:
    """The groups as sequential modules, or None when the model's layout does not allow it."""
    children = list(model.named_children())
    names = [n for n, _ in children]
    start = min(names.index(n) for n in _HEAD_START if n in names)
    if any(True for _ in model.named_parameters(recurse=False)) or any(True for _ in model.named_buffers(recurse=False)):
        return None
    ids = parameter_groups(model)
    segments = _segments(model, children[:start], ids)
    if segments is None:
        return None
    last_id = num_stages + 1  # the unmatched rest (head side)
    filled, prev = [], 0
    for name, module, gid in segments:
        gid = prev if gid is None else gid
        if gid == last_id:  # unmatched layers inside the feature chain stay with the last stage
            gid = num_stages
        if gid < prev:
            return None
        filled.append((name, module, gid))
        prev = gid
    if sorted({g for _, _, g in filled}) != list(range(num_stages + 1)):
        return None
    groups = []
    for gid, gname in enumerate(group_names(num_stages)[:-2]):
        mods = [m for _, m, g in filled if g == gid]
        groups.append((gname, mods[0] if len(mods) == 1 else nn.Sequential(*mods)))
    pool = TimmPool(model)
    head = model.get_classifier()
    for name, child in children[start:]:
        _own_all_but(pool, child, name, head)
    return [*groups, ("pool", pool), ("head", head)]


class TimmWholeNet(GroupedNet):
    """A timm model that is not a chain of groups: it runs its own forward; the groups hold its parameters.

    ``forward_until(x, "head")`` is the pooled feature vector (``forward_head(pre_logits=True)``),
    so features are cached at the head. There is no other split point: ``forward_until`` any
    other group returns the input unchanged, and ``forward_from`` it runs the whole network.
    """

    splittable = False

    def __init__(self, groups, model: nn.Module, *, arch: str = ""):
        super().__init__(groups, arch=arch)
        self._model = [model]

    def _pooled(self, x: torch.Tensor) -> torch.Tensor:
        m = self._model[0]
        return m.forward_head(m.forward_features(x), pre_logits=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self._pooled(x))

    def forward_until(self, x: torch.Tensor, stop: str) -> torch.Tensor:
        return self._pooled(x) if stop == "head" else x

    def forward_from(self, x: torch.Tensor, start: str) -> torch.Tensor:
        return self.head(x) if start == "head" else self.forward(x)

    def train(self, mode: bool = True):  # noqa: D102
        super().train(mode)
        self._model[0].training = mode and "pool" not in self.frozen
        return self

    def _apply(self, fn, *args, **kwargs):  # the model's own loose tensors move with the groups
        super()._apply(fn, *args, **kwargs)
        self._model[0]._apply(fn, *args, **kwargs)
        return self


def _whole_groups(model: nn.Module, num_stages: int) -> list[tuple[str, nn.Module]]:
    """Groups that hold the model's parameters by timm's group ordinal, as whole modules where they can."""
    ids = parameter_groups(model)
    head = model.get_classifier()
    owners = [_Parts() for _ in range(num_stages + 2)]  # stem, stages, pool (the unmatched rest but the head)
    last = [0]  # the group of the parameters seen last: parameter-free modules with buffers join it

    def dotted(prefix: str, name: str) -> str:
        return f"{prefix}.{name}" if prefix else name

    def visit(module: nn.Module, prefix: str) -> None:
        if module is head:
            return
        groups = {ids[dotted(prefix, p)] for p, _ in module.named_parameters()}
        if len(groups) <= 1 and not any(m is head for m in module.modules()):
            if groups:
                last[0] = groups.pop()
            elif not any(True for _ in module.buffers()):
                return  # nothing to freeze, nothing to save
            owners[last[0]].own(prefix, module)
            return
        for p_name, p in module.named_parameters(recurse=False):
            last[0] = ids[dotted(prefix, p_name)]
            owners[last[0]].own_tensor(dotted(prefix, p_name), p, True)
        for b_name, b in module.named_buffers(recurse=False):
            owners[last[0]].own_tensor(dotted(prefix, b_name), b, False)
        for child_name, child in module.named_children():
            visit(child, dotted(prefix, child_name))

    visit(model, "")
    return [*zip(group_names(num_stages)[:-1], owners), ("head", head)]


def build_groups(arch: str, num_classes: int, state: dict | None = None, *, name: str = "",
                 timm_file=None) -> GroupedNet:
    """The timm model ``arch`` with its weights, a fresh ``num_classes`` classifier (``reset_classifier``),
    split into our groups. Returns a GroupedNet (or a TimmWholeNet).

    Weights: ``state`` (under timm's own keys, checked; its classifier may be missing), or
    ``timm_file``, timm's own pretrained file, loaded by timm (``pretrained_cfg_overlay``), or none.
    Raises ModelError when the weights do not fit or the model has no single linear classifier.
    """
    from .weights import load_matching

    if timm_file is not None:
        check_name(arch)
        model = _timm().create_model(arch, pretrained=True, pretrained_cfg_overlay={"file": str(timm_file)})
    else:
        model = create(arch)
    if state is not None:
        load_matching(model, state, f"{arch} weights", skip_prefix=classifier_name(model) + ".")
    model.reset_classifier(num_classes)
    if not isinstance(model.get_classifier(), nn.Linear):
        raise ModelError(f"timm's {arch} has no single linear classifier.", "Choose another timm model.",
                         code="unsupported_model")
    num_stages = stage_count(model)
    groups = _sequential_groups(model, num_stages) if is_sequential(model) else None
    if groups is not None:
        net = GroupedNet(groups, arch=name or arch)
    else:
        net = TimmWholeNet(_whole_groups(model, num_stages), model, arch=name or arch)
    net.eval()
    return net
