"""The backbone registry: each entry names its layer groups, input size, normalization and minimum input size as data.

Nothing here builds a model: the layer diagram, the plans and the decision map read an
entry's groups without paying for a network. ``tlcore.models.build`` turns an entry into a
:class:`~tlcore.models.grouped.GroupedNet` whose groups are exactly the entry's.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from ..errors import ModelError
from ..lab import labnet

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def grouped(num_stages: int) -> tuple[str, ...]:
    """Group names of a backbone with ``num_stages`` stages: stem, stage1..N, pool, head."""
    return ("stem", *(f"stage{i}" for i in range(1, num_stages + 1)), "pool", "head")


@dataclass(frozen=True)
class BackboneSpec:
    """One registry entry.

    ``groups``: the layer groups in forward order, ``stem`` first and ``head`` last; the
    groups named ``stage*`` are what the ``top`` plan unfreezes from the end. ``split``
    says, for torchvision networks built as ``features`` + ``classifier``, which blocks of
    ``features`` each stage holds (``(start, stop)`` per stage; block 0 is the stem).
    ``min_input_size``: the smallest square input (pixels) the network accepts.
    """

    name: str
    source: str  # "torchvision" | "timm" | "lab"
    arch: str  # the source's own name for the architecture
    groups: tuple[str, ...]
    input_size: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    min_input_size: int = 16
    description: str = ""
    approx_params_m: float = 0.0
    split: tuple[tuple[int, int], ...] = ()
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def stage_names(self) -> tuple[str, ...]:
        return tuple(g for g in self.groups if g.startswith("stage"))

    @property
    def num_stages(self) -> int:
        return len(self.stage_names)


def _torchvision(name: str, description: str, params_m: float, stages: int = 4,
                 split: tuple[tuple[int, int], ...] = (), min_input_size: int = 16) -> BackboneSpec:
    return BackboneSpec(name, "torchvision", name, grouped(stages), 224, IMAGENET_MEAN, IMAGENET_STD,
                        min_input_size, description, params_m, split)


#: The built-in backbones, in the order the app lists them.
_ENTRIES: tuple[BackboneSpec, ...] = (
    _torchvision("resnet18", "ResNet-18: a small, classic residual network", 11.7),
    _torchvision("resnet50", "ResNet-50: a larger residual network", 25.6),
    _torchvision("mobilenet_v3_small", "MobileNetV3-Small: very fast, made for phones", 2.5,
                 split=((1, 2), (2, 4), (4, 9), (9, 13))),
    _torchvision("mobilenet_v3_large", "MobileNetV3-Large: fast and accurate", 5.5, stages=5,
                 split=((1, 2), (2, 4), (4, 7), (7, 13), (13, 17))),
    _torchvision("efficientnet_b0", "EfficientNet-B0: accurate for its size", 5.3, stages=5,
                 split=((1, 2), (2, 3), (3, 4), (4, 6), (6, 9))),
    # A 4x4 stride-4 stem and three 2x2 stride-2 downsamplings: 32 px is the least that reaches stage 4.
    _torchvision("convnext_tiny", "ConvNeXt-Tiny: a modern convolutional network", 28.6,
                 split=((1, 2), (2, 4), (4, 6), (6, 8)), min_input_size=32),
    BackboneSpec("labnet", "lab", "labnet", grouped(len(labnet.WIDTHS) - 1), labnet.INPUT_SIZE, labnet.LAB_MEAN,
                 labnet.LAB_STD, 16, "labnet: a small CNN pretrained on the built-in lab world (offline)",
                 round(labnet.approx_params() / 1e6, 2)),
)


def _index(entries: tuple[BackboneSpec, ...]) -> dict[str, BackboneSpec]:
    out: dict[str, BackboneSpec] = {}
    for spec in entries:
        if spec.name in out:
            raise ValueError(f"backbone {spec.name!r} is registered twice")
        if spec.groups[0] != "stem" or spec.groups[-1] != "head":
            raise ValueError(f"backbone {spec.name!r}: groups must run from 'stem' to 'head'")
        out[spec.name] = spec
    return out


REGISTRY: dict[str, BackboneSpec] = _index(_ENTRIES)


def list_models() -> list[str]:
    return list(REGISTRY)


def get_spec(name: str) -> BackboneSpec:
    """The registry entry for ``name``. Raises ModelError naming close matches for a typo."""
    try:
        return REGISTRY[name]
    except KeyError:
        close = difflib.get_close_matches(name, list(REGISTRY), n=3)
        hint = f"Did you mean {', '.join(close)}?" if close else ""
        raise ModelError(
            f"Unknown model {name!r}.",
            f"{hint} Choose one of: {', '.join(REGISTRY)}.".strip(),
            code="unknown_model",
        ) from None
