"""Single images: safe decoding to RGB with per-file reasons, and the resize used everywhere."""
from __future__ import annotations

import functools
import math
import re
import threading
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ..errors import DataError
from .limits import MAX_IMAGE_PIXELS_ENV, DataLimits

#: Suffixes known to hold images: hints for the UI (upload filters, "images without class folders").
#: Whether a file is used is decided by its content (what the allowed decoders open), never by this list.
IMAGE_EXTENSIONS: frozenset[str] = frozenset({
    ".jpg", ".jpeg", ".jpe", ".jfif", ".pjpeg", ".pjp", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff",
    ".heic", ".heif"})

#: PIL decoders allowed to open a file. Restricting them means content sniffing can
#: never hand a renamed EPS (Ghostscript) or other exotic format to its plugin.
#: "HEIF" (iPhone photos) joins them when pillow-heif imports; see heif_supported().
_PIL_FORMATS = ("JPEG", "PNG", "BMP", "GIF", "WEBP", "TIFF")  # JPEG also opens MPO (camera) files
_JPEG_FORMATS = ("JPEG", "MPO")  # decodable at 1/2, 1/4 or 1/8 scale (DCT scaling)
_HEIF_BRANDS = (b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1")

#: A Huffman-coded JPEG cannot hold more than about 512 pixels per byte, even a uniformly black
#: one (at least one bit per 8x8 block and scan); genuine photos hold 2 to 50. A JPEG over the
#: pixel limit that declares more than this is a damaged file or a decompression bomb.
MAX_JPEG_PIXELS_PER_BYTE = 1024

SKIP_REASONS = ("empty_file", "not_an_image", "unreadable", "truncated", "too_many_pixels", "unsupported_type")

_CHECK_DRAFT = (64, 64)  # JPEGs are decoded at reduced scale when only checking them

_OPEN_LOCK = threading.Lock()


_IMAGE_HINTS = {
    "empty_file": "The file is empty; copy it again or remove it.",
    "unsupported_type": "Only image files are used (JPEG, PNG, BMP, GIF, WebP, TIFF, HEIC); convert it or remove it.",
    "not_an_image": "Re-export it as JPEG or PNG, or remove it.",
    "truncated": "The file ends early (an interrupted download or copy); copy it again.",
    "too_many_pixels": (f"Save it at a smaller size; or, if it is genuine, raise the limit with the setting "
                        f"{MAX_IMAGE_PIXELS_ENV} (a number of pixels) where the app or command is started."),
    "unreadable": "Check that the file can be opened, or re-export it.",
}
_BOMB_HINT = ("It declares far more pixels than a file of its size can hold: a damaged file or a decompression "
              "bomb. Remove it, or re-export the original photo.")
_NO_HEIF_HINT = "Install HEIC support (pip install 'pillow-heif>=0.18'), or convert the photo to JPEG."


def _image_error(path: Path, reason: str, detail: str, hint: str | None = None) -> DataError:
    err = DataError(f"Image '{path.name}' is unusable ({reason}): {detail}.", hint or _IMAGE_HINTS[reason], code=reason)
    err.detail = detail  # for SkippedFile.detail
    return err


def _pixels_detail(w: int, h: int, limit: int) -> str:
    return f"{w}x{h} pixels, limit {limit}"


@functools.lru_cache(maxsize=1)
def heif_supported() -> bool:
    """Register pillow-heif's HEIC/HEIF decoder on first use; False when the package is missing or broken."""
    try:
        import pillow_heif

        pillow_heif.register_heif_opener()
    except Exception:  # ImportError, or a wheel whose libheif does not load
        return False
    return True


def _allowed_formats() -> tuple[str, ...]:
    return _PIL_FORMATS + (("HEIF",) if heif_supported() else ())


def _format_names() -> str:
    return "JPEG, PNG, BMP, GIF, WebP, TIFF" + (" or HEIC" if heif_supported() else "")


def _open_header(path: Path) -> Image.Image:
    """Image.open (header only) with PIL's own decompression-bomb check off.

    Our limit is checked from the header right after, and it lets a 200 MP JPEG through at
    reduced scale, which PIL's check (an error above 179 Mpx, before any draft) would refuse.
    MAX_IMAGE_PIXELS is process-wide, hence the lock and the restore; parsing a header is
    quick, so serialising it costs little while decoding stays parallel.
    """
    formats = _allowed_formats()  # outside the lock: the first call imports pillow-heif
    with _OPEN_LOCK:
        saved = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = None
        try:
            return Image.open(path, formats=formats)
        finally:
            Image.MAX_IMAGE_PIXELS = saved


def _scale_for_limit(path: Path, fmt: str | None, w: int, h: int, nbytes: int, limits: DataLimits) -> int:
    """1 when w x h fits the pixel limit, else the JPEG scale (2, 4 or 8) that makes it fit.

    Raises too_many_pixels for other formats (they cannot be decoded at reduced scale without
    first being decoded whole), for a JPEG still too big at 1/8, and for a JPEG that declares more
    pixels than its bytes can hold (MAX_JPEG_PIXELS_PER_BYTE): all decided from the header.
    """
    limit = limits.max_image_pixels
    if w * h <= limit:
        return 1
    if fmt not in _JPEG_FORMATS:
        raise _image_error(path, "too_many_pixels", _pixels_detail(w, h, limit))
    if w * h > MAX_JPEG_PIXELS_PER_BYTE * nbytes:
        raise _image_error(path, "too_many_pixels", f"{w}x{h} pixels declared by a {nbytes}-byte file", _BOMB_HINT)
    for scale in (2, 4, 8):
        if -(-w // scale) * -(-h // scale) <= limit:
            return scale
    raise _image_error(path, "too_many_pixels", f"{w}x{h} pixels, over the limit of {limit} even at 1/8 scale")


def _looks_like_heif(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            head = fh.read(12)
    except OSError:
        return False
    return head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS


def _unidentified(path: Path) -> DataError:
    """The reason for a file that no allowed decoder opens."""
    ext = path.suffix.lower()
    if not heif_supported() and _looks_like_heif(path):
        return _image_error(path, "unsupported_type", "a HEIC/HEIF photo, but HEIC support is not installed", _NO_HEIF_HINT)
    if ext and ext not in IMAGE_EXTENSIONS:
        return _image_error(path, "unsupported_type", f"a '{ext}' file that is not a {_format_names()} image")
    return _image_error(path, "not_an_image", f"not a {_format_names()} image")


def _decode(path: Path, limits: DataLimits, draft_size: tuple[int, int] | None,
            draft_formats: tuple[str, ...]) -> tuple[Image.Image, tuple[int, int]]:
    """Open, size-check, decode and convert one file; return (RGB image, header size).

    Decided by content, not by the name's suffix. ``draft_size`` lets ``draft_formats`` decode at
    reduced scale (never below that size); a JPEG over the pixel limit is always decoded at the
    scale that fits it. Raises DataError whose code is one of SKIP_REASONS. Truncation is found by
    the full decode, which is why PIL's LOAD_TRUNCATED_IMAGES must stay False.
    """
    try:
        nbytes = path.stat().st_size
    except OSError as e:
        raise _image_error(path, "unreadable", f"cannot read the file ({e.strerror or e})") from None
    if nbytes == 0:
        raise _image_error(path, "empty_file", "0 bytes")
    try:
        with _open_header(path) as im:
            # Image.open only parses the header: refuse huge images before load() decodes them.
            w, h = im.size
            scale = _scale_for_limit(path, im.format, w, h, nbytes, limits)
            if scale > 1 or (draft_size and im.format in draft_formats):
                want = (w // scale, h // scale)
                if draft_size and im.format in draft_formats:
                    want = (min(want[0], draft_size[0]), min(want[1], draft_size[1]))
                im.draft("RGB", (max(1, want[0]), max(1, want[1])))  # JPEG: DCT scaling; HEIF: a thumbnail
                if im.size[0] * im.size[1] > limits.max_image_pixels:  # the draft did not apply
                    raise _image_error(path, "too_many_pixels", _pixels_detail(w, h, limits.max_image_pixels))
            im.load()  # decodes the first frame only (animated GIF/WebP, multi-page TIFF)
            return _to_rgb(_exif_transpose(im)), (w, h)
    except DataError:
        raise
    except UnidentifiedImageError:
        raise _unidentified(path) from None
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


def load_rgb(path: str | Path, limits: DataLimits | None = None, *,
             draft_size: tuple[int, int] | None = None) -> Image.Image:
    """Load one image as RGB, EXIF orientation applied, first frame of animations.

    ``draft_size`` lets JPEGs (and HEIC photos with a big enough thumbnail) decode at reduced
    scale, never below that size. A JPEG over ``limits.max_image_pixels`` is decoded at the scale
    that fits it. Raises DataError with code "too_many_pixels", "not_an_image", "truncated", ...
    """
    return _decode(Path(path), limits or DataLimits(), draft_size, _JPEG_FORMATS + ("HEIF",))[0]


def check_file(path: Path, limits: DataLimits) -> int | DataError:
    """Fully decode one candidate; return its short side in pixels, or the reason it is unusable.

    JPEGs are checked at 1/8 scale (every byte is still decoded); HEIC photos in full, not from
    their thumbnail.
    """
    try:
        _, (w, h) = _decode(path, limits, _CHECK_DRAFT, _JPEG_FORMATS)
    except DataError as e:
        return e
    return min(w, h)


def resize_center_crop(img: Image.Image, size: int, crop_pct: float = 1.0) -> Image.Image:
    """Shorter side to ``floor(size / crop_pct)`` then a centred ``size`` x ``size`` crop.

    As torchvision's Resize + CenterCrop, and timm's eval transform: ``crop_pct`` 0.875 at
    224 px resizes to 256 and keeps the centre 224; 1.0 keeps the whole short side.
    """
    w, h = img.size
    short = max(size, int(math.floor(size / crop_pct + 1e-9)))
    if w <= h:
        nw, nh = short, max(short, int(short * h / w))
    else:
        nw, nh = max(short, int(short * w / h)), short
    if (nw, nh) != (w, h):
        img = img.resize((nw, nh), Image.BILINEAR, reducing_gap=3.0)
    left, top = int(round((nw - size) / 2.0)), int(round((nh - size) / 2.0))
    return img.crop((left, top, left + size, top + size))
