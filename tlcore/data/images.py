"""Single images: safe decoding to RGB with per-file reasons, and the resize used everywhere."""
from __future__ import annotations

import re
import threading
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ..errors import DataError
from .limits import DataLimits

IMAGE_EXTENSIONS: frozenset[str] = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff"})

#: PIL decoders allowed to open a file. Restricting them means content sniffing can
#: never hand a renamed EPS (Ghostscript) or other exotic format to its plugin.
_PIL_FORMATS = ("JPEG", "PNG", "BMP", "GIF", "WEBP", "TIFF")  # JPEG also opens MPO (camera) files

SKIP_REASONS = ("empty_file", "not_an_image", "unreadable", "truncated", "too_many_pixels", "unsupported_type")

_CHECK_DRAFT = (64, 64)  # JPEGs are decoded at reduced scale when only checking them

_OPEN_LOCK = threading.Lock()


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


def check_file(path: Path, limits: DataLimits) -> int | DataError:
    """Fully decode one candidate; return its short side in pixels, or the reason it is unusable."""
    try:
        _, (w, h) = _decode(path, limits, _CHECK_DRAFT)
    except DataError as e:
        return e
    return min(w, h)



def resize_center_crop(img: Image.Image, size: int) -> Image.Image:
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


