"""Quick checks of image files from their header and their last bytes, for folders too big to decode whole.

Opening a folder of 100,000 photos must not decode 100,000 photos. Above
``DataLimits.full_check_max_files`` files, each file is judged from its header (format,
size, the pixel limits, decompression bombs: the same rules as the full check) and from its
end: a JPEG ends with an end-of-image marker, a PNG with its IEND chunk, a WebP or BMP is as
long as its header says. A file whose end looks wrong is decoded in full there and then; the
few damaged files that pass (a JPEG corrupted in the middle) are found when training decodes
them in its first epoch, and skipped and reported then (see ``ImageStore.skip_failures``).
"""
from __future__ import annotations

import struct
from pathlib import Path

from PIL import UnidentifiedImageError

from ..errors import DataError
from .images import _open_header, _scale_for_limit, _unidentified, _image_error, check_file
from .limits import DataLimits

#: Bytes read from a file's end to find its closing marker.
TAIL_BYTES = 1024

_PNG_IEND = b"IEND\xaeB`\x82"


def _tail_ok(path: Path, fmt: str | None, nbytes: int) -> bool:
    """Whether the file ends as a complete file of its format does (True for formats without such a mark)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
            fh.seek(max(0, nbytes - TAIL_BYTES))
            tail = fh.read(TAIL_BYTES)
    except OSError:
        return False
    if fmt in ("JPEG", "MPO"):
        return b"\xff\xd9" in tail
    if fmt == "PNG":
        return _PNG_IEND in tail
    if fmt == "WEBP" and head[:4] == b"RIFF":
        return struct.unpack("<I", head[4:8])[0] + 8 <= nbytes
    if fmt == "BMP" and head[:2] == b"BM":
        declared = struct.unpack("<I", head[2:6])[0]
        return declared == 0 or declared <= nbytes
    return True


def check_header(path: Path, limits: DataLimits) -> int | DataError:
    """The short side in pixels from the file's header, or the reason it is unusable.

    The same reasons as :func:`tlcore.data.images.check_file` for what a header shows; a file
    whose end is missing is decoded in full to say why. Never decodes a sound file's pixels.
    """
    try:
        nbytes = path.stat().st_size
    except OSError as e:
        return _image_error(path, "unreadable", f"cannot read the file ({e.strerror or e})")
    if nbytes == 0:
        return _image_error(path, "empty_file", "0 bytes")
    try:
        with _open_header(path) as im:
            w, h = im.size
            fmt = im.format
        _scale_for_limit(path, fmt, w, h, nbytes, limits)
    except DataError as e:
        return e
    except UnidentifiedImageError:
        return _unidentified(path)
    except Exception:  # noqa: BLE001 - a header the parser chokes on: let the full check name the reason
        return check_file(path, limits)
    if not _tail_ok(path, fmt, nbytes):
        return check_file(path, limits)
    return min(w, h)
