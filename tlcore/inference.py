"""A trained model ready to use: loaded from a run's checkpoint, with the preprocessing it was trained with."""
from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch

from .models import GroupedNet, Normalize, build_model, get_spec
from .train.checkpoint import load_checkpoint

_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")

#: What ``load_images`` takes: a path, raw bytes, or (file name, bytes) from an upload.
ImageInput = "str | Path | bytes | tuple[str, bytes]"


def load_images(images: list, image_size: int, crop_pct: float = 1.0) -> torch.Tensor:
    """uint8 (N, 3, S, S) with S = ``image_size``: decoded, resized and centre-cropped exactly as in training.

    ``crop_pct``: the backbone's eval crop (its registry entry's: the short side goes to
    ``S / crop_pct``, the centre S x S is kept). Each image is a path, raw bytes or
    ``(file name, bytes)``. The one preprocessing of every trained model, run or exported.
    Raises DataError for an unusable image (its message names the file).
    """
    from .data import ImageStore

    with tempfile.TemporaryDirectory(prefix="tl-predict-") as tmp:
        paths = []
        for i, img in enumerate(images):
            name = "image.png"
            if isinstance(img, tuple):
                name, img = img
            if isinstance(img, (bytes, bytearray)):
                # The decoder sniffs the content; the name only keeps the user's file name in messages.
                stem, ext = os.path.splitext(_SAFE_NAME.sub("_", Path(name).name))
                p = Path(tmp) / str(i) / ((stem or "image")[:80] + (ext.lower() if ext else ".png"))
                p.parent.mkdir()
                p.write_bytes(img)
                paths.append(str(p))
            else:
                paths.append(str(img))
        if not paths:
            return torch.empty((0, 3, image_size, image_size), dtype=torch.uint8)
        return ImageStore(paths, image_size, crop_pct=crop_pct).get_batch(range(len(paths)))


@dataclass
class LoadedModel:
    """A run's best model: ``net`` (eval mode, on the CPU), its classes and its preprocessing."""

    net: GroupedNet
    classes: list[str]
    image_size: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    model: str
    checkpoint: dict
    crop_pct: float = 1.0  # the backbone's eval crop (its registry entry): resize to size / crop_pct, keep the centre

    @classmethod
    def from_checkpoint(cls, path: str | Path) -> "LoadedModel":
        """Load ``best.pt`` (or any tlcore checkpoint). Raises ModelError for a missing or damaged file."""
        ckpt = load_checkpoint(path)
        net = build_model(ckpt["model"], len(ckpt["classes"]), "none")
        net.load_state_dict(ckpt["model_state"])
        net.eval()
        crop_pct = float(ckpt.get("crop_pct") or get_spec(ckpt["model"]).crop_pct)
        return cls(net, list(ckpt["classes"]), int(ckpt["image_size"]), tuple(ckpt["mean"]), tuple(ckpt["std"]),
                   ckpt["model"], ckpt, crop_pct)

    @classmethod
    def from_run(cls, run_dir: str | Path) -> "LoadedModel":
        return cls.from_checkpoint(Path(run_dir) / "best.pt")

    @property
    def normalize(self) -> Normalize:
        return Normalize(self.mean, self.std)

    def load_images(self, images: list) -> torch.Tensor:
        """uint8 (N, 3, S, S): decoded, resized and centre-cropped exactly as in training (see :func:`load_images`)."""
        return load_images(images, self.image_size, self.crop_pct)

    @torch.no_grad()
    def probabilities(self, uint8_batch: torch.Tensor) -> torch.Tensor:
        """(N, 3, S, S) uint8 -> (N, classes) softmax probabilities."""
        return self.net(self.normalize(uint8_batch)).softmax(1)

    def predict(self, images: list, top_k: int = 3) -> list[list[tuple[str, float]]]:
        """Top-k (class, probability) for each image (see :meth:`load_images` for what an image may be)."""
        probs = self.probabilities(self.load_images(images))
        if not len(probs):
            return []
        top = probs.topk(min(top_k, len(self.classes)), dim=1)
        return [[(self.classes[int(i)], float(v)) for v, i in zip(vals, idx)]
                for vals, idx in zip(top.values, top.indices)]
