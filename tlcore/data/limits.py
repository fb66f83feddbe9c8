"""Dataset safety limits and the record of a skipped file."""
from __future__ import annotations

from dataclasses import dataclass

@dataclass(frozen=True)
class DataLimits:
    """Safety limits for images and zip files."""

    max_image_pixels: int = 40_000_000
    max_zip_total_bytes: int = 4 * 2**30
    max_zip_files: int = 200_000
    max_zip_ratio: float = 200.0
    min_images_per_class: int = 2


@dataclass(frozen=True)
class SkippedFile:
    """A candidate file that is not used, and why."""

    path: str  # relative to the dataset root, posix separators
    reason: str  # one of SKIP_REASONS
    detail: str = ""

