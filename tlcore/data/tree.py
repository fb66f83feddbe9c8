"""Walking dataset folders: noise that tools leave behind, wrapper folders, and files below a folder."""
from __future__ import annotations

import os
from pathlib import Path

#: Entries that operating systems and tools leave behind; never data, never reported.
_NOISE_NAMES = frozenset({"__macosx", "thumbs.db", "desktop.ini", "$recycle.bin", "system volume information"})


def is_noise(name: str) -> bool:
    return name.startswith(".") or name.lower() in _NOISE_NAMES


def short_name(name: str, limit: int = 80) -> str:
    return repr(name if len(name) <= limit else "..." + name[-(limit - 3):])



def subdirs(folder: Path) -> list[Path]:
    try:
        entries = list(folder.iterdir())
    except OSError:
        return []
    return sorted((e for e in entries if not is_noise(e.name) and e.is_dir()), key=lambda p: p.name)


def find_root(root: Path) -> Path:
    """Descend through wrapper folders: a single subfolder that itself holds subfolders."""
    for _ in range(16):
        subs = subdirs(root)
        if len(subs) != 1 or not subdirs(subs[0]):
            break
        root = subs[0]
    return root


def list_files(folder: Path) -> list[Path]:
    """Every non-noise file below folder, sorted; symlinked folders are not followed (no cycles)."""
    out: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not is_noise(d))
        out.extend(Path(dirpath) / f for f in sorted(filenames) if not is_noise(f))
    return out
