"""Dataset folders: class subfolders, optional train/ and val/, per-file checks, the split and warnings."""
from __future__ import annotations

import os
import random
import shutil
import statistics
import tempfile
import unicodedata
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Iterable

from ..errors import ConfigError, DataError
from .archives import read_zip_notes, safe_extract_zip
from .headers import check_header
from .images import IMAGE_EXTENSIONS, check_file
from .limits import DataLimits, SkippedFile
from .tree import find_root, is_noise, list_files, subdirs

_TRAIN_NAMES = ("train", "training")
_VAL_NAMES = ("val", "valid", "validation")

IMBALANCE_RATIO = 3.0  # max/min class count above this -> "imbalance"
TINY_CLASS_IMAGES = 10  # a class with fewer images -> "tiny_class"
SMALL_IMAGE_SIDE = 32  # median short side below this (pixels) -> "small_images"


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
    val_fraction: float = 0.2  # of each class set aside for validation when val_source is "split"
    checked: str = "full"  # "full": every file decoded; "header": from headers (large folders, see data.headers)

    @property
    def num_images(self) -> int:
        return len(self.train) + len(self.val)

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def train_counts(self) -> dict[str, int]:
        """Training images per class (the validation images set aside are not counted)."""
        counts = [0] * len(self.classes)
        for _, label in self.train:
            counts[label] += 1
        return dict(zip(self.classes, counts))

    @property
    def images_per_class(self) -> float:
        """Training images per class on average: images to train on, validation set aside."""
        return len(self.train) / self.num_classes if self.classes else 0.0

    @property
    def imbalanced(self) -> bool:
        return any(w.get("code") == "imbalance" for w in self.warnings)

    @property
    def size_per_class(self) -> float:
        """The map's size input: training images per class; the smallest class's count when imbalanced.

        With imbalanced classes the smallest one limits what can be retrained without overfitting.
        """
        if self.imbalanced and self.classes:
            return float(min(self.train_counts.values()))
        return self.images_per_class

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
            "size_per_class": round(self.size_per_class, 2),
            "imbalanced": self.imbalanced,
            "class_counts": dict(self.class_counts),
            "train_counts": self.train_counts,
            "val_source": self.val_source,
            "val_fraction": self.val_fraction,
            "min_side_median": self.min_side_median,
            "skipped": [asdict(s) for s in self.skipped],
            "warnings": [dict(w) for w in self.warnings],
            "checked": self.checked,
        }



def _find_split_dir(root: Path, names: Iterable[str]) -> Path | None:
    by_name = {d.name.lower(): d for d in subdirs(root)}
    return next((by_name[n] for n in names if n in by_name), None)


def _names(items: list[str], limit: int = 10) -> str:
    shown = ", ".join(f"'{c}'" for c in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def open_dataset(path: str | Path, *, work_dir: str | Path | None = None, val_fraction: float = 0.2,
                 seed: int = 0, limits: DataLimits | None = None,
                 progress: Callable[[int, int], None] | None = None) -> DatasetReport:
    """Check a folder or .zip dataset, split it and report what was found.

    A zip is extracted into a new folder (inside ``work_dir`` if given, else in the
    system temp dir) that is kept for training and removed if the dataset is refused.
    Class names are the class folders' names in Unicode NFC; folders whose names differ
    only in normalization (macOS writes NFD) are one class, with a "merged_classes" warning.
    ``progress(done, total)`` is called while files are checked.
    """
    limits = limits or DataLimits()
    if not 0.0 < val_fraction < 1.0:
        raise ConfigError(f"val_fraction must be between 0 and 1, not {val_fraction}.", "Use e.g. 0.2 (20% for validation).",
                          code="val_fraction")
    p = Path(path).expanduser()
    if not p.exists():
        raise DataError(f"'{path}' does not exist.", "Check the path, or upload the dataset as a .zip file.", code="not_found")
    if p.is_dir():
        return _open_folder(find_root(p), str(path), val_fraction, seed, limits, progress)
    if not (p.suffix.lower() == ".zip" or zipfile.is_zipfile(p)):
        raise DataError(f"'{p.name}' is neither a folder nor a .zip file.",
                        "Give a folder with one subfolder per class, or a .zip of such a folder.", code="not_a_dataset")
    if work_dir is not None:
        Path(work_dir).mkdir(parents=True, exist_ok=True)
    dest = Path(tempfile.mkdtemp(prefix="tl-dataset-", dir=work_dir))
    try:
        root = safe_extract_zip(p, dest, limits)
        return _open_folder(root, p.name, val_fraction, seed, limits, progress)
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)
        raise


