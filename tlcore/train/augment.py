"""Batched augmentation on the device: one affine grid per batch instead of per-image PIL transforms."""
from __future__ import annotations

import torch
import torch.nn.functional as F


def augment_batch(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Random zoom/shift crop, horizontal flip, brightness and contrast, on normalized (B, 3, H, W) images."""
    b = x.shape[0]
    dev = x.device
    scale = torch.empty(b).uniform_(0.75, 1.0, generator=gen)
    tx = (torch.rand(b, generator=gen) * 2 - 1) * (1 - scale)
    ty = (torch.rand(b, generator=gen) * 2 - 1) * (1 - scale)
    flip = torch.where(torch.rand(b, generator=gen) < 0.5, -1.0, 1.0)
    theta = torch.zeros(b, 2, 3)
    theta[:, 0, 0] = scale * flip
    theta[:, 1, 1] = scale
    theta[:, 0, 2] = tx
    theta[:, 1, 2] = ty
    grid = F.affine_grid(theta.to(dev, x.dtype), list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)
    contrast = (torch.rand(b, 1, 1, 1, generator=gen) * 0.4 + 0.8).to(dev, x.dtype)
    bright = ((torch.rand(b, 1, 1, 1, generator=gen) - 0.5) * 0.4).to(dev, x.dtype)
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * contrast + mean + bright
