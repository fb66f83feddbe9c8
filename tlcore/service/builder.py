"""Build a dataset in the browser: a private draft of named classes and images, saved as an ImageFolder dataset.

A *draft* belongs to one session: it lives in ``<cache>/builder/drafts/<draft id>/`` (``draft.json``,
``images/``, ``thumbs/``) and is found again by its id, which only that session holds (and its URL,
so that a reload finds it). Every image is decoded by ``tlcore.data.load_rgb`` (the data package's
checks: content, not suffix; HEIC; huge photos; bombs), turned upright, scaled so that its longest
side is at most :data:`MAX_SIDE` and stored as JPEG, so a class of phone photos stays small.

Saving writes a normal ImageFolder (``<set>/<class>/<image>.jpg``) under
``<cache>/built/<name>/`` when it is shared (listed for every session by :func:`list_shared_sets`),
or under ``<cache>/built/.private/<private key>/<name>/`` when it is not (only that draft sees it; the
private key is a second random key, so that a run record naming the set's folder never reveals the
draft's own). Each save is an immutable version ``<set folder>/<content digest>/<name>/``, written
aside and renamed into place, so a run training on an earlier save keeps its images; the images are
hard links to the draft's files where the file system allows it, so a version costs almost no space.
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import secrets
import shutil
import tempfile
import time
import unicodedata
import zipfile
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from ..data.folders import _TRAIN_NAMES, _VAL_NAMES
from ..data.tree import _NOISE_NAMES
from ..errors import ConfigError, DataError
from ..fsutil import locked, atomic_write, read_json, write_json_atomic
from ..paths import cache_dir

#: Longest side of a stored image, in pixels (phone photos are scaled down to it, never up).
MAX_SIDE = 1024
#: Side of a (square, centre-cropped) thumbnail, in pixels.
THUMB_SIDE = 160
JPEG_QUALITY = 90
THUMB_QUALITY = 80
#: Longest name (class or set), in characters; and in UTF-8 bytes, so that it is a valid file name everywhere.
MAX_NAME_CHARS = 60
MAX_NAME_BYTES = 200
#: Drafts untouched for this long are removed (with their private saved sets) when a new draft starts;
#: empty drafts after a day.
DRAFT_KEEP_S = 7 * 86400
EMPTY_DRAFT_KEEP_S = 86400
#: Earlier saved versions of a set kept beside the current one (a run may still be training on one).
KEEP_VERSIONS = 2
#: The environment variable that sets DraftLimits.max_bytes, in MB (read here and nowhere else).
DRAFT_MAX_MB_ENV = "TLCORE_DRAFT_MAX_MB"
DEFAULT_DRAFT_MAX_MB = 150
MB = 1_000_000  # decimal, as TLCORE_CACHE_MAX_GB counts

#: Codes of the errors this module raises (DataError.code); each has a text ``builder_err_<code>``.
ERROR_CODES = ("name_empty", "name_unsafe", "name_reserved", "name_too_long", "class_exists", "class_not_found",
               "too_many_classes", "draft_not_found", "save_too_few_classes", "save_class_too_small",
               "set_name_taken", "set_not_found", "save_failed")
#: Reasons an added file is not used besides the image checks' (tlcore.data.SKIP_REASONS);
#: each has a text ``builder_skip_<reason>``.
SKIP_CODES = ("duplicate", "draft_full", "not_stored")

_DRAFT_ID_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_KEY_RE = _DRAFT_ID_RE
_DIGEST_RE = re.compile(r"^[0-9a-f]{16}$")
_FORBIDDEN_CHARS = '/\\:*?"<>|'
#: Folder names the dataset reader treats specially (split folders, what tools leave behind): taken
#: from it, so that a class can never be one.
_RESERVED_NAMES = frozenset(_TRAIN_NAMES + _VAL_NAMES) | _NOISE_NAMES
_WINDOWS_DEVICES = frozenset({"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)),
                              *(f"lpt{i}" for i in range(1, 10))})
_JOINERS = frozenset({"\u200c", "\u200d"})  # zero-width (non-)joiners: emoji sequences, Persian, Indic scripts
_CHUNK = 16  # files decoded per locked commit: bounded memory for a big batch


def _max_bytes_from_env() -> int:
    raw = os.environ.get(DRAFT_MAX_MB_ENV, "").strip()
    if not raw:
        return int(DEFAULT_DRAFT_MAX_MB * MB)
    try:
        mb = float(raw)
    except ValueError:
        mb = 0.0
    if not mb > 0:
        raise ConfigError(f"{DRAFT_MAX_MB_ENV}={raw!r} is not a positive number of megabytes.",
                          f"Set it to e.g. 300, or unset it for the default ({DEFAULT_DRAFT_MAX_MB}).",
                          code="draft_max_mb")
    return int(mb * MB)


@dataclass(frozen=True)
class DraftLimits:
    """How big one draft may grow: images, stored bytes (``TLCORE_DRAFT_MAX_MB``) and classes."""

    max_images: int = 1000
    max_bytes: int = field(default_factory=_max_bytes_from_env)
    max_classes: int = 50


@dataclass(frozen=True)
class DraftImage:
    """One stored image: ``path`` (JPEG, longest side <= MAX_SIDE) and ``thumb`` (THUMB_SIDE square, centre crop)."""

    id: str
    name: str  # the file's original name (or "webcam-N.jpg")
    source: str  # "upload", "camera" or "copy"
    path: str
    thumb: str
    bytes: int
    width: int
    height: int


@dataclass(frozen=True)
class DraftClass:
    name: str
    images: tuple[DraftImage, ...]

    @property
    def count(self) -> int:
        return len(self.images)


@dataclass(frozen=True)
class SavedSet:
    """A saved set: ``path`` is its dataset folder (an ImageFolder: one subfolder per class)."""

    name: str
    shared: bool
    path: str
    class_counts: dict[str, int]
    saved_at: float
    digest: str

    @property
    def num_images(self) -> int:
        return sum(self.class_counts.values())


@dataclass(frozen=True)
class Draft:
    """What a draft holds now, classes in the order they were made."""

    id: str
    classes: tuple[DraftClass, ...]
    limits: DraftLimits
    digest: str  # of the content (class names and images); equal digests, equal datasets
    saved: SavedSet | None  # the last save of this draft

    @property
    def num_images(self) -> int:
        return sum(c.count for c in self.classes)

    @property
    def num_bytes(self) -> int:
        return sum(i.bytes for c in self.classes for i in c.images)

    @property
    def class_counts(self) -> dict[str, int]:
        return {c.name: c.count for c in self.classes}

    @property
    def full(self) -> bool:
        return self.num_images >= self.limits.max_images or self.num_bytes >= self.limits.max_bytes

    def get(self, name: str) -> DraftClass | None:
        name = _nfc(name)
        return next((c for c in self.classes if c.name == name), None)


@dataclass(frozen=True)
class AddOutcome:
    """What happened to one added file: ``reason`` is "added", a tlcore.data skip reason, or one of SKIP_CODES."""

    name: str
    reason: str
    detail: str = ""
    image_id: str = ""
    params: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.reason == "added"


# ---------------------------------------------------------------------------
# Names


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text or "")


def _error(code: str, message: str, hint: str | None = None, **params) -> DataError:
    err = DataError(message, hint, code=code)
    err.params = params  # for the UI's own words in each language (text builder_err_<code>)
    return err


def clean_name(raw: str) -> str:
    """A class or set name fit to be a folder name everywhere: NFC, trimmed; raises DataError otherwise.

    Any language, spaces and emoji are fine. Refused (``code``): empty (``name_empty``); characters
    that are path separators or not allowed in Windows file names, control characters, a leading or
    trailing dot, or only dots (``name_unsafe``); names a dataset reader treats specially, such as
    ``train``/``val`` or ``__MACOSX``, and Windows device names (``name_reserved``); longer than
    MAX_NAME_CHARS characters or MAX_NAME_BYTES bytes of UTF-8 (``name_too_long``).
    """
    name = _nfc(raw).strip()
    if not name:
        raise _error("name_empty", "The name is empty.", "Type a name, e.g. cats.")
    bad = sorted({ch for ch in name if ch in _FORBIDDEN_CHARS})
    control = [ch for ch in name if unicodedata.category(ch)[0] == "C" and ch not in _JOINERS]
    if bad or control or name.startswith(".") or name.endswith("."):
        shown = "".join(bad) or ("control characters" if control else "a leading or trailing dot")
        raise _error("name_unsafe", f"'{name}' cannot be used as a name ({shown}).",
                     f"Use letters, digits, spaces, '-' or '_'; not {' '.join(_FORBIDDEN_CHARS)}, and no dot at the start "
                     "or end.", name=name, chars=shown)
    stem = name.split(".")[0].strip().casefold()
    if name.casefold() in _RESERVED_NAMES or stem in _WINDOWS_DEVICES:
        raise _error("name_reserved", f"'{name}' is a name dataset folders reserve.",
                     "Pick another, e.g. add a word: 'train set' is fine, 'train' is not.", name=name)
    if len(name) > MAX_NAME_CHARS or len(name.encode("utf-8")) > MAX_NAME_BYTES:
        raise _error("name_too_long", f"The name is too long ({len(name)} characters).",
                     f"Use at most {MAX_NAME_CHARS}.", limit=MAX_NAME_CHARS)
    return name


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

    from ..data import DataLimits, load_rgb

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


# ---------------------------------------------------------------------------
# Saving, sharing, zips


def _owner(draft_id: str) -> str:
    """Who saved a shared set, without writing the draft's id (its key) where others can read it."""
    return hashlib.sha256(f"tlcore-draft:{draft_id}".encode()).hexdigest()[:24]


