"""Datasets: safe zip extraction, per-file image checks, the train/val split and a decoded-image cache."""
from __future__ import annotations

import os
import random
import re
import shutil
import stat
import statistics
import tempfile
import threading
import warnings
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import ConfigError, DataError

if TYPE_CHECKING:  # torch is imported lazily: `inspect` should not pay for it
    import torch

IMAGE_EXTENSIONS: frozenset[str] = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff"})

#: PIL decoders allowed to open a file. Restricting them means content sniffing can
#: never hand a renamed EPS (Ghostscript) or other exotic format to its plugin.
_PIL_FORMATS = ("JPEG", "PNG", "BMP", "GIF", "WEBP", "TIFF")  # JPEG also opens MPO (camera) files

#: Entries that operating systems and tools leave behind; never data, never reported.
_NOISE_NAMES = frozenset({"__macosx", "thumbs.db", "desktop.ini", "$recycle.bin", "system volume information"})
_TRAIN_NAMES = ("train", "training")
_VAL_NAMES = ("val", "valid", "validation")

SKIP_REASONS = ("empty_file", "not_an_image", "unreadable", "truncated", "too_many_pixels", "unsupported_type")

IMBALANCE_RATIO = 3.0  # max/min class count above this -> "imbalance"
TINY_CLASS_IMAGES = 10  # a class with fewer images -> "tiny_class"
SMALL_IMAGE_SIDE = 32  # median short side below this (pixels) -> "small_images"
_CHECK_DRAFT = (64, 64)  # JPEGs are decoded at reduced scale when only checking them
_BOMB_MIN_ENTRY = 2**20  # the ratio test only applies to entries bigger than this

_OPEN_LOCK = threading.Lock()


@dataclass(frozen=True)
class DataLimits:
    """Safety limits for images and zip files."""

    max_image_pixels: int = 40_000_000
    max_zip_total_bytes: int = 4 * 2**30
    max_zip_files: int = 200_000
    max_zip_ratio: float = 200.0
    min_images_per_class: int = 2


@dataclass(frozen=True)
class SkippedFile:
    """A candidate file that is not used, and why."""

    path: str  # relative to the dataset root, posix separators
    reason: str  # one of SKIP_REASONS
    detail: str = ""


@dataclass
class DatasetReport:
    """What `open_dataset` found: classes, the split, skipped files and warnings."""

    root: str
    classes: list[str]
    class_counts: dict[str, int]
    train: list[tuple[str, int]]
    val: list[tuple[str, int]]
    val_source: str
    skipped: list[SkippedFile]
    warnings: list[dict]
    min_side_median: int

    @property
    def num_images(self) -> int:
        return len(self.train) + len(self.val)

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def images_per_class(self) -> float:
        return self.num_images / self.num_classes if self.classes else 0.0

    def to_json(self) -> dict:
        """A JSON-ready summary (paths of individual images are left out)."""
        return {
            "root": self.root,
            "classes": list(self.classes),
            "num_classes": self.num_classes,
            "num_images": self.num_images,
            "num_train": len(self.train),
            "num_val": len(self.val),
            "images_per_class": round(self.images_per_class, 2),
            "class_counts": dict(self.class_counts),
            "val_source": self.val_source,
            "min_side_median": self.min_side_median,
            "skipped": [asdict(s) for s in self.skipped],
            "warnings": [dict(w) for w in self.warnings],
        }


# ---------------------------------------------------------------------------
# Single images


_IMAGE_HINTS = {
    "empty_file": "The file is empty; copy it again or remove it.",
    "unsupported_type": "Only .jpg, .jpeg, .png, .bmp, .gif, .webp, .tif and .tiff files are used.",
    "not_an_image": "Re-export it as JPEG or PNG, or remove it.",
    "truncated": "The file ends early (an interrupted download or copy); copy it again.",
    "too_many_pixels": "Downscale it, or raise the pixel limit if the image is genuine.",
    "unreadable": "Check that the file can be opened, or re-export it.",
}


