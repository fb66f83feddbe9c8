"""A classifier as an ordered list of named layer groups, and the input normalization every path shares."""
from __future__ import annotations

from collections import OrderedDict
from typing import Iterable

import torch
from torch import nn


class GroupedNet(nn.Module):
    """A classifier as an ordered list of named layer groups: stem, stages, pool, head.

    ``forward`` runs the groups in order. ``features`` runs all but the head, so a
    frozen body can be computed once and cached. Groups listed in ``frozen`` keep
    ``requires_grad=False`` and stay in eval mode (BatchNorm keeps its statistics)
    even when the model is put in train mode.

    ``splittable``: whether the network may be cut at any group boundary (``forward_until`` a
    stage, then ``forward_from`` it), so that a frozen prefix can be cached. Networks that run
    their own forward (see ``tlcore.models.timm_models.TimmWholeNet``) split at the head only.
    """

    splittable = True

    def __init__(self, groups: Iterable[tuple[str, nn.Module]], *, arch: str = ""):
        super().__init__()
        self.groups = nn.ModuleDict(OrderedDict(groups))
        names = list(self.groups.keys())
        if not names or names[-1] != "head":
            raise ValueError("the last group must be named 'head'")
        self.arch = arch
        self.frozen: frozenset[str] = frozenset()
        self.bn_frozen: frozenset[str] = frozenset()  # trained groups whose BatchNorm keeps its statistics

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
        """(B, 3, H, W) normalized images -> (B, D) the head's input."""
        return self.forward_until(x, "head")

    @property
    def head(self) -> nn.Module:
        return self.groups["head"]

    def set_frozen(self, names: Iterable[str], bn_frozen: Iterable[str] = ()) -> None:
        """Freeze the groups ``names``; in the groups ``bn_frozen`` only BatchNorm stays in eval mode."""
        names, bn_frozen = frozenset(names), frozenset(bn_frozen)
        unknown = (names | bn_frozen) - set(self.group_names)
        if unknown:
            raise ValueError(f"unknown groups: {sorted(unknown)}")
        self.frozen, self.bn_frozen = names, bn_frozen
        for name, module in self.groups.items():
            for p in module.parameters():
                p.requires_grad_(name not in names)
        self.train(self.training)

    def train(self, mode: bool = True):  # noqa: D102 - keeps frozen groups in eval mode
        super().train(mode)
        for name in self.frozen:
            self.groups[name].eval()
        for name in self.bn_frozen:
            for m in self.groups[name].modules():
                if isinstance(m, nn.modules.batchnorm._BatchNorm):
                    m.eval()
        return self

    def first_trainable_group(self) -> str | None:
        for name in self.group_names:
            if name not in self.frozen:
                return name
        return None


def count_params(module: nn.Module, trainable_only: bool = False) -> int:
    return sum(p.numel() for p in module.parameters() if (p.requires_grad or not trainable_only))


class Normalize(nn.Module):
    """uint8 images (B, 3, H, W) in 0..255 -> float, normalized with a backbone's mean and std (given in 0..1).

    The one normalization of every path (training, prediction, similarity, export), so that a
    model always sees its inputs as it was trained on them.
    """

    def __init__(self, mean, std):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1) * 255.0)
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1) * 255.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x.float() - self.mean) / self.std
