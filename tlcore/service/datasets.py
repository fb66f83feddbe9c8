"""Datasets for the app and the CLI: the lab's, uploads, folders under the data roots, and their reports."""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from pathlib import Path

from ..errors import DataError
from ..fsutil import locked, atomic_write, read_json, write_json_atomic
from ..paths import cache_dir, data_roots
from . import defaults

UPLOAD_NAME_RE = re.compile(r"[^A-Za-z0-9._-]+")


# ---------------------------------------------------------------------------
# Folders under the data roots


def _root_folders() -> dict[str, Path]:
    """Label -> folder for every visible folder directly inside a data root that stays inside it."""
    out: dict[str, Path] = {}
    for root in data_roots():
        if not root.is_dir():
            continue
        for d in sorted(root.iterdir()):
            if d.name.startswith(".") or not d.is_dir():
                continue
            resolved = d.resolve()
            if resolved.parent == root:  # a link that leads elsewhere is not offered
                out.setdefault(f"{root.name}/{d.name}", resolved)
    return out


def list_root_folders() -> list[str]:
    """Dataset folders directly inside the configured roots, as ``root-name/folder`` labels."""
    return list(_root_folders())


def resolve_root_folder(label: str) -> Path:
    """The folder behind a label from :func:`list_root_folders`; anything else (a typed path) is refused."""
    folder = _root_folders().get(label)
    if folder is None:
        raise DataError(f"'{label}' is not a dataset folder under the configured data roots.",
                        "Pick one from the list; the server's administrator sets the roots with TLCORE_DATA_ROOTS.",
                        code="not_in_roots")
    return folder


# ---------------------------------------------------------------------------
# The lab and uploads


def lab_dataset(similarity: float, per_class: int, seed: int | None = None, val_per_class: int | None = None) -> Path:
    """The lab dataset for these dials, written once into the cache and reused."""
    from ..lab.world import world_fingerprint, write_imagefolder

    seed = defaults.LAB_SEED if seed is None else int(seed)
    val = int(val_per_class or defaults.LAB_VAL_PER_CLASS)
    s = round(float(similarity), 2)
    # The world's fingerprint is in the name: after a change to the world, nothing older is reused.
    out = cache_dir() / "lab" / f"s{s:.2f}-n{int(per_class)}-v{val}-seed{seed}-w{world_fingerprint()}"
    if (out / "lab.json").is_file():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    # Write aside, then rename: two sessions asking at once never see half a dataset.
    tmp = Path(tempfile.mkdtemp(prefix=".lab-", dir=out.parent))
    try:
        write_imagefolder(tmp, s, int(per_class), seed=seed, val_per_class=val)
        try:
            os.rename(tmp, out)
        except OSError:
            if not (out / "lab.json").is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def make_lab_dataset(out: Path, similarity: float, per_class: int, seed: int = 0, val_per_class: int = 100,
                     num_classes: int = 6) -> dict:
    """``python -m tlcore lab make``: write a lab dataset as an image folder at ``out``. Raises ConfigError."""
    from ..errors import ConfigError
    from ..lab.world import write_imagefolder

    if not 0.0 <= similarity <= 1.0:
        raise ConfigError(f"--similarity must be between 0 and 1, not {similarity}.")
    if per_class < 2:
        raise ConfigError(f"--per-class must be at least 2, not {per_class}.")
    path = write_imagefolder(Path(out), similarity, per_class, seed=seed, val_per_class=val_per_class,
                             num_classes=num_classes)
    return {"path": str(path), "similarity": similarity, "per_class": per_class, "seed": seed}


