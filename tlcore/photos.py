"""The built-in real-photo dataset: two classes (person, object) cut from photos that ship inside installed packages.

No download and no photo of our own: the sources are sample photos that scikit-image,
scikit-learn and matplotlib install with themselves (located with ``importlib.util.find_spec``,
which finds a package's folder without importing it). Each image is a random square crop of a
source photo that keeps the photo's subject (a box given as data) whole, so that every image
shows what its class says; it is maybe mirrored, gets a mild brightness, contrast and
saturation change, is resized to ``size`` and saved as JPEG. Every image has its own random
generator seeded by (seed, class, split, index), so the same arguments give the same pixels.

**Leakage.** Crops of one photo look alike, so a photo never gives crops to both splits:
``train/`` holds crops of some photos of each class, ``val/`` of others (see :data:`SOURCES`).
Validation accuracy therefore says how well a model recognizes a *new* photo of the class,
not a new crop of a photo it has seen. With one validation photo per class that is a small
test: a figure on it is one photo's result, not an average over many (see the README).

Sources and licenses (also in the README):

* ``skimage/data/astronaut.png``: Eileen Collins, NASA; public domain.
* ``skimage/data/camera.png``: a photographer with a tripod, by Lav Varshney; CC0.
* ``matplotlib/mpl-data/sample_data/grace_hopper.jpg``: Grace Hopper, US Navy photo; public domain.
* ``skimage/data/coffee.png``: an espresso cup, by Rachel Michetti; CC0.
* ``skimage/data/rocket.jpg``: a Falcon 9 on its pad, SpaceX; public domain.
* ``sklearn/datasets/images/china.jpg``: the Summer Palace in Beijing, by danielbuechele on Flickr; CC BY 2.0.
"""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from .errors import DataError

#: Bumped whenever the images this module writes for the same arguments change.
VERSION = 1
CLASSES = ("object", "person")
#: The app's built-in photo dataset: a few hundred images at the backbones' usual input size.
DEFAULT_PER_CLASS = 150
DEFAULT_VAL_PER_CLASS = 50
DEFAULT_SIZE = 224


@dataclass(frozen=True)
class PhotoSource:
    """One source photo: where it ships, which class and split it feeds, and its license."""

    sid: str  # short id; each file name starts with it
    cls: str  # one of CLASSES
    split: str  # "train" or "val": a photo feeds one split only
    package: str  # import name of the package that ships it
    pip_name: str  # what to install for it
    rel: str  # the file's path inside the package's folder
    subject: str
    license: str
    box: tuple[float, float, float, float] = (0.0, 0.0, 1.0, 1.0)  # the subject (left, top, right, bottom) in 0..1


#: Which photo feeds which class and split. Validation gets one photo per class that training never sees.
SOURCES: tuple[PhotoSource, ...] = (
    PhotoSource("hopper", "person", "train", "matplotlib", "matplotlib", "mpl-data/sample_data/grace_hopper.jpg",
                "Grace Hopper", "public domain (US Navy photo)", (0.3, 0.1, 0.8, 0.55)),
    PhotoSource("astronaut", "person", "train", "skimage", "scikit-image", "data/astronaut.png",
                "astronaut Eileen Collins", "public domain (NASA)", (0.3, 0.02, 0.62, 0.4)),
    PhotoSource("camera", "person", "val", "skimage", "scikit-image", "data/camera.png",
                "a photographer with a tripod", "CC0 (Lav Varshney)", (0.1, 0.1, 0.55, 0.6)),
    PhotoSource("palace", "object", "train", "sklearn", "scikit-learn", "datasets/images/china.jpg",
                "the Summer Palace, Beijing", "CC BY 2.0 (danielbuechele, Flickr)", (0.15, 0.05, 0.55, 0.95)),
    PhotoSource("rocket", "object", "train", "skimage", "scikit-image", "data/rocket.jpg",
                "a Falcon 9 rocket", "public domain (SpaceX)", (0.3, 0.25, 0.7, 1.0)),
    PhotoSource("coffee", "object", "val", "skimage", "scikit-image", "data/coffee.png",
                "an espresso cup", "CC0 (Rachel Michetti)", (0.15, 0.0, 0.85, 0.95)),
)

#: How much of the photo's short side a crop may leave out around its subject (0: only the tightest crop).
CROP_SLACK = 1.0
JITTER = 0.15
JPEG_QUALITY = 85


def _package_dir(package: str) -> Path | None:
    try:
        spec = importlib.util.find_spec(package)  # finds the folder; does not import the package
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def locate(src: PhotoSource) -> Path:
    """The source photo's file. Raises DataError (code ``photos_missing``) naming the package to install."""
    folder = _package_dir(src.package)
    path = folder / src.rel if folder else None
    if path is None or not path.is_file():
        raise DataError(
            f"The built-in photos need {src.subject} ({src.rel}), which ships with the {src.pip_name} package"
            + (" (this version does not include it)." if folder else ", and it is not installed."),
            f"Install it: pip install {src.pip_name}.", code="photos_missing")
    return path


