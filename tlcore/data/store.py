"""The decoded-image cache: images decoded once to uint8 tensors, kept in memory within a budget (else streamed)."""
from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import numpy as np

from ..errors import ConfigError, DataError
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
        # -- scale (issue 17): streaming, files failing their first full decode, images on the GPU --
        self.skip_failures = False  # True: a file that fails to decode is a black image, recorded in ``failed``
        self.failed: dict[int, tuple[str, str]] = {}  # index -> (reason code, detail)
        self.workers = 0  # decoding processes while streaming (0: threads of this process)
        self.pin_memory = False  # streamed batches in pinned memory (for copies to a CUDA device)
        self._stream = None  # tlcore.data.stream.BatchStream, made on first use
        self._on_device: torch.Tensor | None = None  # every image, (N, 3, S, S) uint8 on a GPU (see keep_on)

    def __len__(self) -> int:
        return len(self.paths)

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        del state["_lock"]
        state["_stream"] = None  # worker processes are not passed on
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
                t = self._decode_or_skip(i)
                if i not in self.failed:
                    self._cache[i] = t
            return t
        return self._decode_or_skip(i)

    def get_batch(self, indices) -> torch.Tensor:
        """uint8 tensor (B, 3, S, S); images not yet cached are decoded on a few threads.

        Streaming (over the budget, with ``workers``): batches announced with :meth:`announce`
        come from the worker processes, and a run of consecutive indices starts reading ahead.
        On a GPU (see :meth:`keep_on`) the batch is gathered there. With ``skip_failures`` a
        file that fails to decode is a black image here and an entry in ``failed``.
        """
        import torch

        if self._on_device is not None:
            return self._on_device.index_select(0, torch.as_tensor(list(indices), device=self._on_device.device))
        streamed = self._streamed(indices)
        if streamed is not None:
            return streamed
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
                decoded = list(pool.map(self._decode_or_skip, missing))
        else:
            decoded = [self._decode_or_skip(i) for i in missing]
        for i, t in zip(missing, decoded):
            have[i] = t
            if self.fits_in_memory and i not in self.failed:
                self._cache[i] = t
        if not idx:
            return torch.empty((0, 3, self.image_size, self.image_size), dtype=torch.uint8)
        return torch.stack([have[i] for i in idx])



    # -- scale (issue 17) --------------------------------------------------------
    def _decode_or_skip(self, i: int) -> torch.Tensor:
        """``_decode``; with ``skip_failures`` an unusable file gives a black image and an entry in ``failed``."""
        if not self.skip_failures:
            return self._decode(i)
        try:
            return self._decode(i)
        except DataError as e:
            import torch

            with self._lock:
                self.failed[i] = (e.code, getattr(e, "detail", "") or e.message)
            return torch.zeros((3, self.image_size, self.image_size), dtype=torch.uint8)

    @property
    def streams(self) -> bool:
        """Whether batches come from decoding worker processes (the images do not fit the budget)."""
        return not self.fits_in_memory and self.workers > 0

    def _stream_of(self):
        if self._stream is None:
            from .stream import BatchStream

            self._stream = BatchStream(self._decode, len(self.paths), (3, self.image_size, self.image_size),
                                       self.workers, self.pin_memory)
        return self._stream

    def announce(self, batches) -> None:
        """The order of the next ``get_batch`` calls (lists of indices): streaming decodes them ahead."""
        if self.streams:
            self._stream_of().announce(batches)

    def _streamed(self, indices) -> torch.Tensor | None:
        """The batch from the worker processes, or None when it was not announced (nor read ahead)."""
        if not self.streams:
            return None
        idx = [int(i) for i in indices]
        stream = self._stream_of()
        got = stream.take(idx)
        if got is None and len(idx) > 1 and idx == list(range(idx[0], idx[0] + len(idx))):
            # A sequential pass (features, validation): read the rest of the store ahead in batches this big.
            n, b = len(self.paths), len(idx)
            stream.announce([list(range(a, min(n, a + b))) for a in range(idx[0], n, b)])
            got = stream.take(idx)
        if got is None:
            return None
        x, errors = got
        with self._lock:
            self.decodes += len(idx)
            for pos, code, detail in errors:
                self.failed[idx[pos]] = (code, detail)
        if errors and not self.skip_failures:
            pos, code, detail = errors[0]
            raise DataError(f"Image '{self.paths[idx[pos]]}' is unusable ({code}): {detail}.", code=code)
        return x

    def subset(self, keep) -> "ImageStore":
        """A store of the images at ``keep`` (in that order), with what is decoded so far and the same settings.

        A part of streamed data streams too. It starts its own decoding workers when it needs them.
        """
        import copy

        keep = [int(i) for i in keep]
        other = copy.copy(self)  # every setting, whatever the store holds besides these
        other.paths = [self.paths[i] for i in keep]
        other._cache = [self._cache[i] for i in keep] if self.fits_in_memory else []
        other.failed = {}
        other._stream = None
        other._on_device = None
        other._lock = threading.Lock()
        return other

    def keep_on(self, device, max_fraction: float = 0.4) -> bool:
        """Move every decoded image to ``device`` (a GPU) as one uint8 tensor, when all are decoded and fit.

        They fit when they take at most ``max_fraction`` of the device's free memory. Batches are then
        gathered on the device: no copy from the host per batch. Returns whether they moved.
        """
        import torch

        if self._on_device is not None:
            return True
        if getattr(device, "type", str(device)) != "cuda" or not self.fits_in_memory or not self.paths:
            return False
        if any(t is None for t in self._cache):
            return False
        need = len(self.paths) * 3 * self.image_size**2
        free, _ = torch.cuda.mem_get_info(device)
        if need > max_fraction * free:
            return False
        self._on_device = torch.stack(self._cache).to(device)
        return True

    def close(self) -> None:
        """Stop decoding workers, if any."""
        if self._stream is not None:
            self._stream.close()
            self._stream = None
