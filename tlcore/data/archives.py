"""Zip archives: safe extraction (no path escapes, links, bombs or encryption)."""
from __future__ import annotations

import errno
import re
import stat
import unicodedata
import zipfile
import zlib
from pathlib import Path

from ..errors import DataError
from ..fsutil import read_json, write_json_atomic
from .limits import DataLimits, SkippedFile
from .tree import find_root, is_noise, short_name
from .zipnames import DecodedNames, decode_names

_BOMB_MIN_ENTRY = 2**20  # the ratio test only applies to entries bigger than this
_DISK_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}

#: Written into the root of an extracted zip (a dotfile: never data) when the report should say
#: something about the zip itself; read back by open_dataset on that folder, however it is reached.
ZIP_NOTES = ".tlcore-zip.json"


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


def _is_folder_entry(name: str, info: zipfile.ZipInfo) -> bool:
    """A folder entry: its name ends in a separator ('data/', or 'data\\' from Windows tools) or DOS marks it one."""
    return name.endswith(("/", "\\")) or bool(info.external_attr & 0x10 and info.file_size == 0)


def _numbered(parts: list[str], taken: dict) -> list[str]:
    """parts with ' (2)', ' (3)' ... before the suffix of the last one, so that it is not in ``taken``."""
    stem, dot, ext = parts[-1].rpartition(".")
    stem, ext = (stem, dot + ext) if stem else (parts[-1], "")
    n = 2
    while tuple(new := parts[:-1] + [f"{stem} ({n}){ext}"]) in taken:
        n += 1
    return new


def _extract_error(zip_name: str, entry: str, e: OSError) -> DataError:
    """An accurate message for a failed write: the disk-space hint only for a full disk."""
    what = f"Could not extract entry {short_name(entry)} from '{zip_name}'"
    reason = e.strerror or str(e) or type(e).__name__
    if e.errno in _DISK_FULL:
        return DataError(f"{what}: the disk is full ({reason}).",
                         "Free some disk space (or raise your disk quota), or extract the zip yourself and give the folder.",
                         code="zip_disk_full")
    if e.errno in (errno.EEXIST, errno.ENOTDIR, errno.EISDIR):
        return DataError(f"{what}: a file and a folder have the same name ({reason}).",
                         "Rename one of them and re-create the zip.", code="zip_name_clash")
    if e.errno == errno.ENAMETOOLONG:
        return DataError(f"{what}: the name is too long for this file system.",
                         "Shorten the folder and file names and re-create the zip.", code="zip_name_too_long")
    if e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return DataError(f"{what}: the extraction folder is not writable ({reason}).",
                         "Check the permissions of the data cache folder (TLCORE_CACHE_DIR), or extract the zip "
                         "yourself and give the folder.", code="zip_extract_failed")
    return DataError(f"{what}: {reason}.", "Extract the zip yourself and give the folder.", code="zip_extract_failed")


def _plan(zip_name: str, infos: list[zipfile.ZipInfo],
          limits: DataLimits) -> tuple[list, list[SkippedFile], DecodedNames, list[tuple[str, ...]]]:
    """Decide every write from the central directory: (entries, links skipped, names, merged folders)."""
    decoded = decode_names(infos)
    plan: list[tuple[zipfile.ZipInfo, str, list[str], bool]] = []
    skipped: list[SkippedFile] = []
    files: dict[tuple[str, ...], tuple[str, ...]] = {}  # NFC path -> the spelling it came from
    folders: dict[tuple[str, ...], set[str]] = {}  # NFC folder path -> spellings of its last part
    for info, raw_name in zip(infos, decoded.names):
        raw_parts = _entry_parts(raw_name)  # checked for every entry, noise included
        parts = [unicodedata.normalize("NFC", p) for p in raw_parts]
        if not parts or any(is_noise(p) for p in parts):
            continue
        is_folder = _is_folder_entry(raw_name, info)
        for k in range(1, len(parts) + is_folder):
            folders.setdefault(tuple(parts[:k]), set()).add(raw_parts[k - 1])
        shown = "/".join(parts)
        if is_folder:
            plan.append((info, shown, parts, True))
            continue
        if stat.S_ISLNK(info.external_attr >> 16):
            skipped.append(SkippedFile(shown, "unsupported_type", "symbolic link in the zip; links are never extracted"))
            continue
        if (info.file_size > _BOMB_MIN_ENTRY
                and info.file_size / max(info.compress_size, 1) > limits.max_zip_ratio):
            ratio = info.file_size / max(info.compress_size, 1)
            raise DataError(
                f"'{zip_name}' looks like a zip bomb: entry {short_name(shown)} expands {ratio:.0f} times "
                f"({_fmt_bytes(info.compress_size)} -> {_fmt_bytes(info.file_size)}); nothing was extracted.",
                "If the data is genuine, extract it yourself and give the folder.", code="zip_bomb")
        key = tuple(parts)
        if key in files and files[key] != tuple(raw_parts):
            parts = _numbered(parts, files)  # 'é.png' twice, in NFC and NFD: keep both
            key = tuple(parts)
        files[key] = tuple(raw_parts)  # the same spelling twice: the later entry wins, as with unzip
        plan.append((info, shown, parts, False))
    clash = sorted(set(files) & set(folders))
    if clash:
        raise DataError(f"'{zip_name}' has both a file and a folder named {short_name('/'.join(clash[0]))}; "
                        "they cannot both be extracted, so nothing was.",
                        "Rename one of them and re-create the zip.", code="zip_name_clash")
    merged = sorted(path for path, spellings in folders.items() if len(spellings) > 1)
    return plan, skipped, decoded, merged


