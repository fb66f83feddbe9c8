"""Saved sets: immutable versions written aside and renamed, shared by name, and their ids for links."""
from __future__ import annotations

import contextlib
import hashlib
import io
import os
import shutil
import tempfile
import time
import zipfile
from pathlib import Path

from ...errors import DataError
from ...fsutil import locked, read_json, write_json_atomic

from .common import (
    AddOutcome,
    DraftLimits,
    KEEP_VERSIONS,
    SavedSet,
    _DIGEST_RE,
    _KEY_RE,
    _error,
    clean_name,
)
from .drafts import (
    _built_root,
    _digest,
    _editing,
    _private_root,
    add_class,
    add_images,
    open_draft,
)

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
    from ...data import DataLimits

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
    from ...data.tree import list_files, subdirs

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