def _image_error(path: Path, reason: str, detail: str) -> DataError:
    err = DataError(f"Image '{path.name}' is unusable ({reason}): {detail}.", _IMAGE_HINTS[reason], code=reason)
    err.detail = detail  # for SkippedFile.detail
    return err


def _pixels_detail(w: int, h: int, limit: int) -> str:
    return f"{w}x{h} pixels, limit {limit}"


def _open_header(path: Path) -> Image.Image:
    """Image.open (header only), with PIL's DecompressionBombWarning silenced.

    Our own limit is checked from the header right after, so PIL's warning (at
    > 89 Mpx) is redundant; its hard error (> 179 Mpx) is caught by the caller.
    catch_warnings swaps process-wide state, hence the lock; parsing a header is
    quick, so serialising it costs little while decoding stays parallel.
    """
    with _OPEN_LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        return Image.open(path, formats=_PIL_FORMATS)


def _decode(path: Path, limits: DataLimits, draft_size: tuple[int, int] | None) -> tuple[Image.Image, tuple[int, int]]:
    """Open, size-check, decode and convert one file; return (RGB image, header size).

    Raises DataError whose code is one of SKIP_REASONS. Truncation is found by the
    full decode, which is why PIL's LOAD_TRUNCATED_IMAGES must stay False.
    """
    try:
        nbytes = path.stat().st_size
    except OSError as e:
        raise _image_error(path, "unreadable", f"cannot read the file ({e.strerror or e})") from None
    if nbytes == 0:
        raise _image_error(path, "empty_file", "0 bytes")
    ext = path.suffix.lower()
    if ext not in IMAGE_EXTENSIONS:
        raise _image_error(path, "unsupported_type", f"'{ext or 'no extension'}' is not an image type")
    try:
        with _open_header(path) as im:
            # Image.open only parses the header: refuse huge images before load() decodes them.
            w, h = im.size
            if w * h > limits.max_image_pixels:
                raise _image_error(path, "too_many_pixels", _pixels_detail(w, h, limits.max_image_pixels))
            if draft_size and im.format in ("JPEG", "MPO"):
                im.draft("RGB", draft_size)  # DCT scaling: a full decode, at a fraction of the cost
            im.load()  # decodes the first frame only (animated GIF/WebP, multi-page TIFF)
            return _to_rgb(_exif_transpose(im)), (w, h)
    except DataError:
        raise
    except UnidentifiedImageError:
        raise _image_error(path, "not_an_image", "not a JPEG, PNG, BMP, GIF, WebP or TIFF image") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        m = re.search(r"(\d+) pixels", str(e))
        detail = f"{m.group(1) if m else 'too many'} pixels, limit {limits.max_image_pixels}"
        raise _image_error(path, "too_many_pixels", detail) from None
    except EOFError as e:
        raise _image_error(path, "truncated", str(e) or "unexpected end of file") from None
    except OSError as e:
        msg = str(e)
        if e.errno is None and re.search(r"truncat|broken data stream|end of file", msg, re.I):
            raise _image_error(path, "truncated", msg) from None
        raise _image_error(path, "unreadable", e.strerror or msg or type(e).__name__) from None
    except Exception as e:  # decoders raise SyntaxError, ValueError, struct.error, zlib.error, MemoryError...
        raise _image_error(path, "unreadable", f"{type(e).__name__}: {e}") from None


def _exif_transpose(im: Image.Image) -> Image.Image:
    try:
        return ImageOps.exif_transpose(im)
    except Exception:  # malformed EXIF must not make an otherwise fine image unusable
        return im.copy()


