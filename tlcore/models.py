"""Backbone registry: torchvision classifiers and labnet, split into ordered layer groups."""
from __future__ import annotations

import difflib
import os
import re
import socket
import tempfile
import urllib.error
import urllib.request
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import torch
from torch import nn

from .errors import ModelError, WeightsDownloadError

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

#: How long one network operation of a weights download may block. With no
#: network, DNS fails at once; on a network that silently drops packets this
#: keeps the failure within seconds instead of minutes.
DOWNLOAD_TIMEOUT_S = 10.0

ProgressFn = Callable[[int, int], None]  # (bytes done, bytes total or 0)


class GroupedNet(nn.Module):
    """A classifier as an ordered list of named layer groups: stem, stages, pool, head.

    ``forward`` runs the groups in order. ``features`` runs all but the head, so a
    frozen body can be computed once and cached. Groups listed in ``frozen`` keep
    ``requires_grad=False`` and stay in eval mode (BatchNorm keeps its statistics)
    even when the model is put in train mode.
    """

    def __init__(self, groups: Iterable[tuple[str, nn.Module]], *, arch: str = ""):
        super().__init__()
        self.groups = nn.ModuleDict(OrderedDict(groups))
        names = list(self.groups.keys())
        if not names or names[-1] != "head":
            raise ValueError("the last group must be named 'head'")
        self.arch = arch
        self.frozen: frozenset[str] = frozenset()

    @property
    def group_names(self) -> list[str]:
        return list(self.groups.keys())

    @property
    def stage_names(self) -> list[str]:
        return [n for n in self.group_names if n.startswith("stage")]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for module in self.groups.values():
            x = module(x)
        return x

    def forward_from(self, x: torch.Tensor, start: str) -> torch.Tensor:
        """Run the groups from ``start`` (inclusive) to the end."""
        names = self.group_names
        for name in names[names.index(start):]:
            x = self.groups[name](x)
        return x

    def forward_until(self, x: torch.Tensor, stop: str) -> torch.Tensor:
        """Run the groups before ``stop`` (exclusive)."""
        for name, module in self.groups.items():
            if name == stop:
                break
            x = module(x)
        return x

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_until(x, "head")

    @property
    def head(self) -> nn.Module:
        return self.groups["head"]

    def set_frozen(self, names: Iterable[str]) -> None:
        names = frozenset(names)
        unknown = names - set(self.group_names)
        if unknown:
            raise ValueError(f"unknown groups: {sorted(unknown)}")
        self.frozen = names
        for name, module in self.groups.items():
            for p in module.parameters():
                p.requires_grad_(name not in names)
        self.train(self.training)

    def train(self, mode: bool = True):  # noqa: D102 - keeps frozen groups in eval mode
        super().train(mode)
        for name in self.frozen:
            self.groups[name].eval()
        return self

    def first_trainable_group(self) -> str | None:
        for name in self.group_names:
            if name not in self.frozen:
                return name
        return None


@dataclass(frozen=True)
class BackboneSpec:
    """One registry entry: how to build a backbone and describe its groups."""

    name: str
    family: str  # "torchvision" or "lab"
    input_size: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    description: str = ""
    approx_params_m: float = 0.0
    # torchvision: builder name; lab: unused
    tv_name: str = ""
    extra: dict = field(default_factory=dict, compare=False, hash=False)


_REGISTRY: "OrderedDict[str, BackboneSpec]" = OrderedDict()


def register(spec: BackboneSpec) -> BackboneSpec:
    if spec.name in _REGISTRY:
        raise ValueError(f"backbone {spec.name!r} is already registered")
    _REGISTRY[spec.name] = spec
    return spec


def list_models() -> list[str]:
    return list(_REGISTRY.keys())


def get_spec(name: str) -> BackboneSpec:
    try:
        return _REGISTRY[name]
    except KeyError:
        close = difflib.get_close_matches(name, list(_REGISTRY), n=3)
        hint = f"Did you mean {', '.join(close)}?" if close else ""
        raise ModelError(
            f"Unknown model {name!r}.",
            f"{hint} Choose one of: {', '.join(_REGISTRY)}.".strip(),
            code="unknown_model",
        ) from None


for _name, _desc, _params in [
    ("resnet18", "ResNet-18: a small, classic residual network", 11.7),
    ("resnet50", "ResNet-50: a larger residual network", 25.6),
    ("mobilenet_v3_small", "MobileNetV3-Small: very fast, made for phones", 2.5),
    ("mobilenet_v3_large", "MobileNetV3-Large: fast and accurate", 5.5),
    ("efficientnet_b0", "EfficientNet-B0: accurate for its size", 5.3),
    ("convnext_tiny", "ConvNeXt-Tiny: a modern convolutional network", 28.6),
]:
    register(BackboneSpec(_name, "torchvision", 224, IMAGENET_MEAN, IMAGENET_STD, _desc, _params, tv_name=_name))


def _register_lab() -> None:
    from .lab import labnet

    register(
        BackboneSpec(
            "labnet",
            "lab",
            labnet.INPUT_SIZE,
            labnet.LAB_MEAN,
            labnet.LAB_STD,
            "labnet: a small CNN pretrained on the built-in lab world (offline)",
            round(labnet.approx_params() / 1e6, 2),
        )
    )