def _saved_set(set_dir: Path) -> SavedSet | None:
    info = read_json(set_dir / "set.json", None)
    if not isinstance(info, dict) or "current" not in info:
        return None
    path = set_dir / info["current"] / info["name"]
    if not path.is_dir():
        return None
    return SavedSet(info["name"], bool(info.get("shared")), str(path), dict(info.get("class_counts", {})),
                    float(info.get("saved_at", 0)), info["current"])


def _check_saveable(m: dict) -> None:
    from ..data import DataLimits

    need = max(1, DataLimits().min_images_per_class)
    if len(m["classes"]) < 2:
        raise _error("save_too_few_classes", f"A dataset needs at least 2 classes; this draft has {len(m['classes'])}.",
                     "Add another class and give it images.", n=len(m["classes"]))
    small = [c["name"] for c in m["classes"] if len(c["images"]) < need]
    if small:
        raise _error("save_class_too_small",
                     f"Every class needs at least {need} images: {', '.join(repr(s) for s in small)} "
                     f"{'has' if len(small) == 1 else 'have'} fewer.",
                     "Add images to them, or delete them.", classes=", ".join(small), need=need)


def save_draft(draft_id: str, name: str, shared: bool = False) -> SavedSet:
    """Save the draft as an ImageFolder dataset and return it; the draft stays as it is, to go on with.

    ``shared``: under ``<cache>/built/<name>/``, listed for every session; a shared name belongs to
    the draft that first saved it (``set_name_taken`` for anyone else). Otherwise under this
    draft's private folder. The dataset folder is written aside and renamed into place: nobody ever
    sees half a set. Saving unchanged content again writes nothing. Raises DataError: a bad name,
    ``save_too_few_classes``, ``save_class_too_small``, ``set_name_taken``, ``save_failed`` (a write failed,
    e.g. a full disk).
    """
    name = clean_name(name)
    owner = _owner(draft_id)
    with _editing(draft_id) as (d, m):
        _check_saveable(m)
        parent = _built_root() if shared else _private_root(m)
        parent.mkdir(parents=True, exist_ok=True)
        with locked(_built_root() / ".names.lock"):
            set_dir = parent / name
            for other in parent.iterdir():  # one spelling per name, ignoring case
                if other.name != name and other.name.casefold() == name.casefold() and not other.name.startswith("."):
                    info = read_json(other / "set.json", {}) or {}
                    if shared and info.get("owner") != owner:
                        raise _error("set_name_taken", f"A set named '{other.name}' is already shared here.",
                                     "Pick another name.", name=other.name)
                    os.rename(other, set_dir)
            info = read_json(set_dir / "set.json", None)
            if shared and info and info.get("owner") != owner:
                raise _error("set_name_taken", f"A set named '{name}' is already shared here.",
                             "Pick another name.", name=name)
            set_dir.mkdir(exist_ok=True)
        digest = _digest(m)
        version = set_dir / digest
        if not (version / ".complete").is_file():
            try:
                _write_version(d, m, set_dir, version, name)
            except DataError:
                with contextlib.suppress(OSError):
                    set_dir.rmdir()  # only when empty: a first save that failed leaves no trace
                raise
        counts = {c["name"]: len(c["images"]) for c in m["classes"]}
        saved_at = time.time()
        write_json_atomic(set_dir / "set.json", {"name": name, "shared": bool(shared), "owner": owner,
                                                 "current": digest, "saved_at": saved_at, "class_counts": counts})
        _prune_versions(set_dir, digest)
        result = SavedSet(name, bool(shared), str(version / name), counts, saved_at, digest)
        m["saved"] = {"name": name, "shared": bool(shared), "path": result.path, "class_counts": counts,
                      "saved_at": saved_at, "digest": digest}
    return result


