"""labnet: a small CNN (stem + 4 stages + pool + head) pretrained on the lab's source world.

The shipped weights (``labnet_source.pt``) were made by ``python -m tlcore lab pretrain``;
``labnet_source.json`` records how (command, seed, source accuracy, date, torch version).
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from ..errors import ModelError

INPUT_SIZE: int = 32
#: Per-channel mean/std of the source world's pixels (in [0, 1]), measured on
#: ``world.make_source(200, seed=0)`` (to within 0.002); every labnet input, in
#: pretraining and after, is normalized with these fixed values.
LAB_MEAN: tuple[float, float, float] = (0.375, 0.376, 0.383)
LAB_STD: tuple[float, float, float] = (0.219, 0.216, 0.218)
#: Number of source classes: the head size of the shipped weights.
SOURCE_CLASSES: int = 16
#: Channel widths of stem, stage1..stage4. The stem works at 32x32; each stage
#: halves the resolution (16, 8, 4, 2) with a stride-2 conv, then adds a second conv.
WIDTHS: tuple[int, int, int, int, int] = (24, 32, 64, 96, 128)

_HERE = Path(__file__).resolve().parent
WEIGHTS_PATH: Path = _HERE / "labnet_source.pt"
RECORD_PATH: Path = _HERE / "labnet_source.json"


def _conv_bn(cin: int, cout: int, stride: int = 1) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


def build_groups(num_classes: int) -> list[tuple[str, nn.Module]]:
    """labnet's ordered layer groups; the head maps the pooled features to ``num_classes``."""
    w = WIDTHS
    groups: list[tuple[str, nn.Module]] = [("stem", nn.Sequential(*_conv_bn(3, w[0])))]
    for i in range(4):
        groups.append((f"stage{i + 1}", nn.Sequential(*_conv_bn(w[i], w[i + 1], 2), *_conv_bn(w[i + 1], w[i + 1]))))
    groups.append(("pool", nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(1))))
    groups.append(("head", nn.Linear(w[-1], num_classes)))
    return groups


def approx_params(num_classes: int | None = None) -> int:
    """Parameter count of labnet (with a ``SOURCE_CLASSES`` head unless told otherwise)."""
    n = SOURCE_CLASSES if num_classes is None else num_classes
    return sum(p.numel() for _, m in build_groups(n) for p in m.parameters())


def load_pretrained_state() -> dict:
    """The shipped GroupedNet state dict (keys ``groups.stem.0.weight``, ...)."""
    if not WEIGHTS_PATH.is_file():
        raise ModelError(
            f"The lab's pretrained labnet weights are missing ({WEIGHTS_PATH.name}).",
            "run: python -m tlcore lab pretrain",
            code="missing_lab_weights",
        )
    state = torch.load(WEIGHTS_PATH, map_location="cpu", weights_only=True)
    return {k: (v.float() if v.is_floating_point() else v) for k, v in state.items()}