_register_lab()


# ---------------------------------------------------------------------------
# Splitting torchvision models into groups


def _split_resnet(m: nn.Module) -> list[tuple[str, nn.Module]]:
    return [
        ("stem", nn.Sequential(m.conv1, m.bn1, m.relu, m.maxpool)),
        ("stage1", m.layer1),
        ("stage2", m.layer2),
        ("stage3", m.layer3),
        ("stage4", m.layer4),
        ("pool", nn.Sequential(m.avgpool, nn.Flatten(1))),
        ("head", m.fc),
    ]


def _stages_by_resolution(features: nn.Sequential) -> list[tuple[str, nn.Module]]:
    """Group ``features[1:]`` into stages that share an output resolution.

    ``features[0]`` is the stem. A dummy forward finds where the resolution
    changes, so each stage starts at a downsampling block.
    """
    groups: list[tuple[str, nn.Module]] = [("stem", features[0])]
    was_training = features.training
    features.eval()
    with torch.no_grad():
        x = features[0](torch.zeros(1, 3, 128, 128))
        current: list[nn.Module] = []
        current_res = None
        for block in list(features)[1:]:
            x = block(x)
            res = tuple(x.shape[-2:])
            if current and res != current_res:
                groups.append((f"stage{len(groups)}", nn.Sequential(*current)))
                current = []
            current.append(block)
            current_res = res
        if current:
            groups.append((f"stage{len(groups)}", nn.Sequential(*current)))
    features.train(was_training)
    return groups


def _split_features_net(m: nn.Module, arch: str) -> list[tuple[str, nn.Module]]:
    groups = _stages_by_resolution(m.features)
    classifier = list(m.classifier)
    if arch.startswith("convnext"):
        # classifier = LayerNorm2d, Flatten, Linear
        pool = nn.Sequential(m.avgpool, *classifier[:-1])
    else:
        # mobilenet_v3: Linear, Hardswish, Dropout, Linear; efficientnet: Dropout, Linear
        pool = nn.Sequential(m.avgpool, nn.Flatten(1), *classifier[:-1])
    groups.append(("pool", pool))
    groups.append(("head", classifier[-1]))
    return groups


def _torchvision_groups(arch: str, state_dict: dict | None) -> list[tuple[str, nn.Module]]:
    import torchvision

    model = torchvision.models.get_model(arch, weights=None)
    if state_dict is not None:
        _load_state(model, state_dict, what=f"{arch} weights")
    if arch.startswith("resnet"):
        return _split_resnet(model)
    return _split_features_net(model, arch)


def _load_state(model: nn.Module, state: dict, what: str) -> None:
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    wrong_shape = [k for k in own if k in state and tuple(state[k].shape) != tuple(own[k].shape)]
    if missing or unexpected or wrong_shape:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing (e.g. {missing[0]})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected (e.g. {unexpected[0]})")
        if wrong_shape:
            parts.append(f"{len(wrong_shape)} with a different shape (e.g. {wrong_shape[0]})")
        raise ModelError(
            f"The {what} do not match the model: {', '.join(parts)} keys.",
            "Give a weights file saved from the same architecture (its state_dict), or choose the matching --model.",
            code="weights_mismatch",
        )
    model.load_state_dict(state)


def _replace_head(groups: list[tuple[str, nn.Module]], num_classes: int) -> list[tuple[str, nn.Module]]:
    name, head = groups[-1]
    assert name == "head" and isinstance(head, nn.Linear), "head must be a Linear layer"
    new_head = nn.Linear(head.in_features, num_classes)
    return groups[:-1] + [("head", new_head)]


# ---------------------------------------------------------------------------
# Weights


def torch_hub_checkpoints_dir() -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints"


def imagenet_weights_url(arch: str) -> str:
    import torchvision

    return torchvision.models.get_model_weights(arch).DEFAULT.url


def imagenet_weights_path(arch: str) -> Path:
    """Where torchvision caches this model's ImageNet weights (the same file torchvision uses)."""
    return torch_hub_checkpoints_dir() / os.path.basename(imagenet_weights_url(arch))


