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
from .common import (
    DEFAULT_DRAFT_MAX_MB, DRAFT_KEEP_S, DRAFT_MAX_MB_ENV, MB, EMPTY_DRAFT_KEEP_S, ERROR_CODES, JPEG_QUALITY, KEEP_VERSIONS,
    MAX_NAME_BYTES, MAX_NAME_CHARS, MAX_SIDE, SKIP_CODES, THUMB_QUALITY, THUMB_SIDE, AddOutcome, Draft, DraftClass,
    DraftImage, DraftLimits, SavedSet, clean_name,
)
from .drafts import (
    add_class, add_images, delete_class, draft_exists, new_draft, open_draft, prune_drafts, remove_image, rename_class,
)
from .sets import copy_set_into_draft, draft_zip, list_shared_sets, resolve_set, save_draft, set_id, shared_set
