"""Drafts: a session's own classes and images, each image decoded, turned upright and scaled once."""
from __future__ import annotations

import hashlib
import io
import json
import os
import secrets
import shutil
import tempfile
import time
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterable

from ...errors import DataError
from ...fsutil import atomic_write, locked, read_json, write_json_atomic
from ...paths import cache_dir

from .common import (
    AddOutcome,
    DRAFT_KEEP_S,
    Draft,
    DraftClass,
    DraftImage,
    DraftLimits,
    EMPTY_DRAFT_KEEP_S,
    JPEG_QUALITY,
    MAX_SIDE,
    MB,
    SavedSet,
    THUMB_QUALITY,
    THUMB_SIDE,
    _CHUNK,
    _DRAFT_ID_RE,
    _JOINERS,
    _KEY_RE,
    _error,
    _nfc,
    clean_name,
)

# ---------------------------------------------------------------------------
# Drafts on disk


def _drafts_root() -> Path:
    return cache_dir() / "builder" / "drafts"


def _built_root() -> Path:
    return cache_dir() / "built"


def _private_root(m: dict) -> Path:
    """The folder of a draft's unshared saved sets (``m``: its manifest)."""
    return _built_root() / ".private" / m["private_key"]


def _draft_dir(draft_id: str) -> Path:
    if not isinstance(draft_id, str) or not _DRAFT_ID_RE.match(draft_id):
        raise _error("draft_not_found", "That draft id is not valid.", "Start a new draft.")
    return _drafts_root() / draft_id


def _read(d: Path) -> dict:
    m = read_json(d / "draft.json", None)
    if not isinstance(m, dict) or not isinstance(m.get("classes"), list):
        raise _error("draft_not_found", "This draft no longer exists.",
                     f"Drafts untouched for {DRAFT_KEEP_S // 86400} days are removed; start a new one.")
    return m


def _write(d: Path, m: dict) -> None:
    m["updated"] = time.time()
    write_json_atomic(d / "draft.json", m)


def _digest(m: dict) -> str:
    content = sorted((c["name"], sorted(i["stored_sha"] for i in c["images"])) for c in m["classes"])
    return hashlib.sha256(json.dumps(content, ensure_ascii=False).encode()).hexdigest()[:16]


def _view(draft_id: str, d: Path, m: dict, limits: DraftLimits | None) -> Draft:
    classes = tuple(
        DraftClass(c["name"], tuple(
            DraftImage(i["id"], i["name"], i["source"], str(d / "images" / f"{i['id']}.jpg"),
                       str(d / "thumbs" / f"{i['id']}.jpg"), i["bytes"], i["width"], i["height"])
            for i in c["images"]))
        for c in m["classes"])
    saved = m.get("saved")
    saved_set = None
    if saved and Path(saved.get("path", "")).is_dir():
        saved_set = SavedSet(saved["name"], bool(saved["shared"]), saved["path"], dict(saved["class_counts"]),
                             saved["saved_at"], saved["digest"])
    return Draft(draft_id, classes, limits or DraftLimits(), _digest(m), saved_set)


def new_draft() -> str:
    """Start an empty draft; returns its id (random, 16 URL-safe characters). Old drafts are pruned first."""
    prune_drafts()
    while True:
        draft_id = secrets.token_urlsafe(12)
        d = _draft_dir(draft_id)
        if not d.exists():
            break
    (d / "images").mkdir(parents=True)
    (d / "thumbs").mkdir()
    _write(d, {"version": 1, "id": draft_id, "private_key": secrets.token_urlsafe(12), "created": time.time(),
               "next": 1, "classes": []})
    return draft_id


def draft_exists(draft_id: str | None) -> bool:
    """Whether ``draft_id`` is a well-formed id of a draft on disk (never raises)."""
    try:
        return bool(draft_id) and (_draft_dir(draft_id) / "draft.json").is_file()
    except DataError:
        return False


def open_draft(draft_id: str, limits: DraftLimits | None = None) -> Draft:
    """The draft's classes and images. Raises DataError ``draft_not_found``."""
    d = _draft_dir(draft_id)
    return _view(draft_id, d, _read(d), limits)