def missing_packages() -> list[str]:
    """pip names of the packages whose photos are not on this machine (empty: the dataset can be made)."""
    out = []
    for src in SOURCES:
        try:
            locate(src)
        except DataError:
            if src.pip_name not in out:
                out.append(src.pip_name)
    return out


def available() -> bool:
    return not missing_packages()


def _crop(img: Image.Image, box: tuple[float, float, float, float], rng: np.random.Generator,
          size: int) -> Image.Image:
    """A random square crop that holds the whole subject ``box``, maybe mirrored, colour-jittered, at ``size``.

    The side runs from the box's larger side to the photo's short side; the position is any
    that keeps the box inside. So every crop shows its class's subject, framed differently.
    """
    w, h = img.size
    bl, bt, br, bb = box[0] * w, box[1] * h, box[2] * w, box[3] * h
    short = min(w, h)
    least = min(short, max(br - bl, bb - bt))
    side = int(round(least + (short - least) * CROP_SLACK * rng.random()))
    lo_x, hi_x = max(0.0, br - side), min(bl, w - side)
    lo_y, hi_y = max(0.0, bb - side), min(bt, h - side)
    left = int(round(lo_x + (hi_x - lo_x) * rng.random())) if hi_x > lo_x else int(round(min(max(0.0, lo_x), w - side)))
    top = int(round(lo_y + (hi_y - lo_y) * rng.random())) if hi_y > lo_y else int(round(min(max(0.0, lo_y), h - side)))
    out = img.resize((size, size), Image.BILINEAR, box=(left, top, left + side, top + side), reducing_gap=2.0)
    if rng.random() < 0.5:
        out = out.transpose(Image.FLIP_LEFT_RIGHT)
    a = np.asarray(out, dtype=np.float32)
    gain, contrast, saturation = rng.uniform(1 - JITTER, 1 + JITTER, size=3)
    grey = a.mean(axis=2, keepdims=True)
    a = grey + (a - grey) * saturation
    mean = a.mean()
    a = (a - mean) * contrast + mean * gain
    return Image.fromarray(np.clip(a + 0.5, 0, 255).astype(np.uint8))


def make_photo_dataset(out: str | Path, per_class: int = DEFAULT_PER_CLASS, val_per_class: int = DEFAULT_VAL_PER_CLASS,
                       size: int = DEFAULT_SIZE, seed: int = 0) -> Path:
    """Write ``out/train/<class>/*.jpg`` (``per_class`` each), ``out/val/<class>/*.jpg`` and ``out/photos.json``.

    Deterministic for the same arguments (and Pillow version). Writes into a folder beside ``out``
    and renames it, so ``out`` is never half-written; ``out`` must not exist yet.
    Raises DataError when a package that ships a source photo is missing (nothing is written).
    """
    out = Path(out)
    if per_class < 1 or val_per_class < 1 or size < 16:
        raise DataError(f"per_class and val_per_class must be >= 1 and size >= 16, not {per_class}, {val_per_class}, {size}.")
    photos = {src.sid: locate(src) for src in SOURCES}  # fails before anything is written
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".photos-", dir=out.parent))
    try:
        for ci, cls in enumerate(CLASSES):
            for si, (split, n) in enumerate((("train", per_class), ("val", val_per_class))):
                sources = [s for s in SOURCES if s.cls == cls and s.split == split]
                images = {}
                for s in sources:
                    with Image.open(photos[s.sid]) as im:
                        im.load()
                        images[s.sid] = im.convert("RGB")
                folder = tmp / split / cls
                folder.mkdir(parents=True)
                for i in range(n):
                    src = sources[i % len(sources)]  # the photos take turns
                    rng = np.random.default_rng(np.random.SeedSequence([seed, ci, si, i]))
                    _crop(images[src.sid], src.box, rng, size).save(folder / f"{src.sid}_{i:04d}.jpg", quality=JPEG_QUALITY)
        record = {"version": VERSION, "per_class": per_class, "val_per_class": val_per_class, "size": size,
                  "seed": seed, "classes": list(CLASSES), "sources": [asdict(s) for s in SOURCES]}
        (tmp / "photos.json").write_text(json.dumps(record, indent=1), encoding="utf-8")
        os.rename(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def photo_info(path: str | Path) -> dict | None:
    """The record of a dataset written by :func:`make_photo_dataset` (its photos.json), or None."""
    try:
        return json.loads((Path(path) / "photos.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def source_of(filename: str) -> str:
    """The source photo an image was cut from, from its file name (``<source>_<index>.jpg``)."""
    return Path(filename).name.rsplit("_", 1)[0]