def _grey_to_8bit(im: Image.Image) -> np.ndarray:
    """Scale 16-bit, 32-bit and float grey levels to 0..255 (PIL's convert would clip them to white)."""
    arr = np.asarray(im)
    if im.mode.startswith("I;16"):
        return (arr.astype(np.uint16) >> 8).astype(np.uint8)
    arr = np.nan_to_num(arr.astype(np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    lo, hi = float(arr.min()), float(arr.max())
    if im.mode == "F" and lo >= 0 and hi <= 1.0:
        lo, hi = 0.0, 1.0  # float images in 0..1
    elif lo >= 0 and hi <= 255:
        lo, hi = 0.0, 255.0  # already 8-bit values
    elif lo >= 0 and hi <= 65535:
        lo, hi = 0.0, 65535.0  # 16-bit values held in 32 bits
    # else: stretch the actual range
    if hi <= lo:
        return np.zeros(arr.shape, np.uint8)
    return np.clip((arr - lo) * (255.0 / (hi - lo)) + 0.5, 0, 255).astype(np.uint8)


def _to_rgb(im: Image.Image) -> Image.Image:
    """Any PIL mode -> RGB; transparency is composited on white."""
    mode = im.mode
    if mode.startswith("I;16") or mode in ("I", "F"):
        return Image.fromarray(_grey_to_8bit(im)).convert("RGB")
    has_alpha = "A" in mode or "a" in mode or "transparency" in im.info
    if mode == "P" and im.palette is not None and im.palette.mode == "RGBA":
        has_alpha = True
    if has_alpha:
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    if mode == "RGB":
        return im
    return im.convert("RGB")  # L, 1, P, CMYK, YCbCr, LAB, HSV, RGBX


def load_rgb(path: str | Path, limits: DataLimits = DataLimits(), *,
             draft_size: tuple[int, int] | None = None) -> Image.Image:
    """Load one image as RGB, EXIF orientation applied, first frame of animations.

    ``draft_size`` lets JPEGs decode at reduced scale (never below that size).
    Raises DataError with code "too_many_pixels", "not_an_image", "truncated", ...
    """
    return _decode(Path(path), limits, draft_size)[0]


def _check_file(path: Path, limits: DataLimits) -> int | DataError:
    """Fully decode one candidate; return its short side in pixels, or the reason it is unusable."""
    try:
        _, (w, h) = _decode(path, limits, _CHECK_DRAFT)
    except DataError as e:
        return e
    return min(w, h)


# ---------------------------------------------------------------------------
# Zip files


def _fmt_bytes(n: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} bytes"


def _is_noise(name: str) -> bool:
    return name.startswith(".") or name.lower() in _NOISE_NAMES


def _entry_parts(name: str) -> list[str]:
    """Split a zip entry name into safe path parts; refuse names that escape the destination."""
    n = name.replace("\\", "/")  # zips written on Windows may use backslashes
    if n.startswith("/") or re.match(r"^[A-Za-z]:", n) or "\x00" in n:
        raise _unsafe_entry(name)
    parts = [p for p in n.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise _unsafe_entry(name)
    return parts


def _short(name: str, limit: int = 80) -> str:
    return repr(name if len(name) <= limit else "..." + name[-(limit - 3):])


def _unsafe_entry(name: str) -> DataError:
    return DataError(
        f"The zip contains an unsafe entry {_short(name)} that points outside the extraction folder; nothing was extracted.",
        "Re-create the zip from the dataset folder itself; entries with '../', absolute paths or drive letters are refused.",
        code="zip_unsafe_path",
    )


def _extract_zip(zip_path: Path, dest: Path, limits: DataLimits) -> tuple[Path, list[SkippedFile]]:
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
            if not parts or any(_is_noise(p) for p in parts):
                continue
            if stat.S_ISLNK(info.external_attr >> 16):
                skipped.append(SkippedFile("/".join(parts), "unsupported_type", "symbolic link in the zip; links are never extracted"))
                continue
            if (not info.is_dir() and info.file_size > _BOMB_MIN_ENTRY
                    and info.file_size / max(info.compress_size, 1) > limits.max_zip_ratio):
                ratio = info.file_size / max(info.compress_size, 1)
                raise DataError(
                    f"'{name}' looks like a zip bomb: entry {_short(info.filename)} expands {ratio:.0f} times "
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
                                f"'{name}' looks like a zip bomb: entry {_short(info.filename)} produces more data than it declares.",
                                "Refusing to extract it; re-create the zip with a standard tool.", code="zip_bomb")
                        out.write(chunk)
            except DataError:
                raise
            except (zipfile.BadZipFile, EOFError, NotImplementedError, RuntimeError, ValueError) as e:
                raise DataError(f"'{name}' is damaged or uses an unsupported feature: entry {_short(info.filename)}: {e}.",
                                "Re-create the zip with a standard tool (deflate compression, no password).",
                                code="bad_zip") from None
            except Exception as e:  # zlib.error, OSError (disk full, name too long, file/folder clash)
                detail = getattr(e, "strerror", None) or str(e) or type(e).__name__
                raise DataError(f"Could not extract entry {_short(info.filename)} from '{name}': {detail}.",
                                "Check the free disk space, or extract the zip yourself and give the folder.",
                                code="zip_extract_failed") from None
    return _find_root(dest), skipped


def safe_extract_zip(zip_path: str | Path, dest: str | Path, limits: DataLimits = DataLimits()) -> Path:
    """Extract a zip into ``dest`` refusing path escapes, links, bombs and encryption; return the dataset root."""
    return _extract_zip(Path(zip_path), Path(dest), limits)[0]


# ---------------------------------------------------------------------------
# Folders


def _subdirs(folder: Path) -> list[Path]:
    try:
        entries = list(folder.iterdir())
    except OSError:
        return []
    return sorted((e for e in entries if not _is_noise(e.name) and e.is_dir()), key=lambda p: p.name)


def _find_root(root: Path) -> Path:
    """Descend through wrapper folders: a single subfolder that itself holds subfolders."""
    for _ in range(16):
        subs = _subdirs(root)
        if len(subs) != 1 or not _subdirs(subs[0]):
            break
        root = subs[0]
    return root


def _list_files(folder: Path) -> list[Path]:
    """Every non-noise file below folder, sorted; symlinked folders are not followed (no cycles)."""
    out: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not _is_noise(d))
        out.extend(Path(dirpath) / f for f in sorted(filenames) if not _is_noise(f))
    return out


def _find_split_dir(root: Path, names: Iterable[str]) -> Path | None:
    by_name = {d.name.lower(): d for d in _subdirs(root)}
    return next((by_name[n] for n in names if n in by_name), None)


def _names(items: list[str], limit: int = 10) -> str:
    shown = ", ".join(f"'{c}'" for c in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def open_dataset(path: str | Path, *, work_dir: str | Path | None = None, val_fraction: float = 0.2,
                 seed: int = 0, limits: DataLimits = DataLimits(),
                 progress: Callable[[int, int], None] | None = None) -> DatasetReport:
    """Check a folder or .zip dataset, split it and report what was found.

    A zip is extracted into a new folder (inside ``work_dir`` if given, else in the
    system temp dir) that is kept for training and removed if the dataset is refused.
    ``progress(done, total)`` is called while files are checked.
    """
    if not 0.0 < val_fraction < 1.0:
        raise ConfigError(f"val_fraction must be between 0 and 1, not {val_fraction}.", "Use e.g. 0.2 (20% for validation).",
                          code="val_fraction")
    p = Path(path).expanduser()
    if not p.exists():
        raise DataError(f"'{path}' does not exist.", "Check the path, or upload the dataset as a .zip file.", code="not_found")
    if p.is_dir():
        return _open_folder(_find_root(p), str(path), [], val_fraction, seed, limits, progress)
    if not (p.suffix.lower() == ".zip" or zipfile.is_zipfile(p)):
        raise DataError(f"'{p.name}' is neither a folder nor a .zip file.",
                        "Give a folder with one subfolder per class, or a .zip of such a folder.", code="not_a_dataset")
    if work_dir is not None:
        Path(work_dir).mkdir(parents=True, exist_ok=True)
    dest = Path(tempfile.mkdtemp(prefix="tl-dataset-", dir=work_dir))
    try:
        root, zip_skipped = _extract_zip(p, dest, limits)
        rel_root = root.resolve().relative_to(dest.resolve()).as_posix()
        for i, s in enumerate(zip_skipped):  # make entry paths relative to the dataset root
            if rel_root != "." and s.path.startswith(rel_root + "/"):
                zip_skipped[i] = SkippedFile(s.path[len(rel_root) + 1:], s.reason, s.detail)
        return _open_folder(root, p.name, zip_skipped, val_fraction, seed, limits, progress)
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)
        raise


def _open_folder(root: Path, shown: str, pre_skipped: list[SkippedFile], val_fraction: float, seed: int,
                 limits: DataLimits, progress: Callable[[int, int], None] | None) -> DatasetReport:
    """Scan, check and split an extracted or given folder; ``shown`` names it in messages."""
    root = root.absolute()
    train_dir = _find_split_dir(root, _TRAIN_NAMES)
    val_dir = _find_split_dir(root, _VAL_NAMES) if train_dir else None
    # groups: (split, class) -> candidate files; split is "train", "val" or "all"
    groups: dict[tuple[str, str], list[Path]] = {}
    empty_folders: list[str] = []
    if train_dir and val_dir:
        layout = [("train", train_dir), ("val", val_dir)]
    else:
        layout = [("all", train_dir or root)]  # a lone train/ folder is the class container
    for split, container in layout:
        for d in _subdirs(container):
            files = _list_files(d)
            if files:
                groups[(split, d.name)] = files
            else:
                empty_folders.append(d.relative_to(root).as_posix())

    all_files = [f for files in groups.values() for f in files]
    if not all_files:
        loose = [f for f in root.iterdir() if f.is_file() and f.suffix.lower() in IMAGE_EXTENSIONS and not _is_noise(f.name)]
        if loose:
            raise DataError(f"Found {len(loose)} images directly in '{shown}' but no class subfolders.",
                            "Put the images of each class in its own subfolder, e.g. cats/1.jpg and dogs/1.jpg.",
                            code="no_classes")
        raise DataError(f"No images found in '{shown}'.",
                        "Expected one subfolder per class with .jpg/.png/... images in it, e.g. cats/1.jpg and dogs/1.jpg.",
                        code="no_images")
    class_names = sorted({c for _, c in groups})
    if len(class_names) < 2:
        raise DataError(f"Found only 1 class ('{class_names[0]}'); at least 2 are needed.",
                        "Use one subfolder per class, e.g. cats/ and dogs/, each holding that class's images.",
                        code="too_few_classes")

    results = _check_all(all_files, limits, progress)
    usable: dict[tuple[str, str], list[tuple[str, int]]] = {}
    skipped = list(pre_skipped)
    for key, files in groups.items():
        for f in files:
            r = results[f]
            if isinstance(r, DataError):
                skipped.append(SkippedFile(f.relative_to(root).as_posix(), r.code, r.detail))
            else:
                usable.setdefault(key, []).append((str(f), r))
    skipped.sort(key=lambda s: s.path)
    if not usable:
        reasons = sorted({s.reason for s in skipped})
        raise DataError(f"None of the {len(all_files)} files could be used as images ({', '.join(reasons)}).",
                        "Check that the files are JPEG, PNG, BMP, GIF, WebP or TIFF images that open in an image viewer.",
                        code="no_images")

    def count(split: str, cls: str) -> int:
        return len(usable.get((split, cls), []))

    warns: list[dict] = []
    if empty_folders:
        warns.append({"code": "empty_folder", "params": {"folders": empty_folders}})
    if len(layout) == 2:
        val_only = [c for c in class_names if count("val", c) and not count("train", c)]
        if val_only:
            raise DataError(f"val/ has classes with no training images in train/: {_names(val_only)}.",
                            "The model cannot learn a class it never sees: add images for them under train/ or remove them from val/.",
                            code="val_class_not_in_train")
        no_val = [c for c in class_names if not count("val", c)]
        if no_val:
            warns.append({"code": "val_missing_class", "params": {"classes": no_val}})
    counts = {c: sum(count(s, c) for s, _ in layout) for c in class_names}
    need = max(1, limits.min_images_per_class)
    too_few = [c for c in class_names if counts[c] < need]
    if too_few:
        detail = ", ".join(f"'{c}': {counts[c]}" for c in too_few[:10])
        raise DataError(
            f"Class{'es' if len(too_few) > 1 else ''} {_names(too_few)} {'have' if len(too_few) > 1 else 'has'} fewer than "
            f"{need} usable images ({detail}).",
            f"Add images so every class has at least {need}, or remove {'those folders' if len(too_few) > 1 else 'that folder'}.",
            code="too_few_images")

    train: list[tuple[str, int]] = []
    val: list[tuple[str, int]] = []
    for label, cls in enumerate(class_names):
        if len(layout) == 2:
            train += [(p, label) for p, _ in usable.get(("train", cls), [])]
            val += [(p, label) for p, _ in usable.get(("val", cls), [])]
            continue
        paths = sorted(p for p, _ in usable[("all", cls)])
        random.Random(seed).shuffle(paths)  # per class, so adding a class does not reshuffle the others
        n = len(paths)
        n_val = min(max(1, round(n * val_fraction)), n - 1)  # >= 1 val and >= 1 train (when n >= 2)
        val += [(p, label) for p in sorted(paths[:n_val])]
        train += [(p, label) for p in sorted(paths[n_val:])]

    sides = [side for items in usable.values() for _, side in items]
    median_side = int(statistics.median(sides))
    lo_cls, hi_cls = min(class_names, key=counts.get), max(class_names, key=counts.get)
    if counts[hi_cls] > IMBALANCE_RATIO * counts[lo_cls]:
        warns.append({"code": "imbalance", "params": {
            "max_class": hi_cls, "max_count": counts[hi_cls], "min_class": lo_cls, "min_count": counts[lo_cls],
            "ratio": round(counts[hi_cls] / counts[lo_cls], 1)}})
    tiny = [c for c in class_names if counts[c] < TINY_CLASS_IMAGES]
    if tiny:
        warns.append({"code": "tiny_class", "params": {"classes": tiny, "threshold": TINY_CLASS_IMAGES}})
    if median_side < SMALL_IMAGE_SIDE:
        warns.append({"code": "small_images", "params": {"median_min_side": median_side, "threshold": SMALL_IMAGE_SIDE}})

    return DatasetReport(
        root=str(root), classes=class_names, class_counts=counts, train=train, val=val,
        val_source="folder" if len(layout) == 2 else "split", skipped=skipped, warnings=warns,
        min_side_median=median_side,
    )


def _check_all(files: list[Path], limits: DataLimits,
               progress: Callable[[int, int], None] | None) -> dict[Path, int | DataError]:
    """Check files on a few threads (PIL releases the GIL while decoding)."""
    workers = max(1, min(8, os.cpu_count() or 1, len(files)))
    out: dict[Path, int | DataError] = {}
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for i, (f, r) in enumerate(zip(files, pool.map(lambda f: _check_file(f, limits), files)), 1):
            out[f] = r
            if progress is not None and (i % 64 == 0 or i == len(files)):
                progress(i, len(files))
    return out


# ---------------------------------------------------------------------------
# Decoded-image cache


def _resize_center_crop(img: Image.Image, size: int) -> Image.Image:
    """Shorter side to ``size`` then a centred square crop (as torchvision's Resize + CenterCrop)."""
    w, h = img.size
    if w <= h:
        nw, nh = size, max(size, int(size * h / w))
    else:
        nw, nh = max(size, int(size * w / h)), size
    if (nw, nh) != (w, h):
        img = img.resize((nw, nh), Image.BILINEAR, reducing_gap=3.0)
    left, top = int(round((nw - size) / 2.0)), int(round((nh - size) / 2.0))
    return img.crop((left, top, left + size, top + size))


class ImageStore:
    """Images decoded once to uint8 (3, S, S) tensors and kept in memory when they fit the budget."""

    def __init__(self, paths: list[str], image_size: int, budget_bytes: int = 2 * 2**30,
                 limits: DataLimits = DataLimits()):
        if int(image_size) < 1:
            raise ConfigError(f"image_size must be a positive number of pixels, not {image_size}.", code="image_size")
        self.paths = [str(p) for p in paths]
        self.image_size = int(image_size)
        self.limits = limits
        self.budget_bytes = budget_bytes
        self.fits_in_memory = len(self.paths) * 3 * self.image_size**2 <= budget_bytes
        self._cache: list[torch.Tensor | None] = [None] * len(self.paths) if self.fits_in_memory else []
        self.decodes = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.paths)

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        del state["_lock"]
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def _decode(self, i: int) -> torch.Tensor:
        import torch

        s = self.image_size
        img = _resize_center_crop(load_rgb(self.paths[i], self.limits, draft_size=(s, s)), s)
        t = torch.from_numpy(np.array(img, dtype=np.uint8)).permute(2, 0, 1).contiguous()
        with self._lock:
            self.decodes += 1
        return t

    def get(self, i: int) -> torch.Tensor:
        """uint8 tensor (3, S, S); the cached tensor is shared, so do not modify it in place."""
        if self.fits_in_memory:
            t = self._cache[i]
            if t is None:
                t = self._cache[i] = self._decode(i)
            return t
        return self._decode(i)

    def get_batch(self, indices) -> torch.Tensor:
        """uint8 tensor (B, 3, S, S); images not yet cached are decoded on a few threads."""
        import torch

        idx = [int(i) for i in indices]
        have: dict[int, torch.Tensor] = {}
        missing = []
        for i in dict.fromkeys(idx):
            t = self._cache[i] if self.fits_in_memory else None
            if t is None:
                missing.append(i)
            else:
                have[i] = t
        if len(missing) > 1:
            with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1, len(missing))) as pool:
                decoded = list(pool.map(self._decode, missing))
        else:
            decoded = [self._decode(i) for i in missing]
        for i, t in zip(missing, decoded):
            have[i] = t
            if self.fits_in_memory:
                self._cache[i] = t
        if not idx:
            return torch.empty((0, 3, self.image_size, self.image_size), dtype=torch.uint8)
        return torch.stack([have[i] for i in idx])


def cache_dir() -> Path:
    """Where extracted uploads and generated lab datasets live (``TLCORE_CACHE_DIR``, default ./.tlcore-cache)."""
    return Path(os.environ.get("TLCORE_CACHE_DIR") or ".tlcore-cache")


def materialize_dataset(path: str | Path, limits: DataLimits = DataLimits()) -> Path:
    """A folder to train from: a folder as it is; a zip extracted once into the cache, keyed by its content.

    Training, measuring and inspecting the same zip then share one extraction
    instead of leaving a temp copy behind each time.
    """
    import hashlib

    p = Path(path).expanduser()
    if p.is_dir() or not p.exists():
        return p
    h = hashlib.sha1()
    with open(p, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    safe_stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in p.stem)[:40] or "data"
    final = cache_dir() / "datasets" / f"{safe_stem}-{h.hexdigest()[:12]}"
    if (final / ".complete").exists():
        return _find_root(final / "data")
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".extract-", dir=final.parent))
    try:
        root, _ = _extract_zip(p, tmp / "data", limits)
        (tmp / ".complete").write_text("ok")
        shutil.rmtree(final, ignore_errors=True)
        os.replace(tmp, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return _find_root(final / "data")
