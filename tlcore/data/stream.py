"""Data larger than memory: images decoded ahead by worker processes, and cached rows in memory-mapped files.

A dataset over the memory budget is not kept decoded: every epoch decodes its images again.
:class:`BatchStream` does that on ``torch.utils.data.DataLoader`` worker processes, a few
batches ahead of the training loop, in the exact order the trainer announces (so a streamed
run sees the same batches as one from memory, and reaches the same accuracy). A file that
fails its full decode (possible when the dataset was checked by headers only) does not stop
the stream: its slot holds a black placeholder and the failure comes back with the batch.

Rows computed once per image (a frozen backbone's features) go to a ``.npy`` file and are
read back memory-mapped (:class:`RowWriter`, :func:`read_rows`); the small ``.json`` beside
it, written last, says the file is complete, so other processes can wait for it.
"""
from __future__ import annotations

import json
import os
from collections import deque
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from ..errors import DataError
from ..fsutil import write_json_atomic

#: Batches each worker decodes ahead of the one the trainer is on.
PREFETCH_PER_WORKER = 2
#: Most decoding workers a run picks by itself (more rarely helps: the step, not decoding, limits).
MAX_DEFAULT_WORKERS = 8


def usable_cores() -> int:
    """CPU cores this process may run on (its affinity), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def default_workers(processes: int = 1) -> int:
    """Decoding workers for each of ``processes`` training processes: the cores left to each, less one.

    At least 1 (on a 2-core machine the one worker decodes while the run process trains).
    """
    return max(1, min(MAX_DEFAULT_WORKERS, usable_cores() // max(1, processes) - 1))


# ---------------------------------------------------------------------------
# Decoding on worker processes


class _Items(Dataset):
    """Item ``i``: (uint8 (3, S, S) image, None) or (black placeholder, (reason code, detail)) when it fails."""

    def __init__(self, load: Callable[[int], torch.Tensor], shape: tuple[int, int, int], count: int):
        self.load, self.shape, self.count = load, shape, count

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, i: int):
        try:
            return self.load(i), None
        except DataError as e:
            return torch.zeros(self.shape, dtype=torch.uint8), (e.code, getattr(e, "detail", "") or e.message)


def _collate(items) -> tuple[torch.Tensor, list]:
    """(uint8 (B, 3, S, S), [(position in the batch, reason code, detail), ...])."""
    return torch.stack([x for x, _ in items]), [(k, *err) for k, (_, err) in enumerate(items) if err]


class _Announced(Sampler):
    """The batches of the pass the trainer announced, as lists of indices (set before each pass)."""

    def __init__(self):
        self.batches: list[list[int]] = []

    def __iter__(self):
        return iter(self.batches)

    def __len__(self) -> int:
        return len(self.batches)


class BatchStream:
    """Decodes announced batches on ``workers`` processes, ``PREFETCH_PER_WORKER`` batches each ahead.

    ``load(i)`` decodes item ``i`` (it runs in the workers, forked from this process: it must
    not touch a GPU); it raises DataError for an unusable file. The workers live as long as
    the stream (one start-up per run, not per epoch). ``pin_memory`` pins batches for fast
    copies to a CUDA device.
    """

    def __init__(self, load: Callable[[int], torch.Tensor], count: int, shape: tuple[int, int, int], workers: int,
                 pin_memory: bool = False):
        if workers < 1:
            raise ValueError("a BatchStream needs at least one worker")
        self._sampler = _Announced()
        self._loader = DataLoader(_Items(load, shape, count), batch_sampler=self._sampler, num_workers=workers,
                                  collate_fn=_collate, pin_memory=pin_memory, persistent_workers=True,
                                  prefetch_factor=PREFETCH_PER_WORKER)
        self._expected: deque[tuple[int, ...]] = deque()
        self._it = None
        self.workers = workers

    def announce(self, batches: Sequence[Sequence[int]]) -> None:
        """The next ``take`` calls will ask for these batches, in this order: start decoding them."""
        self._sampler.batches = [[int(i) for i in b] for b in batches if len(b)]
        self._expected = deque(tuple(b) for b in self._sampler.batches)
        self._it = iter(self._loader) if self._expected else None

    @property
    def active(self) -> bool:
        return bool(self._expected)

    def take(self, indices: Sequence[int]) -> tuple[torch.Tensor, list] | None:
        """The next announced batch if it is ``indices`` (see ``_collate``), else None (and the rest is dropped)."""
        key = tuple(int(i) for i in indices)
        if self._it is None or not self._expected or self._expected[0] != key:
            self.cancel()
            return None
        self._expected.popleft()
        batch = next(self._it)
        if not self._expected:
            self._it = None
        return batch

    def cancel(self) -> None:
        self._expected.clear()
        self._it = None

    def close(self) -> None:
        """Stop the worker processes."""
        self.cancel()
        it = getattr(self._loader, "_iterator", None)
        if it is not None and hasattr(it, "_shutdown_workers"):
            it._shutdown_workers()
        self._loader._iterator = None


# ---------------------------------------------------------------------------
# Rows on disk


_NUMPY_OF = {torch.float32: np.float32, torch.float16: np.float16, torch.bfloat16: np.int16, torch.float64: np.float64}


def _meta_path(path: Path) -> Path:
    return path.with_suffix(".json")


class RowWriter:
    """Writes up to ``rows`` tensor rows into ``path`` (a ``.npy`` file), chunk by chunk, never whole in memory.

    Rows go in one after another (:meth:`append`); :meth:`finish` flushes them, renames the file
    into place and then writes the ``.json`` beside it (row count, dtype, ``extra``): a reader
    that sees the JSON sees a complete file. bfloat16 rows are stored as their 16 raw bits.
    """

    def __init__(self, path: str | Path, rows: int):
        self.path = Path(path)
        self.capacity = int(rows)
        self.count = 0
        self._tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        self._array = None
        self._dtype: torch.dtype | None = None

    def append(self, rows: torch.Tensor) -> None:
        rows = rows.detach().to("cpu")
        if self._array is None:
            self._dtype = rows.dtype
            if rows.dtype not in _NUMPY_OF:
                raise TypeError(f"cannot store rows of {rows.dtype}")
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._array = np.lib.format.open_memmap(self._tmp, mode="w+", dtype=_NUMPY_OF[rows.dtype],
                                                    shape=(max(1, self.capacity), *rows.shape[1:]))
        n = rows.shape[0]
        if self.count + n > self.capacity:
            raise ValueError("more rows than the file was made for")
        data = rows.view(torch.int16) if rows.dtype == torch.bfloat16 else rows
        self._array[self.count:self.count + n] = data.numpy()
        self.count += n

    def finish(self, extra: dict | None = None, row_shape: tuple = (), dtype: torch.dtype = torch.float32) -> None:
        if self._array is None:  # no rows at all: an empty file of the given row shape
            self._dtype = dtype
            self.path.parent.mkdir(parents=True, exist_ok=True)
            np.lib.format.open_memmap(self._tmp, mode="w+", dtype=_NUMPY_OF[dtype], shape=(1, *row_shape)).flush()
        else:
            self._array.flush()
            del self._array
            self._array = None
        os.replace(self._tmp, self.path)
        write_json_atomic(_meta_path(self.path), {"rows": self.count, "dtype": str(self._dtype).replace("torch.", ""),
                                                  "extra": extra or {}})

    def abandon(self) -> None:
        self._array = None
        try:
            self._tmp.unlink()
        except OSError:
            pass


def rows_ready(path: str | Path) -> bool:
    """Whether :meth:`RowWriter.finish` completed for ``path``."""
    return _meta_path(Path(path)).is_file()


def read_rows(path: str | Path, mmap: bool = True) -> tuple[torch.Tensor, dict]:
    """The rows a :class:`RowWriter` wrote, and its ``extra``.

    ``mmap``: memory-mapped (copy-on-write: pages are read from disk as rows are used, and
    nothing is written back); else read into memory.
    """
    path = Path(path)
    meta = json.loads(_meta_path(path).read_text(encoding="utf-8"))
    arr = np.load(path, mmap_mode="c" if mmap else None)
    t = torch.from_numpy(arr)[: int(meta["rows"])]
    if meta["dtype"] == "bfloat16":
        t = t.view(torch.bfloat16)
    return t, meta.get("extra") or {}