def _download(url: str, dest: Path, progress: ProgressFn | None) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    hash_prefix = None
    m = re.search(r"-([a-f0-9]*)\.", os.path.basename(url))
    if m:
        hash_prefix = m.group(1)
    import hashlib

    sha = hashlib.sha256()
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".download-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as resp:
                total = int(resp.headers.get("Content-Length") or 0)
                done = 0
                while True:
                    chunk = resp.read(1 << 16)
                    if not chunk:
                        break
                    out.write(chunk)
                    sha.update(chunk)
                    done += len(chunk)
                    if progress:
                        progress(done, total)
        if hash_prefix and not sha.hexdigest().startswith(hash_prefix):
            raise WeightsDownloadError(
                f"The downloaded weights from {url} are corrupt (checksum mismatch).",
                "Try again; if it keeps failing, copy the file from a machine where it works.",
            )
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def fetch_imagenet_weights(arch: str, progress: ProgressFn | None = None) -> dict:
    """Load ImageNet weights from the torch cache, downloading them once if missing."""
    path = imagenet_weights_path(arch)
    if not path.exists():
        url = imagenet_weights_url(arch)
        try:
            _download(url, path, progress)
        except (urllib.error.URLError, socket.timeout, TimeoutError, ConnectionError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise WeightsDownloadError(
                f"Could not download the ImageNet weights for {arch} ({reason}).",
                f"Fix: connect to the internet once (the file is then cached); or copy a torch hub cache "
                f"from another machine so that {path} exists (set TORCH_HOME to point at it); "
                f"or give a local weights file with --weights FILE. Offline, the built-in lab "
                f"(--model labnet) works without any download.",
                code="weights_download",
            ) from None
    return load_weights_file(path)


def load_weights_file(path: str | Path) -> dict:
    """Load a state dict saved with torch.save, safely (weights_only=True)."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"Weights file not found: {path}.", "Check the path, or use --weights imagenet or none.")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unpickling problem is a bad file for the user
        raise ModelError(
            f"Could not read weights file {path.name}: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}.",
            "Give a file saved with torch.save(model.state_dict(), path).",
            code="bad_weights_file",
        ) from None
    if isinstance(obj, dict):
        for key in ("model_state", "state_dict", "model"):
            if key in obj and isinstance(obj[key], dict):
                obj = obj[key]
                break
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise ModelError(
            f"Weights file {path.name} does not hold a state dict of tensors.",
            "Give a file saved with torch.save(model.state_dict(), path).",
            code="bad_weights_file",
        )
    return obj


# ---------------------------------------------------------------------------
# Building


def build_model(
    name: str,
    num_classes: int,
    weights: str = "pretrained",
    progress: ProgressFn | None = None,
) -> GroupedNet:
    """Build a backbone with a fresh ``num_classes`` head.

    ``weights``: ``pretrained`` (ImageNet for torchvision models, the shipped lab
    weights for labnet), ``imagenet`` (same), ``none`` (random init), or a path to
    a weights file (a torchvision-style state dict, or a tlcore checkpoint).
    """
    spec = get_spec(name)
    if num_classes < 1:
        raise ModelError("A model needs at least one class.")
    w = (weights or "none").strip()
    kind = w.lower()
    state: dict | None = None
    grouped_state: dict | None = None
    if kind in ("pretrained", "imagenet", "default"):
        if spec.family == "lab":
            from .lab import labnet

            grouped_state = labnet.load_pretrained_state()
        else:
            state = fetch_imagenet_weights(spec.tv_name, progress)
    elif kind in ("none", "random", "scratch"):
        pass
    else:
        loaded = load_weights_file(w)
        if any(k.startswith("groups.") for k in loaded):
            grouped_state = loaded
        else:
            state = loaded
    if spec.family == "lab":
        from .lab import labnet

        if state is not None:
            raise ModelError(
                "This weights file is not a labnet checkpoint.",
                "Give a file saved from labnet (a tlcore run's best.pt), or use --weights pretrained.",
                code="weights_mismatch",
            )
        groups = labnet.build_groups(num_classes=labnet.SOURCE_CLASSES)
    else:
        groups = _torchvision_groups(spec.tv_name, state)
    net = GroupedNet(groups, arch=name)
    if grouped_state is not None:
        _load_grouped_state(net, grouped_state, num_classes)
    net.groups["head"] = _replace_head(list(net.groups.items()), num_classes)[-1][1]
    if grouped_state is not None and _head_matches(grouped_state, num_classes):
        net.head.load_state_dict({k[len("groups.head."):]: v for k, v in grouped_state.items() if k.startswith("groups.head.")})
    return net


def _head_matches(state: dict, num_classes: int) -> bool:
    w = state.get("groups.head.weight")
    return w is not None and w.shape[0] == num_classes


def _load_grouped_state(net: GroupedNet, state: dict, num_classes: int) -> None:
    """Load a GroupedNet state dict except its head (classes may differ)."""
    body = {k: v for k, v in state.items() if not k.startswith("groups.head.")}
    own = {k: v for k, v in net.state_dict().items() if not k.startswith("groups.head.")}
    missing = [k for k in own if k not in body]
    unexpected = [k for k in body if k not in own]
    wrong = [k for k in own if k in body and tuple(body[k].shape) != tuple(own[k].shape)]
    if missing or unexpected or wrong:
        example = (missing or unexpected or wrong)[0]
        raise ModelError(
            f"The weights file does not match {net.arch}: {len(missing)} missing, {len(unexpected)} unexpected, "
            f"{len(wrong)} differently shaped keys (e.g. {example}).",
            "Give a checkpoint made with the same --model.",
            code="weights_mismatch",
        )
    net.load_state_dict({**state_with_head(net), **body})


def state_with_head(net: GroupedNet) -> dict:
    return {k: v for k, v in net.state_dict().items() if k.startswith("groups.head.")}


def count_params(module: nn.Module, trainable_only: bool = False) -> int:
    return sum(p.numel() for p in module.parameters() if (p.requires_grad or not trainable_only))
