"""One side of the dataset (a :class:`Split`) and the batches an epoch takes of it."""
from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class Split:
    """One side of the dataset: its images (decoded once into a store) and labels, and cached frozen outputs."""

    items: list[tuple[str, int]]
    labels: torch.Tensor
    store: object  # tlcore.data.ImageStore
    cached: torch.Tensor | None = None  # outputs of the frozen groups before ``Trainer.cache_start``

    def __len__(self) -> int:
        return len(self.items)

    def part(self, start: int, stop: int) -> "Split":
        """Images ``start:stop`` as a split of their own (their own store, no cached rows)."""
        stop = min(stop, len(self))
        return Split(self.items[start:stop], self.labels[start:stop], self.store.subset(range(start, stop)))

    def leave_out(self, failed: dict[int, tuple[str, str]]) -> list[tuple[str, str, str]]:
        """Drop the images at the keys of ``failed`` (index -> (reason, detail)); returns (path, reason, detail) of each."""
        keep = [i for i in range(len(self.items)) if i not in failed]
        gone = [(self.items[i][0], *failed[i]) for i in sorted(failed) if 0 <= i < len(self.items)]
        index = torch.tensor(keep, dtype=torch.long)
        self.items = [self.items[i] for i in keep]
        self.labels = self.labels.index_select(0, index)
        old, self.store = self.store, self.store.subset(keep)
        old.close()
        if self.cached is not None:
            self.cached = self.cached.index_select(0, index.to(self.cached.device))
        return gone


def batch_slices(n: int, batch_size: int) -> list[slice]:
    """Slices of ``range(n)`` of ``batch_size``; a last batch of one image joins the one before.

    BatchNorm in training mode cannot normalize a single image whose feature map is 1x1
    ("Expected more than 1 value per channel"), so no training batch holds one image
    (unless the whole set is one image).
    """
    bounds = list(range(0, n, batch_size)) + [n]
    if len(bounds) > 2 and bounds[-1] - bounds[-2] == 1:
        del bounds[-2]
    return [slice(a, b) for a, b in zip(bounds, bounds[1:])]