def save_upload(name: str, data: bytes) -> Path:
    """Store an uploaded .zip in the cache, extract it safely once, and return the dataset folder.

    The same bytes uploaded by several sessions at once are stored and extracted once (under a
    lock); the others wait and share the result. Raises DataError for an unusable zip.
    """
    from ..data import EXTRACTION_VERSION, open_dataset

    if not data:
        raise DataError(f"'{name}' is empty.", "Upload a .zip of a folder with one subfolder per class.", code="empty_upload")
    # The extraction's version is in the key: a newer extractor (better name decoding) never reuses an older result.
    digest = f"{hashlib.sha256(data).hexdigest()[:16]}-x{EXTRACTION_VERSION}"
    base = cache_dir() / "uploads" / digest
    marker = base / "dataset.json"
    with locked(cache_dir() / "uploads" / f".{digest}.lock"):
        known = read_json(marker, None)
        if known and Path(known.get("root", "")).is_dir():
            return Path(known["root"])
        shutil.rmtree(base, ignore_errors=True)  # what a crash mid-way left behind
        base.mkdir(parents=True)
        safe = UPLOAD_NAME_RE.sub("_", Path(name).name)[-100:] or "upload.zip"
        if not safe.lower().endswith(".zip"):
            safe += ".zip"
        zip_path = base / safe
        atomic_write(zip_path, lambda tmp: Path(tmp).write_bytes(data))
        try:
            report = open_dataset(zip_path, work_dir=base / "extracted")
        except BaseException:
            shutil.rmtree(base, ignore_errors=True)
            raise
        write_json_atomic(marker, {"name": name, "root": report.root})
    from .. import diskcache

    diskcache.evict(protected=[base])  # keep the cache within TLCORE_CACHE_MAX_GB, least recently used first
    return Path(report.root)


def open_data(path: str | Path):
    """Check a dataset folder: a tlcore.data.DatasetReport."""
    from ..data import open_dataset

    return open_dataset(path)


def lab_info(path: str | Path) -> dict | None:
    """The dials a lab dataset was made with (its lab.json), or None for other data."""
    return read_json(Path(path) / "lab.json", None)


def sample_images(report, per_class: int = 6) -> dict[str, list[str]]:
    """A few image paths per class (from the training split) for a preview grid."""
    out: dict[str, list[str]] = {c: [] for c in report.classes}
    for path, label in list(report.train) + list(report.val):
        bucket = out[report.classes[label]]
        if len(bucket) < per_class:
            bucket.append(path)
    return out


#: The backbone the app and the CLI pick for a user's own data (uploads, folders, the built-in photos):
#: a real ImageNet network whose weights install with the project, so it works offline.
USER_DATA_MODEL = "efficientnet_lite0"
#: The backbone for the lab world's data (they carry lab.json): the lab's own network.
LAB_MODEL = "labnet"


def default_model_for(path: str | Path) -> str:
    """labnet for lab datasets (they carry lab.json), efficientnet_lite0 otherwise."""
    p = Path(path)
    return LAB_MODEL if p.is_dir() and (p / "lab.json").exists() else USER_DATA_MODEL


def photo_dataset(per_class: int | None = None, val_per_class: int | None = None, size: int | None = None,
                  seed: int = 0) -> Path:
    """The built-in real-photo dataset (tlcore.photos: person vs object, cut from photos that ship inside
    installed packages), written once into the cache and reused. Raises DataError naming a missing package.
    """
    from .. import photos

    out = photo_dataset_path(per_class, val_per_class, size, seed)
    per_class, val, size = (int(v) for v in (per_class or photos.DEFAULT_PER_CLASS,
                                               val_per_class or photos.DEFAULT_VAL_PER_CLASS,
                                               size or photos.DEFAULT_SIZE))
    if (out / "photos.json").is_file():
        return out
    with locked(cache_dir() / "photos" / f".{out.name}.lock"):  # two sessions asking at once write it once
        if not (out / "photos.json").is_file():
            photos.make_photo_dataset(out, per_class, val, size, seed)
    return out


