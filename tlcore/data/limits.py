"""Dataset safety limits and the record of a skipped file."""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

from ..errors import ConfigError

#: The environment variable that sets DataLimits.max_image_pixels (read here and nowhere else).
MAX_IMAGE_PIXELS_ENV = "TLCORE_MAX_IMAGE_PIXELS"
DEFAULT_MAX_IMAGE_PIXELS = 64_000_000  # a 61 MP camera frame as PNG/TIFF/HEIF; ~256 MB decoded as RGBA
#: The environment variable that sets DataLimits.full_check_max_files (read here and nowhere else).
FULL_CHECK_MAX_FILES_ENV = "TLCORE_FULL_CHECK_MAX_FILES"
#: Up to this many files a dataset is decoded in full when opened; above it, checked from headers
#: (about a minute of full decoding for phone photos on one core; see tlcore.data.headers).
DEFAULT_FULL_CHECK_MAX_FILES = 2000


def max_image_pixels_from_env() -> int:
    """TLCORE_MAX_IMAGE_PIXELS as a pixel count, or the default when it is unset or empty."""
    raw = os.environ.get(MAX_IMAGE_PIXELS_ENV, "").strip()
    if not raw:
        return DEFAULT_MAX_IMAGE_PIXELS
    try:
        value = int(raw)
    except ValueError:
        try:
            f = float(raw)  # accept 1e8
        except ValueError:
            f = math.nan
        value = int(f) if math.isfinite(f) and f == int(f) else 0
    if value < 1:
        raise ConfigError(f"{MAX_IMAGE_PIXELS_ENV}={raw!r} is not a positive whole number of pixels.",
                          f"Set it to e.g. 100000000 (100 megapixels), or unset it for the default "
                          f"({DEFAULT_MAX_IMAGE_PIXELS}).", code="max_image_pixels")
    return value


def full_check_max_files_from_env() -> int:
    """TLCORE_FULL_CHECK_MAX_FILES as a file count (0: always check from headers), or the default."""
    raw = os.environ.get(FULL_CHECK_MAX_FILES_ENV, "").strip()
    if not raw:
        return DEFAULT_FULL_CHECK_MAX_FILES
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value < 0:
        raise ConfigError(f"{FULL_CHECK_MAX_FILES_ENV}={raw!r} is not a whole number of files.",
                          f"Set it to e.g. 5000, 0 to check every dataset from headers, or unset it for the default "
                          f"({DEFAULT_FULL_CHECK_MAX_FILES}).", code="full_check_max_files")
    return value


@dataclass(frozen=True)
class DataLimits:
    """Safety limits for images and zip files.

    ``max_image_pixels`` is the most pixels decoded for one image. A larger JPEG is decoded at
    1/2, 1/4 or 1/8 scale to fit it (see ``images.py``); other formats above it are skipped.
    """

    max_image_pixels: int = field(default_factory=max_image_pixels_from_env)
    max_zip_total_bytes: int = 4 * 2**30
    max_zip_files: int = 200_000
    max_zip_ratio: float = 200.0
    min_images_per_class: int = 2
    #: Datasets of at most this many files are decoded in full when opened; larger ones are checked
    #: from headers, and a file that fails to decode is skipped when training meets it (issue 17).
    full_check_max_files: int = field(default_factory=full_check_max_files_from_env)


@dataclass(frozen=True)
class SkippedFile:
    """A candidate file that is not used, and why."""

    path: str  # relative to the dataset root, posix separators
    reason: str  # one of SKIP_REASONS
    detail: str = ""
