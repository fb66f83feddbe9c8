"""Units of work run in parallel worker processes: how the lab's drivers (experiment, sweep, surgical, estimators) run.

labnet's layers are too small to keep two threads busy, so the drivers run their units (a
cell and a seed, say) in ``jobs`` spawned processes of one compute thread each. A worker
process imports the driver's module afresh, so the settings a parent changed (a test's smaller
world, a sweep's validation size) are handed over and set again in every worker.
"""
from __future__ import annotations

import contextlib
import importlib
import os
import sys
import tempfile
from pathlib import Path
from typing import Callable, Iterator, Sequence


def default_jobs() -> int:
    """Parallel runs for the lab's drivers: one per core (each with one thread), at most 4."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(4, cores))


def settings_of(module: str, names: Sequence[str]) -> dict[str, dict]:
    """``{module: {name: value}}`` for the named module-level settings of an imported module, to hand to workers."""
    mod = sys.modules[module]
    return {module: {name: getattr(mod, name) for name in names}}


def init_worker(threads: int, settings: dict[str, dict]) -> None:
    """A worker's start: ``threads`` compute threads, and each module's settings (``settings_of``) set again."""
    import torch

    torch.set_num_threads(threads)
    for module, values in settings.items():
        vars(importlib.import_module(module)).update(values)


def run_units(fn: Callable[..., dict], units: Sequence[tuple], jobs: int, settings: dict[str, dict]) -> list[dict]:
    """``[fn(*unit) for unit in units]``, in order: in this process when ``jobs`` is 1, else in ``jobs`` workers.

    ``fn`` must be a module-level function (workers are spawned and import it by name);
    ``settings``: what :func:`settings_of` gives, set in every worker before its first unit.
    An exception in a unit is raised here, after the workers have stopped.
    """
    if jobs == 1:
        return [fn(*unit) for unit in units]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(jobs, mp_context=ctx, initializer=init_worker, initargs=(1, settings)) as pool:
        return list(pool.map(fn, *zip(*units)))


@contextlib.contextmanager
def work_folder(workdir: str | Path | None, prefix: str) -> Iterator[Path]:
    """``workdir`` when given (kept afterwards: a driver may resume from it), else a temporary folder removed at the end."""
    if workdir is not None:
        yield Path(workdir)
        return
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        yield Path(tmp)