def photo_dataset_path(per_class: int | None = None, val_per_class: int | None = None, size: int | None = None,
                       seed: int = 0) -> Path:
    """Where :func:`photo_dataset` keeps the photo dataset of these settings (it may not be written yet)."""
    from .. import photos

    per_class = int(per_class or photos.DEFAULT_PER_CLASS)
    val = int(val_per_class or photos.DEFAULT_VAL_PER_CLASS)
    size = int(size or photos.DEFAULT_SIZE)
    return (cache_dir() / "photos" / f"n{per_class}-v{val}-s{size}-seed{seed}-p{photos.VERSION}").resolve()


def photo_info(path: str | Path) -> dict | None:
    """How the built-in photo dataset at ``path`` was made (its photos.json: sources, licenses), or None."""
    from ..photos import photo_info as _info

    return _info(path)


def inspect_dataset(path: str | Path) -> dict:
    """``python -m tlcore inspect --json``: the dataset report with the map's size category.

    ``images_per_class`` counts training images (validation set aside, see ``val_source``);
    ``size`` is judged on ``size_per_class`` (the smallest class's when ``imbalanced``).

    A zip is checked in a scratch folder that is removed afterwards: ``zip`` names it and ``root``
    is None (no folder of it persists); for a folder ``root`` is the folder.
    """
    from ..data import open_dataset
    from ..decision import is_size_borderline, size_category

    is_zip = Path(path).is_file()
    with tempfile.TemporaryDirectory(prefix="tlcore-inspect-") as scratch:
        report = open_dataset(path, work_dir=scratch if is_zip else None)
    out = report.to_json()
    if is_zip:
        out["zip"], out["root"] = str(Path(path).resolve()), None
    out["size"] = size_category(report.size_per_class)
    out["size_borderline"] = is_size_borderline(report.size_per_class)
    return out


# ---------------------------------------------------------------------------
# The cache


def touch_dataset(path: str | Path) -> None:
    """Mark a cached dataset as used now (a session has it open): eviction leaves it alone for a while."""
    from .. import diskcache

    diskcache.touch(path)


def cache_usage() -> dict:
    """What the cache holds: ``{"bytes", "limit_bytes", "kinds": {kind: bytes}, "entries"}`` (see tlcore.diskcache)."""
    from .. import diskcache

    return diskcache.usage()


def clear_cache(store=None, keep_in_use: bool = True) -> int:
    """Remove what can be made again (uploads, extracted zips, feature caches); returns the bytes freed.

    The data of queued and running runs is always kept; with ``keep_in_use`` so is what a
    session or a run used in the last half hour. Lab datasets and sets built in the browser stay.
    """
    from .. import diskcache

    active = [store.config(r.run_id).data for r in store.list() if r.active] if store is not None else []
    return diskcache.evict(limit=0, protected=active, recent_s=diskcache.RECENT_S if keep_in_use else 0.0)


# ---------------------------------------------------------------------------
# Dataset ids: a dataset named in a URL or a run record, never by its path

#: ``lab:s0.30-n100-v100-seed0`` (the lab's dials: drawn again if the cache lost it),
#: ``upload:<16 hex>-x<extraction version>`` (the upload cache's key), ``folder:<root>/<folder>``
#: (a folder under the data roots, as :func:`list_root_folders` labels it) and ``built:<name>``
#: (a dataset built in the app, kept in the cache's ``built/`` folder).
DATASET_KINDS = ("lab", "photos", "upload", "folder", "built")
_LAB_ID_RE = re.compile(r"^s(\d\.\d\d)-n(\d{1,6})-v(\d{1,6})-seed(\d{1,9})$")
_UPLOAD_ID_RE = re.compile(r"^[0-9a-f]{16}-x\d{1,4}$")
#: Validation images per class a lab id may ask for (drawing more on a URL's say-so would cost minutes).
LAB_ID_MAX_VAL = 1000


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(folder)
    except ValueError:
        return False
    return True


