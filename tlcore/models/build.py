"""Building a registry entry into a GroupedNet with a fresh head, from pretrained, random or given weights."""
from __future__ import annotations

import os
from pathlib import Path

from torch import nn

from ..errors import ModelError
from .grouped import GroupedNet
from .registry import BackboneSpec, get_spec
from .weights import (
    ProgressFn,
    WeightsFile,
    WeightsNote,
    check_keys,
    fit_state,
    load_matching,
    pretrained_location,
    read_weights_file,
    resolve_pretrained,
)

#: ``weights`` values that mean "the backbone's own pretrained weights".
PRETRAINED = ("pretrained", "imagenet", "default")
#: ``weights`` values that mean "random initialisation".
RANDOM = ("none", "random", "scratch")


def weights_kind(weights: str | None) -> str:
    """``pretrained``, ``none`` or ``file`` for a ``weights`` setting."""
    w = (weights or "none").strip().lower()
    return "pretrained" if w in PRETRAINED else "none" if w in RANDOM else "file"


def _torchvision_net(spec: BackboneSpec):
    import torchvision

    return torchvision.models.get_model(spec.arch, weights=None)


def _torchvision_classifier(spec: BackboneSpec, m: nn.Module) -> str:
    """The key prefix of a torchvision network's classifier (``fc.`` or ``classifier.N.``)."""
    return "fc." if spec.arch.startswith("resnet") else f"classifier.{len(m.classifier) - 1}."


def _torchvision_groups(spec: BackboneSpec, m: nn.Module) -> list[tuple[str, nn.Module]]:
    """The torchvision network split into the entry's groups (its ``split`` says which blocks form each stage)."""
    stages = spec.stage_names
    if spec.arch.startswith("resnet"):
        body = [nn.Sequential(m.conv1, m.bn1, m.relu, m.maxpool), m.layer1, m.layer2, m.layer3, m.layer4]
        return [*zip(("stem", *stages), body), ("pool", nn.Sequential(m.avgpool, nn.Flatten(1))), ("head", m.fc)]
    blocks = list(m.features)
    groups: list[tuple[str, nn.Module]] = [("stem", blocks[0])]
    groups += [(name, nn.Sequential(*blocks[a:b])) for name, (a, b) in zip(stages, spec.split)]
    classifier = list(m.classifier)
    if spec.arch.startswith("convnext"):  # classifier = LayerNorm2d, Flatten, Linear
        pool = nn.Sequential(m.avgpool, *classifier[:-1])
    else:  # mobilenet_v3: Linear, Hardswish, Dropout, Linear; efficientnet: Dropout, Linear
        pool = nn.Sequential(m.avgpool, nn.Flatten(1), *classifier[:-1])
    return groups + [("pool", pool), ("head", classifier[-1])]


def _source_keys(spec: BackboneSpec) -> tuple[dict, str]:
    """The source's own network's state dict (on ``meta``: keys and shapes only) and its classifier's key prefix."""
    import torch

    with torch.device("meta"):
        if spec.source == "torchvision":
            m = _torchvision_net(spec)
            return m.state_dict(), _torchvision_classifier(spec, m)
        from .timm_models import classifier_name, create

        m = create(spec.arch, meta=True)
        return m.state_dict(), classifier_name(m) + "."


def _mismatch_hint(name: str, file: WeightsFile) -> ModelError:
    return ModelError(f"{file.name} is a tlcore model of {file.tlcore_model}, not of {name}.",
                      f"Choose {file.tlcore_model} as the model to use this file, or give a file saved from {name}.",
                      code="weights_mismatch")


def _grouped_plan(spec: BackboneSpec, name: str, file: WeightsFile, num_classes: int, net_state: dict,
                  notes: list[WeightsNote]) -> tuple[dict, bool]:
    """A tlcore checkpoint (keys ``groups.<name>...``): (its state, whether its head is kept)."""
    if file.tlcore_model and file.tlcore_model != name:
        raise _mismatch_hint(name, file)
    head_w = file.state.get("groups.head.weight")
    keep_head = head_w is not None and tuple(head_w.shape[:1]) == (num_classes,)
    if head_w is not None and not keep_head:
        n = int(head_w.shape[0])
        notes.append(WeightsNote("weights_head_replaced", (
            f"The weights file's classifier has {n} classes; everything else was loaded, "
            f"and a new output layer replaces it."), {"n": n}))
    check_keys(net_state, file.state, f"weights for {name}", skip_prefix=None if keep_head else "groups.head.")
    return file.state, keep_head


