"""Zip archives: safe extraction (no path escapes, links, bombs or encryption)."""
from __future__ import annotations

import re
import stat
import zipfile
from pathlib import Path

from ..errors import DataError
from .limits import DataLimits, SkippedFile
from .tree import find_root, is_noise, short_name

_BOMB_MIN_ENTRY = 2**20  # the ratio test only applies to entries bigger than this


def _fmt_bytes(n: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} bytes"


def _entry_parts(name: str) -> list[str]:
    """Split a zip entry name into safe path parts; refuse names that escape the destination."""
    n = name.replace("\\", "/")  # zips written on Windows may use backslashes
    if n.startswith("/") or re.match(r"^[A-Za-z]:", n) or "\x00" in n:
        raise _unsafe_entry(name)
    parts = [p for p in n.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise _unsafe_entry(name)
    return parts


def _unsafe_entry(name: str) -> DataError:
    return DataError(
        f"The zip contains an unsafe entry {short_name(name)} that points outside the extraction folder; nothing was extracted.",
        "Re-create the zip from the dataset folder itself; entries with '../', absolute paths or drive letters are refused.",
        code="zip_unsafe_path",
    )


def extract_zip(zip_path: Path, dest: Path, limits: DataLimits) -> tuple[Path, list[SkippedFile]]:
    """Extract safely; return (dataset root inside dest, symlink entries that were skipped)."""
    name = zip_path.name
    try:
        zf = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as e:
        raise DataError(f"'{name}' is not a valid zip file ({e}).",
                        "Re-create it with a zip tool, or give the dataset folder instead.", code="bad_zip") from None
    except OSError as e:
        raise DataError(f"Cannot read '{name}': {e.strerror or e}.", "Check the file and its permissions.",
                        code="bad_zip") from None
    with zf:
        infos = zf.infolist()
        # Everything below is decided from the central directory, before a single byte is written.
        if len(infos) > limits.max_zip_files:
            raise DataError(f"'{name}' has {len(infos)} entries, more than the limit of {limits.max_zip_files}.",
                            "Use a smaller dataset, or extract it yourself and give the folder.", code="zip_too_many_files")
        declared = sum(i.file_size for i in infos)
        if declared > limits.max_zip_total_bytes:
            raise DataError(
                f"'{name}' would expand to {_fmt_bytes(declared)}, over the {_fmt_bytes(limits.max_zip_total_bytes)} limit.",
                "Use a smaller dataset, or extract it yourself and give the folder.", code="zip_too_large")
        if any(i.flag_bits & 0x1 for i in infos):
            raise DataError(f"'{name}' is encrypted (password-protected), so it cannot be read.",
                            "Re-create the zip without a password.", code="zip_encrypted")
        plan: list[tuple[zipfile.ZipInfo, list[str]]] = []
        skipped: list[SkippedFile] = []
        for info in infos:
            parts = _entry_parts(info.filename)  # checked for every entry, noise included
            if not parts or any(is_noise(p) for p in parts):
                continue
            if stat.S_ISLNK(info.external_attr >> 16):
                skipped.append(SkippedFile("/".join(parts), "unsupported_type", "symbolic link in the zip; links are never extracted"))
                continue
            if (not info.is_dir() and info.file_size > _BOMB_MIN_ENTRY
                    and info.file_size / max(info.compress_size, 1) > limits.max_zip_ratio):
                ratio = info.file_size / max(info.compress_size, 1)
                raise DataError(
                    f"'{name}' looks like a zip bomb: entry {short_name(info.filename)} expands {ratio:.0f} times "
                    f"({_fmt_bytes(info.compress_size)} -> {_fmt_bytes(info.file_size)}); nothing was extracted.",
                    "If the data is genuine, extract it yourself and give the folder.", code="zip_bomb")
            plan.append((info, parts))

        dest.mkdir(parents=True, exist_ok=True)
        base = dest.resolve()
        total = 0
        for info, parts in plan:
            target = base.joinpath(*parts)
            try:
                if info.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                written = 0
                with zf.open(info) as src, open(target, "wb") as out:
                    # Count real bytes: a lying header must not be able to fill the disk.
                    while chunk := src.read(2**20):
                        written += len(chunk)
                        total += len(chunk)
                        if written > info.file_size or total > limits.max_zip_total_bytes:
                            raise DataError(
                                f"'{name}' looks like a zip bomb: entry {short_name(info.filename)} produces more data than it declares.",
                                "Refusing to extract it; re-create the zip with a standard tool.", code="zip_bomb")
                        out.write(chunk)
            except DataError:
                raise
            except (zipfile.BadZipFile, EOFError, NotImplementedError, RuntimeError, ValueError) as e:
                raise DataError(f"'{name}' is damaged or uses an unsupported feature: entry {short_name(info.filename)}: {e}.",
                                "Re-create the zip with a standard tool (deflate compression, no password).",
                                code="bad_zip") from None
            except Exception as e:  # zlib.error, OSError (disk full, name too long, file/folder clash)
                detail = getattr(e, "strerror", None) or str(e) or type(e).__name__
                raise DataError(f"Could not extract entry {short_name(info.filename)} from '{name}': {detail}.",
                                "Check the free disk space, or extract the zip yourself and give the folder.",
                                code="zip_extract_failed") from None
    return find_root(dest), skipped


def safe_extract_zip(zip_path: str | Path, dest: str | Path, limits: DataLimits = DataLimits()) -> Path:
    """Extract a zip into ``dest`` refusing path escapes, links, bombs and encryption; return the dataset root."""
    return extract_zip(Path(zip_path), Path(dest), limits)[0]


