"""Building a registry entry into a GroupedNet with a fresh head, from pretrained, random or given weights."""
from __future__ import annotations

from torch import nn

from ..errors import ModelError
from .grouped import GroupedNet
from .registry import BackboneSpec, get_spec
from .weights import ProgressFn, fetch_imagenet_weights, load_matching, load_weights_file

#: ``weights`` values that mean "the backbone's own pretrained weights".
PRETRAINED = ("pretrained", "imagenet", "default")
#: ``weights`` values that mean "random initialisation".
RANDOM = ("none", "random", "scratch")


def _torchvision_groups(spec: BackboneSpec, state: dict | None) -> list[tuple[str, nn.Module]]:
    """The torchvision network split into the entry's groups (its ``split`` says which blocks form each stage)."""
    import torchvision

    m = torchvision.models.get_model(spec.arch, weights=None)
    if state is not None:
        load_matching(m, state, f"{spec.arch} weights")
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


def build_model(name: str, num_classes: int, weights: str = "pretrained", progress: ProgressFn | None = None) -> GroupedNet:
    """Build a backbone with a fresh ``num_classes`` head.

    ``weights``: ``pretrained`` (ImageNet for torchvision models, the shipped lab weights for
    labnet; ``imagenet`` and ``default`` mean the same), ``none`` (random init), or a path to
    a weights file (a state dict of the architecture, or a tlcore checkpoint, whose head is
    kept only when its number of classes matches). Raises ModelError, WeightsDownloadError.
    """
    spec = get_spec(name)
    if num_classes < 1:
        raise ModelError("A model needs at least one class.")
    w = (weights or "none").strip()
    state: dict | None = None  # weights of the source's own network
    grouped_state: dict | None = None  # weights of a GroupedNet (keys groups.<name>....)
    if w.lower() in PRETRAINED:
        if spec.source == "lab":
            from ..lab import labnet

            grouped_state = labnet.load_pretrained_state()
        else:
            state = fetch_imagenet_weights(spec.arch, progress)
    elif w.lower() not in RANDOM:
        loaded = load_weights_file(w)
        if any(k.startswith("groups.") for k in loaded):
            grouped_state = loaded
        else:
            state = loaded
    if spec.source == "lab":
        from ..lab import labnet

        if state is not None:
            raise ModelError(
                "This weights file is not a labnet checkpoint.",
                "Give a file saved from labnet (a tlcore run's best.pt), or use --weights pretrained.",
                code="weights_mismatch",
            )
        groups = labnet.build_groups(num_classes=labnet.SOURCE_CLASSES)
    else:
        groups = _torchvision_groups(spec, state)
    net = GroupedNet(groups, arch=name)
    if tuple(net.group_names) != spec.groups:
        raise ModelError(f"{name} was built with groups {net.group_names}, not the registry's {list(spec.groups)}.",
                         "This is a bug in the backbone registry; please report it.", code="registry_mismatch")
    head = net.head
    assert isinstance(head, nn.Linear), "head must be a Linear layer"
    head_matches = grouped_state is not None and tuple(grouped_state.get("groups.head.weight", ()).shape[:1]) == (num_classes,)
    net.groups["head"] = nn.Linear(head.in_features, num_classes)
    if grouped_state is not None:
        load_matching(net, grouped_state, f"weights for {name}", skip_prefix=None if head_matches else "groups.head.")
    return net