def build_model(name: str, num_classes: int, weights: str = "pretrained", progress: ProgressFn | None = None,
                notes: list[WeightsNote] | None = None) -> GroupedNet:
    """Build a backbone with a fresh ``num_classes`` head.

    ``weights``: ``pretrained`` (the backbone's own: ImageNet for torchvision and timm models,
    from the package that ships it for efficientnet_lite0, the shipped lab weights for labnet;
    ``imagenet`` and ``default`` mean the same), ``none`` (random init), or a path to a weights
    file (see :func:`tlcore.models.weights.read_weights_file`: a state dict of the architecture,
    wrapped or prefixed, or a tlcore checkpoint, whose head is kept only when its number of
    classes matches). What the user should know about the loading (a classifier replaced) is
    appended to ``notes`` and kept on the network as ``net.weights_notes``.
    Raises ModelError (a file that does not fit), WeightsDownloadError (offline).
    """
    spec = get_spec(name)
    if num_classes < 1:
        raise ModelError("A model needs at least one class.")
    notes = notes if notes is not None else []
    kind = weights_kind(weights)
    state: dict | None = None  # weights of the source's own network, under its own keys
    file: WeightsFile | None = None  # a tlcore checkpoint (keys groups.<name>....)
    timm_file = None  # timm's own pretrained file: timm loads it (with its own key filters)
    if kind == "pretrained":
        if spec.source == "lab":
            from ..lab import labnet

            file = WeightsFile(labnet.load_pretrained_state(), "labnet", tlcore_model=name)
        else:
            found = resolve_pretrained(spec, progress)
            if found.kind == "timm":
                timm_file = found.path
            else:
                raw = read_weights_file(found.path)
                own, cls = _source_keys(spec)
                state, more = fit_state(own, raw.state, f"{spec.arch} weights", cls)
                notes += more
    elif kind == "file":
        raw = read_weights_file(weights)
        if any(k.startswith("groups.") for k in raw.state):
            file = raw
        elif spec.source == "lab":
            raise ModelError(
                f"{raw.name} is not a labnet checkpoint.",
                "Give a file saved from labnet (a tlcore run's best.pt), or use pretrained weights.",
                code="weights_mismatch",
            )
        else:
            own, cls = _source_keys(spec)
            state, more = fit_state(own, raw.state, f"weights in {raw.name}", cls)
            notes += more
    if spec.source == "lab":
        from ..lab import labnet

        net = GroupedNet(labnet.build_groups(num_classes=labnet.SOURCE_CLASSES), arch=name)
    elif spec.source == "torchvision":
        m = _torchvision_net(spec)
        if state is not None:
            load_matching(m, state, f"{spec.arch} weights", skip_prefix=_torchvision_classifier(spec, m))
        net = GroupedNet(_torchvision_groups(spec, m), arch=name)
    else:
        from .timm_models import build_groups

        net = build_groups(spec.arch, num_classes, state, name=name, timm_file=timm_file)
    if tuple(net.group_names) != spec.groups:
        raise ModelError(f"{name} was built with groups {net.group_names}, not the registry's {list(spec.groups)}.",
                         "This is a bug in the backbone registry; please report it.", code="registry_mismatch")
    head = net.head
    assert isinstance(head, nn.Linear), "head must be a Linear layer"
    if spec.source != "timm":  # timm's reset_classifier made a fresh one already
        net.groups["head"] = nn.Linear(head.in_features, num_classes)
    if file is not None:
        own = net.state_dict()
        loaded, keep_head = _grouped_plan(spec, name, file, num_classes, own, notes)
        load_matching(net, loaded, f"weights for {name}", skip_prefix=None if keep_head else "groups.head.")
    net.weights_notes = list(notes)
    return net


def check_weights(name: str, num_classes: int, weights: str) -> list[WeightsNote]:
    """Check a weights file against a backbone without loading it into a network (built on ``meta``).

    Returns the notes loading it would give. Pretrained and random weights pass (a missing
    download is the run's business). Raises ModelError as :func:`build_model` would.
    """
    import torch

    if weights_kind(weights) != "file":
        return []
    spec = get_spec(name)
    raw = read_weights_file(weights)
    if any(k.startswith("groups.") for k in raw.state):
        notes: list[WeightsNote] = []
        with torch.device("meta"):
            net = build_model(name, num_classes, "none")
        _grouped_plan(spec, name, raw, num_classes, net.state_dict(), notes)
        return notes
    if spec.source == "lab":
        raise ModelError(f"{raw.name} is not a labnet checkpoint.",
                         "Give a file saved from labnet (a tlcore run's best.pt), or use pretrained weights.",
                         code="weights_mismatch")
    own, cls = _source_keys(spec)
    return fit_state(own, raw.state, f"weights in {raw.name}", cls)[1]


def weights_fingerprint(name: str, weights: str) -> str | None:
    """A short identity of the weights ``build_model(name, ..., weights)`` would load: the file's real
    path, size and modification time (``pretrained`` resolved to its file). None for random
    weights, or pretrained weights not on this machine yet.
    """
    kind = weights_kind(weights)
    if kind == "none":
        return None
    if kind == "file":
        path = Path(weights)
    else:
        found = pretrained_location(get_spec(name))
        if found is None:
            return None
        if found.kind == "lab":
            from ..lab import labnet

            path = labnet.WEIGHTS_PATH
        else:
            path = found.path
    try:
        st = os.stat(path)
    except OSError:
        return None
    return f"{kind}:{os.path.realpath(path)}:{st.st_size}:{st.st_mtime_ns}"