def _write_version(d: Path, m: dict, set_dir: Path, version: Path, name: str) -> None:
    """Write the dataset folder aside and rename it into place; on failure nothing of it stays. Raises ``save_failed``."""
    try:
        _write_version_files(d, m, set_dir, version, name)
    except OSError as e:
        reason = e.strerror or str(e)
        raise _error("save_failed", f"Could not write the set ({reason}); nothing was saved.",
                     "Check that the server has free disk space, then save again.", reason=reason) from None


def _write_version_files(d: Path, m: dict, set_dir: Path, version: Path, name: str) -> None:
    tmp = Path(tempfile.mkdtemp(prefix=".save-", dir=set_dir))
    try:
        for c in m["classes"]:
            folder = tmp / name / c["name"]
            folder.mkdir(parents=True)
            for i in c["images"]:
                src, dst = d / "images" / f"{i['id']}.jpg", folder / f"{i['id']}.jpg"
                try:
                    os.link(src, dst)  # the draft's file: no copy (both live in the cache)
                except OSError:
                    shutil.copyfile(src, dst)
        (tmp / ".complete").write_text("ok")
        try:
            os.rename(tmp, version)
        except OSError:  # the same content was saved meanwhile, or an incomplete leftover is in the way
            if not (version / ".complete").is_file():
                shutil.rmtree(version, ignore_errors=True)
                os.rename(tmp, version)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _prune_versions(set_dir: Path, current: str) -> None:
    versions = sorted((p for p in set_dir.iterdir() if p.is_dir() and not p.name.startswith(".") and p.name != current),
                      key=lambda p: p.stat().st_mtime, reverse=True)
    for old in versions[KEEP_VERSIONS:]:
        shutil.rmtree(old, ignore_errors=True)


