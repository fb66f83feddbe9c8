"""Building in the browser: limits, records, and names a class or a set may take."""
from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass, field

from ...data.folders import _TRAIN_NAMES, _VAL_NAMES
from ...data.tree import _NOISE_NAMES
from ...errors import ConfigError, DataError

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