def prune_drafts(now: float | None = None) -> int:
    """Remove drafts untouched for DRAFT_KEEP_S (empty ones after EMPTY_DRAFT_KEEP_S) and their private sets.

    Shared sets stay. Returns how many drafts were removed.
    """
    now = time.time() if now is None else now
    root = _drafts_root()
    if not root.is_dir():
        return 0
    removed = 0
    for d in root.iterdir():
        if not _DRAFT_ID_RE.match(d.name):
            continue
        m = read_json(d / "draft.json", None)
        try:
            age = now - (d / "draft.json").stat().st_mtime
        except OSError:
            age = now - d.stat().st_mtime  # a draft whose start was interrupted
        empty = not m or not any(c.get("images") for c in m.get("classes", []))
        if age > (EMPTY_DRAFT_KEEP_S if empty else DRAFT_KEEP_S):
            shutil.rmtree(d, ignore_errors=True)
            if m and _KEY_RE.match(str(m.get("private_key", ""))):
                shutil.rmtree(_private_root(m), ignore_errors=True)
            (root / f".{d.name}.lock").unlink(missing_ok=True)
            removed += 1
    return removed


@contextmanager
def _editing(draft_id: str):
    """The draft's manifest, locked; written back when the block ends without an error."""
    d = _draft_dir(draft_id)
    with locked(d.parent / f".{draft_id}.lock"):
        m = _read(d)
        yield d, m
        _write(d, m)


def _find_class(m: dict, name: str) -> dict:
    name = _nfc(name).strip()
    for c in m["classes"]:
        if c["name"] == name:
            return c
    raise _error("class_not_found", f"There is no class '{name}' in this draft.", "Pick one from the list.", name=name)


# ---------------------------------------------------------------------------
# Classes


def add_class(draft_id: str, name: str, limits: DraftLimits | None = None) -> Draft:
    """Add an empty class. Raises DataError: a bad name (see clean_name), ``class_exists`` (names are
    compared ignoring case, as some file systems do), ``too_many_classes``."""
    limits = limits or DraftLimits()
    name = clean_name(name)
    with _editing(draft_id) as (d, m):
        _check_free(m, name)
        if len(m["classes"]) >= limits.max_classes:
            raise _error("too_many_classes", f"A draft holds at most {limits.max_classes} classes.",
                         "Delete a class before adding another.", limit=limits.max_classes)
        m["classes"].append({"name": name, "images": []})
    return _view(draft_id, d, m, limits)


def _check_free(m: dict, name: str, other_than: str | None = None) -> None:
    for c in m["classes"]:
        if c["name"] != other_than and c["name"].casefold() == name.casefold():
            raise _error("class_exists", f"There is already a class '{c['name']}'.",
                         "Use another name (names that differ only in capitals count as the same).", name=c["name"])


def rename_class(draft_id: str, old: str, new: str) -> Draft:
    """Rename a class, keeping its images. Raises DataError (a bad or taken name, ``class_not_found``)."""
    new = clean_name(new)
    with _editing(draft_id) as (d, m):
        c = _find_class(m, old)
        _check_free(m, new, other_than=c["name"])
        c["name"] = new
    return _view(draft_id, d, m, None)


def delete_class(draft_id: str, name: str) -> Draft:
    """Delete a class and its images. Raises DataError ``class_not_found``."""
    with _editing(draft_id) as (d, m):
        c = _find_class(m, name)
        m["classes"].remove(c)
        for i in c["images"]:
            _unlink_image(d, i["id"])
    return _view(draft_id, d, m, None)


# ---------------------------------------------------------------------------
# Images


def _unlink_image(d: Path, image_id: str) -> None:
    for sub in ("images", "thumbs"):
        try:
            (d / sub / f"{image_id}.jpg").unlink()
        except FileNotFoundError:
            pass


def _shown_name(name: str) -> str:
    base = _nfc(str(name)).replace("\\", "/").rsplit("/", 1)[-1].strip()
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C" or ch in _JOINERS)
    return (base if len(base) <= 120 else base[:57] + "..." + base[-60:]) or "image"