def _nfc(name: str) -> str:
    return unicodedata.normalize("NFC", name)


def _open_folder(root: Path, shown: str, val_fraction: float, seed: int,
                 limits: DataLimits, progress: Callable[[int, int], None] | None) -> DatasetReport:
    """Scan, check and split an extracted or given folder; ``shown`` names it in messages."""
    root = root.absolute()
    notes = read_zip_notes(root)  # a folder extracted from a zip: what extraction had to say
    merged_in_zip = set(notes["merged_folders"])
    train_dir = _find_split_dir(root, _TRAIN_NAMES)
    val_dir = _find_split_dir(root, _VAL_NAMES) if train_dir else None
    # groups: (split, class) -> candidate files; split is "train", "val" or "all"
    groups: dict[tuple[str, str], list[Path]] = {}
    spellings: dict[tuple[str, str], set[str]] = {}  # (split, NFC class name) -> its folders' names
    empties: list[tuple[tuple[str, str], str]] = []
    zip_merged: set[str] = set()
    if train_dir and val_dir:
        layout = [("train", train_dir), ("val", val_dir)]
    else:
        layout = [("all", train_dir or root)]  # a lone train/ folder is the class container
    for split, container in layout:
        for d in subdirs(container):
            files = list_files(d)
            key, rel = (split, _nfc(d.name)), _nfc(d.relative_to(root).as_posix())
            if not files:
                empties.append((key, rel))
                continue
            groups.setdefault(key, []).extend(files)
            spellings.setdefault(key, set()).add(d.name)
            if rel in merged_in_zip:  # merged when the zip was extracted
                zip_merged.add(key[1])
    merged = sorted({cls for (_, cls), names in spellings.items() if len(names) > 1} | zip_merged)
    empty_folders = [rel for key, rel in empties if key not in groups]  # an empty twin of a class is not news

    all_files = [f for files in groups.values() for f in files]
    if not all_files:
        loose = [f for f in root.iterdir() if f.is_file() and f.suffix.lower() in IMAGE_EXTENSIONS and not is_noise(f.name)]
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

    full = len(all_files) <= limits.full_check_max_files
    results = _check_all(all_files, limits, progress, full=full)
    usable: dict[tuple[str, str], list[tuple[str, int]]] = {}
    skipped = list(notes["skipped"])
    for key, files in groups.items():
        for f in files:
            r = results[f]
            if isinstance(r, DataError):
                skipped.append(SkippedFile(_nfc(f.relative_to(root).as_posix()), r.code, r.detail))
            else:
                usable.setdefault(key, []).append((str(f), r))
    skipped.sort(key=lambda s: s.path)
    if not usable:
        reasons = sorted({s.reason for s in skipped})
        raise DataError(f"None of the {len(all_files)} files could be used as images ({', '.join(reasons)}).",
                        "Check that the files are JPEG, PNG, BMP, GIF, WebP, TIFF or HEIC images that open in an image viewer.",
                        code="no_images")

    def count(split: str, cls: str) -> int:
        return len(usable.get((split, cls), []))

    warns: list[dict] = list(notes["warnings"])
    if merged:
        warns.append({"code": "merged_classes", "params": {"classes": merged}})
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
        min_side_median=median_side, val_fraction=val_fraction, checked="full" if full else "header",
    )


def _check_all(files: list[Path], limits: DataLimits, progress: Callable[[int, int], None] | None,
               full: bool = True) -> dict[Path, int | DataError]:
    """Check files on a few threads (PIL releases the GIL while decoding); ``full``: decode each, else headers."""
    check = check_file if full else check_header
    workers = max(1, min(8 if full else 16, (os.cpu_count() or 1) * (1 if full else 4), len(files)))
    out: dict[Path, int | DataError] = {}
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for i, (f, r) in enumerate(zip(files, pool.map(lambda f: check(f, limits), files)), 1):
            out[f] = r
            if progress is not None and (i % 64 == 0 or i == len(files)):
                progress(i, len(files))
    return out