def list_shared_sets() -> list[SavedSet]:
    """Every shared set on this server, by name."""
    root = _built_root()
    if not root.is_dir():
        return []
    sets = (_saved_set(p) for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    return sorted((s for s in sets if s is not None), key=lambda s: s.name.casefold())


def shared_set(name: str) -> SavedSet:
    """The shared set of that name. Raises DataError ``set_not_found`` (also for a name that is no folder name)."""
    try:
        name = clean_name(name)
    except DataError:
        name = ""
    found = _saved_set(_built_root() / name) if name else None
    if found is None:
        raise _error("set_not_found", f"There is no shared set named '{name}'.", "Pick one from the list.", name=name)
    return found


def set_id(path: str | Path) -> str | None:
    """A saved set's id for links and run records, or None for any other folder; never a server path.

    ``shared/<name>/<digest>`` or ``private/<private key>/<name>/<digest>`` (the private key is not
    the draft's key: it opens the saved images, never the draft). Resolve it with :func:`resolve_set`.
    """
    try:
        rel = Path(path).resolve().relative_to(_built_root().resolve())
    except (OSError, ValueError):
        return None
    parts = rel.parts
    if len(parts) == 3 and not parts[0].startswith("."):
        out = ("shared", parts[0], parts[1])
    elif len(parts) == 5 and parts[0] == ".private":
        out = ("private", parts[1], parts[2], parts[3])
    else:
        return None
    if parts[-1] != out[-2]:
        return None
    sid = "/".join(out)
    try:
        return sid if Path(resolve_set(sid)) == Path(path).resolve() else None
    except DataError:
        return None


def resolve_set(sid: str) -> str:
    """The dataset folder behind an id from :func:`set_id`; ``shared/<name>`` (no digest) is the set's current save.

    Every part is checked (names as :func:`clean_name` leaves them, keys and digests by pattern), so
    no id reaches outside the saved sets. Raises DataError ``set_not_found``.
    """
    parts = str(sid).split("/")
    gone = _error("set_not_found", f"There is no saved set '{str(sid)[:80]}' on this server.",
                  "Open the Data page and build or pick a set.", name=str(sid)[:80])
    if parts[0] == "shared" and len(parts) in (2, 3):
        parent, rest = _built_root(), parts[1:]
    elif parts[0] == "private" and len(parts) == 4 and _KEY_RE.match(parts[1]):
        parent, rest = _built_root() / ".private" / parts[1], parts[2:]
    else:
        raise gone
    try:
        if clean_name(rest[0]) != rest[0]:
            raise gone
    except DataError:
        raise gone from None
    if len(rest) == 1:
        current = _saved_set(parent / rest[0])
        if current is None:
            raise gone
        return current.path
    if not _DIGEST_RE.match(rest[1]) or not (parent / rest[0] / rest[1] / ".complete").is_file():
        raise gone
    return str(parent / rest[0] / rest[1] / rest[0])


def copy_set_into_draft(draft_id: str, set_path: str | Path, limits: DraftLimits | None = None) -> list[AddOutcome]:
    """Add a saved dataset's classes and images to a draft (classes made as needed), to edit a copy of it.

    ``set_path``: a dataset folder from :func:`shared_set` or this draft's own save. Images already
    in the draft are not added twice (``duplicate``). Raises DataError as add_class/add_images do.
    """
    from ..data.tree import list_files, subdirs

    limits = limits or DraftLimits()
    outcomes: list[AddOutcome] = []
    for folder in subdirs(Path(set_path)):
        cls = clean_name(folder.name)
        if open_draft(draft_id).get(cls) is None:
            add_class(draft_id, cls, limits)
        files = [(f.name, f.read_bytes()) for f in list_files(folder)]
        outcomes += add_images(draft_id, cls, files, source="copy", limits=limits)
    return outcomes


def draft_zip(draft_id: str, root: str = "dataset") -> bytes:
    """The draft as a .zip of an ImageFolder: ``<root>/<class>/<image>.jpg`` (UTF-8 names), ready to upload anywhere."""
    root = clean_name(root)
    draft = open_draft(draft_id)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:  # JPEGs do not compress further
        for c in draft.classes:
            for i in c.images:
                zf.write(i.path, f"{root}/{c.name}/{i.id}.jpg")
    return buf.getvalue()
