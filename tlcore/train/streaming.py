"""Streaming set-up (issue 17): decoding workers, files that fail to decode, images kept on the GPU."""
from __future__ import annotations

import os

import torch

from .. import events as ev
from ..errors import DataError
from .split import Split

#: Files that failed to decode named in the warning (the rest are counted).
MAX_NAMED_FAILURES = 10


class StreamingData:
    """The :class:`~tlcore.train.trainer.Trainer`'s streaming set-up (a base class of the Trainer).

    Its methods use the trainer's ``config``, ``device``, ``dataset``, ``dist``, ``emit``,
    ``cache_start``, its ``train`` and ``val`` splits and ``_threads``.
    """

    def _prepare_streaming(self) -> None:
        """Both stores: failures skipped (and reported), and decoding workers for images over the budget."""
        from ..data.stream import default_workers, usable_cores

        workers = self.config.workers if self.config.workers is not None else default_workers(self.config.nproc_per_node)
        for split in (self.train, self.val):
            split.store.skip_failures = True
            split.store.workers = workers
            split.store.pin_memory = self.device.type == "cuda"
        if workers and self.device.type == "cpu" and any(s.store.streams for s in (self.train, self.val)):
            # Leave the decoding workers their cores: a compute thread and a decoder on one core slow each
            # other down many times over (measured 5-20x on 2 cores), far more than one thread fewer costs.
            self._threads = torch.get_num_threads()
            torch.set_num_threads(max(1, min(self._threads, usable_cores() - workers)))

    def _without_failed(self, split: Split, idx: torch.Tensor, x: torch.Tensor, y: torch.Tensor):
        """The batch without the images that failed to decode: (x, y, images left); all of it when none is left."""
        keep = [k for k, i in enumerate(idx.tolist()) if i not in split.store.failed]
        if len(keep) == len(idx):
            return x, y, len(idx)
        if not keep:
            return x, y, 0
        k = torch.tensor(keep, device=x.device)
        return x.index_select(0, k), y.index_select(0, k.to(y.device)), len(keep)

    def _leave_out_failed(self, split: Split, phase: str, failed: dict | None = None) -> None:
        """Files that failed their first full decode leave ``split`` for good, with a warning naming them.

        Datasets checked from headers (see tlcore.data.headers) meet such files only when training
        decodes them; every process of a distributed run leaves out the same ones.
        """
        if failed is None:
            failed = dict(split.store.failed)
            if self.dist.enabled:
                failed = {i: f for part in self.dist.gather(failed) for i, f in part.items()}
        if not failed:
            return
        gone = split.leave_out(failed)
        root = getattr(self.dataset, "root", "") or ""
        names = [f"{os.path.relpath(p, root) if root else p} ({reason})" for p, reason, _ in gone]
        shown = ", ".join(names[:MAX_NAMED_FAILURES]) + (f" and {len(names) - MAX_NAMED_FAILURES} more"
                                                           if len(names) > MAX_NAMED_FAILURES else "")
        if not len(split):
            raise DataError(f"None of the {phase} images could be decoded ({shown}).",
                            "Check that the files are images that open in an image viewer.", code="no_images")
        self.emit(ev.Warning_(code="images_left_out", message=(
            f"{len(gone)} {phase} image{'s' if len(gone) > 1 else ''} could not be decoded and "
            f"{'are' if len(gone) > 1 else 'is'} left out of this run: {shown}.")))

    def _images_to_device(self) -> None:
        """After epoch 1 on a GPU: the decoded images move there when they fit, so batches need no copy."""
        if self.device.type == "cuda" and self.cache_start is None:
            for split in (self.train, self.val):
                split.store.keep_on(self.device)