def dataset_id(path: str | Path) -> str | None:
    """The id of a dataset folder that the app can open again, or None (e.g. a folder given to the CLI).

    The id never contains a server path: see DATASET_KINDS. Resolve it with :func:`resolve_dataset`.
    """
    p = Path(path).resolve()
    cache = cache_dir()
    if p.parent == cache / "lab":
        lab = lab_info(p)
        if lab:
            return (f"lab:s{round(float(lab['similarity']), 2):.2f}-n{int(lab['per_class'])}"
                    f"-v{int(lab['val_per_class'])}-seed{int(lab['seed'])}")
    if p.parent == cache / "photos" and p == photo_dataset_path():
        return "photos:default"  # the built-in real photos, as the Data page offers them
    uploads = cache / "uploads"
    if _inside(p, uploads) and p != uploads:
        key = p.relative_to(uploads).parts[0]
        return f"upload:{key}" if _UPLOAD_ID_RE.match(key) else None
    from .builder import set_id

    sid = set_id(p)
    if sid:
        return f"built:{sid}"
    for label, folder in _root_folders().items():
        if folder == p:
            return f"folder:{label}"
    return None


def _gone(what: str, fix: str) -> DataError:
    return DataError(f"{what} is no longer on this server.", fix, code="dataset_gone")


def resolve_dataset(dataset_id: str) -> Path:
    """The dataset folder behind an id from :func:`dataset_id`; a lab id's dataset is drawn again if needed.

    Raises DataError with code ``bad_dataset_id`` (not an id this app makes; a path is never
    accepted) or ``dataset_gone`` (an upload or folder that was removed since; the message says what to do).
    """
    kind, _, rest = str(dataset_id).partition(":")
    if kind == "lab":
        m = _LAB_ID_RE.match(rest)
        if m:
            sim, per_class, val, seed = float(m[1]), int(m[2]), int(m[3]), int(m[4])
            if 0.0 <= sim <= 1.0 and 2 <= per_class <= max(defaults.LAB_PER_CLASS_OPTIONS) and 1 <= val <= LAB_ID_MAX_VAL:
                return lab_dataset(sim, per_class, seed=seed, val_per_class=val)
    elif kind == "photos" and rest == "default":
        return photo_dataset()
    elif kind == "upload" and _UPLOAD_ID_RE.match(rest):
        known = read_json(cache_dir() / "uploads" / rest / "dataset.json", None) or {}
        root = Path(known.get("root", "") or "/nonexistent")
        if root.is_dir() and _inside(root.resolve(), cache_dir() / "uploads" / rest):
            return root
        raise _gone(f"The uploaded dataset {known.get('name') or rest}",
                    "Upload its .zip again on the Data page (the server's cache was cleared or made room).")
    elif kind == "folder" and rest:
        folder = _root_folders().get(rest)
        if folder is None:
            raise _gone(f"The folder '{rest}'", "Pick a folder from the list on the Data page.")
        return folder
    elif kind == "built" and rest:
        from .builder import resolve_set

        try:
            return Path(resolve_set(rest))
        except DataError:
            raise _gone(f"The built dataset '{rest.split('/')[1] if '/' in rest else rest}'",
                        "Build it again on the Data page.") from None
    raise DataError(f"'{str(dataset_id)[:80]}' is not a dataset id.",
                    "Open the Data page and choose a dataset; links name datasets by id, never by path.",
                    code="bad_dataset_id")


def dataset_kind(dataset_id: str | None) -> str | None:
    """``lab``, ``upload``, ``folder`` or ``built`` for an id, else None."""
    kind = str(dataset_id or "").partition(":")[0]
    return kind if kind in DATASET_KINDS else None


def upload_name(dataset_id: str) -> str | None:
    """The file name an uploaded dataset was uploaded as (None if unknown or not an upload)."""
    kind, _, rest = str(dataset_id).partition(":")
    if kind != "upload" or not _UPLOAD_ID_RE.match(rest):
        return None
    return (read_json(cache_dir() / "uploads" / rest / "dataset.json", None) or {}).get("name")
