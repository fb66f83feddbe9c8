"""The cache's size: what each kind of entry takes, when it was last used, and least-recently-used eviction.

The cache folder (``tlcore.paths.cache_dir()``) holds one subfolder per kind of entry; each
direct child of a kind's folder is one entry (an upload and its extraction, an extracted
zip, a feature cache, a lab dataset, a set built in the browser). An entry's "last used"
time is its folder's modification time: writing it or :func:`touch` sets it.

Only entries that can be made again from their source are evicted (uploads, extracted zips,
feature caches); lab datasets are drawn again on demand but are kept, and sets built in the
browser exist nowhere else, so they are never evicted. An entry used within
``recent_s`` (by a run or an open session, both of which touch it) is never evicted, nor is
one that a caller protects (a live run's data).
"""
from __future__ import annotations

import fcntl
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigError
from .paths import cache_dir

#: Kind -> subfolder of the cache.
KINDS = {"uploads": "uploads", "extracted": "datasets", "features": "features", "lab": "lab", "photos": "photos",
         "built": "built", "drafts": "builder"}
#: Kinds that eviction may remove (they can be made again from what the user has).
EVICTABLE = ("uploads", "extracted", "features")
#: The cache's default size limit, in GB (``TLCORE_CACHE_MAX_GB`` sets another).
DEFAULT_MAX_GB = 10.0
#: An entry used this recently (seconds) is in use: a session has it open or a run reads it.
RECENT_S = 30 * 60.0


@dataclass(frozen=True)
class Entry:
    path: Path
    kind: str
    bytes: int
    last_used: float  # seconds since the epoch


def limit_bytes() -> int:
    """The cache's size limit in bytes (``TLCORE_CACHE_MAX_GB``, default 10). Raises ConfigError for a bad value."""
    raw = os.environ.get("TLCORE_CACHE_MAX_GB", "").strip()
    if not raw:
        return int(DEFAULT_MAX_GB * 1e9)
    try:
        gb = float(raw)
    except ValueError:
        gb = -1.0
    if not gb > 0:
        raise ConfigError(f"TLCORE_CACHE_MAX_GB must be a positive number of gigabytes, not {raw!r}.",
                          "Set it to, for example, 10 (or unset it for the default).", code="cache_limit")
    return int(gb * 1e9)


def _size(path: Path, seen: set | None = None) -> int:
    """Bytes of the files below ``path`` (links are not followed; a file hard-linked twice counts once in ``seen``)."""
    if path.is_file():
        return path.stat().st_size
    seen = set() if seen is None else seen
    total = 0
    stack = [path]
    while stack:
        try:
            with os.scandir(stack.pop()) as it:
                for e in it:
                    if e.is_dir(follow_symlinks=False):
                        stack.append(Path(e.path))
                    elif e.is_file(follow_symlinks=False):
                        st = e.stat(follow_symlinks=False)
                        if (st.st_dev, st.st_ino) not in seen:
                            seen.add((st.st_dev, st.st_ino))
                            total += st.st_size
        except OSError:
            continue  # removed meanwhile
    return total


def entries(kinds=tuple(KINDS)) -> list[Entry]:
    """Every entry of the given kinds, with its size and last use (dot-files and half-written folders aside)."""
    root = cache_dir()
    out = []
    for kind in kinds:
        folder = root / KINDS[kind]
        if not folder.is_dir():
            continue
        for child in folder.iterdir():
            if child.name.startswith("."):
                continue  # locks, and folders being written aside
            try:
                out.append(Entry(child, kind, _size(child), child.stat().st_mtime))
            except OSError:
                continue
    return out


def entry_of(path: str | Path) -> Path | None:
    """The cache entry that holds ``path``, or None when ``path`` is not in the cache."""
    root = cache_dir()
    try:
        rel = Path(path).resolve().relative_to(root)
    except ValueError:
        return None
    parts = rel.parts
    if len(parts) < 2 or parts[0] not in KINDS.values():
        return None
    return root / parts[0] / parts[1]


def touch(path: str | Path) -> None:
    """Mark the entry holding ``path`` as used now (nothing happens for a path outside the cache)."""
    entry = entry_of(path)
    if entry is not None:
        try:
            os.utime(entry)
        except OSError:
            pass


def usage() -> dict:
    """``{"bytes", "limit_bytes", "kinds": {kind: bytes}, "entries": n}`` for the whole cache.

    Each kind's folder is counted whole (private saved sets and drafts included), every file once.
    """
    root, seen = cache_dir(), set()
    kinds = {k: (_size(root / folder, seen) if (root / folder).is_dir() else 0) for k, folder in KINDS.items()}
    return {"bytes": sum(kinds.values()), "limit_bytes": limit_bytes(), "kinds": kinds, "entries": len(entries())}


def _remove(path: Path) -> None:
    """Take the entry out of sight at once (a rename), then delete it."""
    trash = path.with_name(f".trash-{path.name}-{os.getpid()}-{time.monotonic_ns()}")
    try:
        os.rename(path, trash)
    except OSError:
        return
    if trash.is_dir():
        shutil.rmtree(trash, ignore_errors=True)
    else:
        trash.unlink(missing_ok=True)


def evict(limit: int | None = None, protected=(), recent_s: float = RECENT_S, now: float | None = None) -> int:
    """Remove least-recently-used evictable entries until the cache fits ``limit`` bytes; returns bytes freed.

    ``limit`` None: :func:`limit_bytes`; 0 removes every evictable entry not in use. Entries under a
    path in ``protected`` and entries used within ``recent_s`` seconds are kept. One process
    evicts at a time (a lock), so two sessions never remove the same entry twice.
    """
    limit = limit_bytes() if limit is None else int(limit)
    now = time.time() if now is None else now
    keep = {e for e in (entry_of(p) for p in protected) if e is not None}
    root = cache_dir()
    with open(root / ".evict.lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        everything = entries()
        total = sum(e.bytes for e in everything)
        freed = 0
        for e in sorted((e for e in everything if e.kind in EVICTABLE), key=lambda e: e.last_used):
            if total - freed <= limit:
                break
            if e.path in keep or now - e.last_used < recent_s:
                continue
            _remove(e.path)
            freed += e.bytes
        return freed