def safe_extract_zip(zip_path: str | Path, dest: str | Path, limits: DataLimits | None = None) -> Path:
    """Extract a zip into ``dest`` refusing path escapes, links, bombs and encryption; return the dataset root.

    Names are decoded (UTF-8, or one guessed legacy encoding; see zipnames.py) and NFC-normalized.
    What the report should say about the zip (a guessed encoding, merged folders, skipped links)
    is written beside the data, in ZIP_NOTES (see read_zip_notes).
    """
    zip_path, dest, limits = Path(zip_path), Path(dest), limits or DataLimits()
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
        plan, skipped, decoded, merged = _plan(name, infos, limits)

        dest.mkdir(parents=True, exist_ok=True)
        base = dest.resolve()
        total = 0
        for info, shown, parts, is_folder in plan:
            target = base.joinpath(*parts)
            try:
                if is_folder:
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
                                f"'{name}' looks like a zip bomb: entry {short_name(shown)} produces more data than it declares.",
                                "Refusing to extract it; re-create the zip with a standard tool.", code="zip_bomb")
                        out.write(chunk)
            except DataError:
                raise
            except OSError as e:  # disk full, name too long, not writable, a file/folder clash
                raise _extract_error(name, shown, e) from None
            except (zipfile.BadZipFile, EOFError, NotImplementedError, RuntimeError, ValueError, zlib.error) as e:
                raise DataError(f"'{name}' is damaged or uses an unsupported feature: entry {short_name(shown)}: {e}.",
                                "Re-create the zip with a standard tool (deflate compression, no password).",
                                code="bad_zip") from None
    root = find_root(dest)
    _write_notes(name, base, root.resolve(), skipped, decoded, merged)
    return root


def _write_notes(zip_name: str, base: Path, root: Path, skipped: list[SkippedFile], decoded: DecodedNames,
                 merged: list[tuple[str, ...]]) -> None:
    """ZIP_NOTES in the dataset root, with paths relative to it; only when there is something to say."""
    rel = root.relative_to(base).parts
    prefix = "/".join(rel) + "/" if rel else ""
    notes = {
        "zip": zip_name,
        "warnings": [w] if (w := decoded.warning()) else [],
        "skipped": [{"path": s.path[len(prefix):] if prefix and s.path.startswith(prefix) else s.path,
                     "reason": s.reason, "detail": s.detail} for s in skipped],
        "merged_folders": ["/".join(p[len(rel):]) for p in merged if p[:len(rel)] == rel and len(p) > len(rel)],
    }
    if notes["warnings"] or notes["skipped"] or notes["merged_folders"]:
        try:
            write_json_atomic(root / ZIP_NOTES, notes)
        except OSError as e:
            raise _extract_error(zip_name, ZIP_NOTES, e) from None


def read_zip_notes(root: Path) -> dict:
    """What extraction noted about the zip a folder came from: {"warnings", "skipped", "merged_folders"}."""
    notes = read_json(Path(root) / ZIP_NOTES, None)
    if not isinstance(notes, dict):
        return {"warnings": [], "skipped": [], "merged_folders": []}
    def listed(key: str, kind: type) -> list:
        value = notes.get(key)
        return [v for v in value if isinstance(v, kind)] if isinstance(value, list) else []
    skipped = [SkippedFile(str(s.get("path", "")), str(s.get("reason", "unsupported_type")), str(s.get("detail", "")))
               for s in listed("skipped", dict)]
    return {"warnings": listed("warnings", dict), "skipped": skipped, "merged_folders": listed("merged_folders", str)}
