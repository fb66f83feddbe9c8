"""The decoded-image cache: images decoded once to uint8 tensors, kept in memory within a budget."""
from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import numpy as np

from ..errors import ConfigError
from .images import resize_center_crop, load_rgb
from .limits import DataLimits

if TYPE_CHECKING:  # torch is imported lazily: `inspect` should not pay for it
    import torch


class ImageStore:
    """Images decoded once to uint8 (3, S, S) tensors and kept in memory when they fit the budget.

    Each image is resized (short side to ``S / crop_pct``) and centre-cropped to S x S.
    """

    def __init__(self, paths: list[str], image_size: int, budget_bytes: int = 2 * 2**30,
                 limits: DataLimits | None = None, crop_pct: float = 1.0):
        if int(image_size) < 1:
            raise ConfigError(f"image_size must be a positive number of pixels, not {image_size}.", code="image_size")
        self.paths = [str(p) for p in paths]
        self.image_size = int(image_size)
        if not 0.0 < float(crop_pct) <= 1.0:
            raise ConfigError(f"crop_pct must be in (0, 1], not {crop_pct}.", code="crop_pct")
        self.crop_pct = float(crop_pct)  # the backbone's: resize to image_size / crop_pct, keep the centre
        self.limits = limits or DataLimits()
        self.budget_bytes = budget_bytes
        self.fits_in_memory = len(self.paths) * 3 * self.image_size**2 <= budget_bytes
        self._cache: list[torch.Tensor | None] = [None] * len(self.paths) if self.fits_in_memory else []
        self.decodes = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.paths)

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        del state["_lock"]
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def _decode(self, i: int) -> torch.Tensor:
        import torch

        s = self.image_size
        short = int(s / self.crop_pct + 1e-9)  # the resized short side: decode no smaller
        img = resize_center_crop(load_rgb(self.paths[i], self.limits, draft_size=(short, short)), s, self.crop_pct)
        t = torch.from_numpy(np.array(img, dtype=np.uint8)).permute(2, 0, 1).contiguous()
        with self._lock:
            self.decodes += 1
        return t

    def get(self, i: int) -> torch.Tensor:
        """uint8 tensor (3, S, S); the cached tensor is shared, so do not modify it in place."""
        if self.fits_in_memory:
            t = self._cache[i]
            if t is None:
                t = self._cache[i] = self._decode(i)
            return t
        return self._decode(i)

    def get_batch(self, indices) -> torch.Tensor:
        """uint8 tensor (B, 3, S, S); images not yet cached are decoded on a few threads."""
        import torch

        idx = [int(i) for i in indices]
        have: dict[int, torch.Tensor] = {}
        missing = []
        for i in dict.fromkeys(idx):
            t = self._cache[i] if self.fits_in_memory else None
            if t is None:
                missing.append(i)
            else:
                have[i] = t
        if len(missing) > 1:
            with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1, len(missing))) as pool:
                decoded = list(pool.map(self._decode, missing))
        else:
            decoded = [self._decode(i) for i in missing]
        for i, t in zip(missing, decoded):
            have[i] = t
            if self.fits_in_memory:
                self._cache[i] = t
        if not idx:
            return torch.empty((0, 3, self.image_size, self.image_size), dtype=torch.uint8)
        return torch.stack([have[i] for i in idx])


