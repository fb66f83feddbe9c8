"""Where things live on disk: runs, the cache, data roots and weights folders, each set by one variable."""
from __future__ import annotations

import os
from pathlib import Path


def _dirs_from(var: str, default: str) -> list[Path]:
    raw = os.environ.get(var) or default
    return [Path(p).expanduser().resolve() for p in raw.split(os.pathsep) if p.strip()]


def runs_dir() -> Path:
    """Where runs are written (``TLCORE_RUNS_DIR``, default ./runs)."""
    return Path(os.environ.get("TLCORE_RUNS_DIR") or "runs")


def cache_dir() -> Path:
    """Lab datasets, uploads, extractions and feature caches (``TLCORE_CACHE_DIR``, default ./.tlcore-cache).

    Created on first use; returned as an absolute path, so a run started from another
    working directory finds the same files.
    """
    path = Path(os.environ.get("TLCORE_CACHE_DIR") or ".tlcore-cache")
    path.mkdir(parents=True, exist_ok=True)
    return path.resolve()


def data_roots() -> list[Path]:
    """Folders whose subfolders may be opened as datasets (``TLCORE_DATA_ROOTS``, os.pathsep-separated; default ./data)."""
    return _dirs_from("TLCORE_DATA_ROOTS", "data")


def weights_dirs() -> list[Path]:
    """Folders the app offers weights files from (``TLCORE_WEIGHTS_DIRS``, os.pathsep-separated; default ./weights)."""
    return _dirs_from("TLCORE_WEIGHTS_DIRS", "weights")
