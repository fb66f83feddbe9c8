"""Datasets: safe zip extraction, per-file image checks, the train/val split and a decoded-image cache."""
from .archives import safe_extract_zip
from .cache import EXTRACTION_VERSION, materialize_dataset
from .folders import IMBALANCE_RATIO, SMALL_IMAGE_SIDE, TINY_CLASS_IMAGES, DatasetReport, open_dataset
from .images import IMAGE_EXTENSIONS, SKIP_REASONS, heif_supported, load_rgb, resize_center_crop
from .limits import MAX_IMAGE_PIXELS_ENV, DataLimits, SkippedFile
from .store import ImageStore

__all__ = [
    "EXTRACTION_VERSION", "IMAGE_EXTENSIONS", "IMBALANCE_RATIO", "MAX_IMAGE_PIXELS_ENV", "SKIP_REASONS",
    "SMALL_IMAGE_SIDE", "TINY_CLASS_IMAGES", "DataLimits", "DatasetReport", "ImageStore", "SkippedFile",
    "heif_supported", "load_rgb", "materialize_dataset", "open_dataset", "resize_center_crop", "safe_extract_zip",
]
