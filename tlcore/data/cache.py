"""Zip datasets extracted once into the cache, keyed by their content."""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from ..paths import cache_dir
from .archives import safe_extract_zip
from .folders import find_root
from .limits import DataLimits


#: Bumped when extraction changes what lands on disk, so that an older extraction (with, say,
#: class folders named in mojibake before names were decoded) is not reused.
EXTRACTION_VERSION = 2


def materialize_dataset(path: str | Path, limits: DataLimits | None = None) -> Path:
    """A folder to train from: a folder as it is; a zip extracted once into the cache, keyed by its content.

    Training, measuring and inspecting the same zip then share one extraction
    instead of leaving a temp copy behind each time.
    """
    p = Path(path).expanduser()
    if p.is_dir() or not p.exists():
        return p
    h = hashlib.sha1(f"extraction {EXTRACTION_VERSION}\n".encode())
    with open(p, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    safe_stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in p.stem)[:40] or "data"
    final = cache_dir() / "datasets" / f"{safe_stem}-{h.hexdigest()[:12]}"
    if (final / ".complete").exists():
        os.utime(final)  # used now: eviction keeps it for a while
        return find_root(final / "data")
    final.parent.mkdir(parents=True, exist_ok=True)
    # Extract aside, then rename: a session never sees half an extraction.
    tmp = Path(tempfile.mkdtemp(prefix=".extract-", dir=final.parent))
    try:
        safe_extract_zip(p, tmp / "data", limits)
        (tmp / ".complete").write_text("ok")
        try:
            os.rename(tmp, final)
        except OSError:  # another session finished first, or an incomplete leftover is in the way
            if not (final / ".complete").exists():
                shutil.rmtree(final, ignore_errors=True)
                os.rename(tmp, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    from ..diskcache import evict

    evict(protected=[final])  # keep the cache within TLCORE_CACHE_MAX_GB, least recently used first
    return find_root(final / "data")