def _jpeg(img, quality: int) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def _prepare(tmp_dir: Path, data: bytes) -> dict | DataError:
    """Decode one file with the data package's checks and re-encode it: the record to commit, or why not."""
    from PIL import Image, ImageOps

    from ...data import DataLimits, load_rgb

    fd, tmp = tempfile.mkstemp(dir=tmp_dir, prefix=".add-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        try:
            # JPEGs (and HEIC thumbnails) decode at reduced scale, never below MAX_SIDE.
            img = load_rgb(tmp, DataLimits(), draft_size=(MAX_SIDE, MAX_SIDE))
        except DataError as e:
            return e
        img.thumbnail((MAX_SIDE, MAX_SIDE), Image.LANCZOS)
        width, height = img.size
        stored = _jpeg(img, JPEG_QUALITY)
        thumb = ImageOps.fit(img, (THUMB_SIDE, THUMB_SIDE), Image.LANCZOS)  # square: thumbnails line up in a grid
        return {"sha": hashlib.sha256(data).hexdigest(), "stored": stored,
                "stored_sha": hashlib.sha256(stored).hexdigest(), "thumb": _jpeg(thumb, THUMB_QUALITY),
                "width": width, "height": height}
    finally:
        os.unlink(tmp)


def add_images(draft_id: str, class_name: str, files: Iterable[tuple[str, bytes]], *, source: str = "upload",
               limits: DraftLimits | None = None,
               progress: Callable[[int, int], None] | None = None) -> list[AddOutcome]:
    """Add files (``(original name, bytes)``) to a class; one AddOutcome per file, in order.

    Each file is checked and decoded by tlcore.data (JPEG, PNG, WebP, HEIC/HEIF, ... by content),
    turned upright, scaled to at most MAX_SIDE pixels and stored as JPEG. A file is not used when
    it is not a usable image (the data package's reason, e.g. ``not_an_image``), is already in the
    draft (``duplicate``, with the class it is in), or would take the draft past its limits
    (``draft_full``), or could not be written (``not_stored``, e.g. a full disk). Raises DataError only for the draft or class itself (``draft_not_found``,
    ``class_not_found``). ``progress(done, total)`` is called as files are done.
    """
    limits = limits or DraftLimits()
    files = list(files)
    d = _draft_dir(draft_id)
    target = _find_class(_read(d), class_name)["name"]  # fails early, before any decoding
    tmp_dir = d / "tmp"
    tmp_dir.mkdir(exist_ok=True)
    outcomes: list[AddOutcome] = []
    workers = max(1, min(4, os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for start in range(0, len(files), _CHUNK):
            chunk = files[start:start + _CHUNK]
            prepared = list(pool.map(lambda f: _prepare(tmp_dir, bytes(f[1] or b"")), chunk))
            outcomes += _commit(draft_id, target, chunk, prepared, source, limits)
            if progress is not None:
                progress(len(outcomes), len(files))
    return outcomes


def _commit(draft_id: str, target: str, chunk, prepared, source: str, limits: DraftLimits) -> list[AddOutcome]:
    out = []
    with _editing(draft_id) as (d, m):
        cls = _find_class(m, target)
        seen = {}
        for c in m["classes"]:
            for i in c["images"]:
                seen[i["sha"]] = seen[i["stored_sha"]] = c["name"]
        count = sum(len(c["images"]) for c in m["classes"])
        used = sum(i["bytes"] for c in m["classes"] for i in c["images"])
        for (raw_name, _), rec in zip(chunk, prepared):
            name = _shown_name(raw_name)
            if isinstance(rec, DataError):
                out.append(AddOutcome(name, rec.code, getattr(rec, "detail", "") or rec.message))
                continue
            where = seen.get(rec["sha"]) or seen.get(rec["stored_sha"])
            if where is not None:
                out.append(AddOutcome(name, "duplicate", f"already in '{where}'", params={"cls": where}))
                continue
            if count + 1 > limits.max_images or used + len(rec["stored"]) > limits.max_bytes:
                mb = f"{limits.max_bytes / MB:.3g}"
                out.append(AddOutcome(name, "draft_full", f"at most {limits.max_images} images and {mb} MB per draft",
                                      params={"images": limits.max_images, "mb": mb}))
                continue
            image_id = f"img-{m['next']:05d}"
            m["next"] += 1
            try:
                atomic_write(d / "images" / f"{image_id}.jpg", lambda tmp, b=rec["stored"]: Path(tmp).write_bytes(b))
                atomic_write(d / "thumbs" / f"{image_id}.jpg", lambda tmp, b=rec["thumb"]: Path(tmp).write_bytes(b))
            except OSError as e:  # a full disk: this file is not added, and nothing of it stays
                _unlink_image(d, image_id)
                reason = e.strerror or str(e)
                out.append(AddOutcome(name, "not_stored", reason, params={"reason": reason}))
                continue
            cls["images"].append({"id": image_id, "name": name, "source": source, "sha": rec["sha"],
                                  "stored_sha": rec["stored_sha"], "bytes": len(rec["stored"]),
                                  "width": rec["width"], "height": rec["height"], "added": time.time()})
            seen[rec["sha"]] = seen[rec["stored_sha"]] = target
            count += 1
            used += len(rec["stored"])
            out.append(AddOutcome(name, "added", image_id=image_id))
    return out


def remove_image(draft_id: str, image_id: str) -> bool:
    """Remove one image from the draft (saved sets keep theirs). False when it was not there (a double click)."""
    with _editing(draft_id) as (d, m):
        for c in m["classes"]:
            for i in c["images"]:
                if i["id"] == image_id:
                    c["images"].remove(i)
                    _unlink_image(d, image_id)
                    return True
    return False


