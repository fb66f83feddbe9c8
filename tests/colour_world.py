"""A tiny world for explanation and export tests: one coloured square on a blank background decides the class."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from PIL import Image

#: Class name -> the square's colour. The square alone decides the class.
COLOURS = {"blue": (40, 70, 230), "green": (40, 190, 60), "red": (230, 40, 40)}
#: labnet's mean colour: normalized, the background is about 0, like a convolution's zero padding,
#: so the image's border carries no signal of its own.
BACKGROUND = (96, 96, 98)


def draw(colour, x: int, y: int, side: int = 8, size: int = 32) -> np.ndarray:
    """uint8 (size, size, 3): a ``side`` px square of ``colour`` with its top-left corner at (x, y)."""
    img = np.empty((size, size, 3), np.uint8)
    img[:] = BACKGROUND
    img[y:y + side, x:x + side] = colour
    return img


def png_bytes(img: np.ndarray) -> bytes:
    import io

    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG")
    return buf.getvalue()


def batch(n: int, rng: np.random.Generator, side: int = 8, size: int = 32):
    """(uint8 images (n, 3, size, size) as a tensor, labels (n,)), squares at random places."""
    import torch

    names = sorted(COLOURS)
    labels = rng.integers(0, len(names), n)
    imgs = []
    for y_ in labels:
        x, y = rng.integers(1, size - side - 1, 2)
        imgs.append(draw(COLOURS[names[y_]], int(x), int(y), side, size))
    return torch.from_numpy(np.stack(imgs)).permute(0, 3, 1, 2).contiguous(), torch.from_numpy(labels)


def make_dataset(root: Path, per_class: int = 16, val_per_class: int = 6, size: int = 32, side: int = 8,
                 seed: int = 0) -> Path:
    """An image folder with train/ and val/, one subfolder per colour."""
    rng = np.random.default_rng(seed)
    for split, n in (("train", per_class), ("val", val_per_class)):
        for name, colour in COLOURS.items():
            d = root / split / name
            d.mkdir(parents=True, exist_ok=True)
            for i in range(n):
                x, y = rng.integers(1, size - side - 1, 2)
                Image.fromarray(draw(colour, int(x), int(y), side, size)).save(d / f"{name}_{i:03d}.png")
    return root


def trained_run(runs_dir: Path, data: Path, plan: str = "full", epochs: int = 4, seed: int = 0, lr: float = 0.01,
                **config) -> str:
    """A completed run in ``runs_dir`` (trained in this process, recorded as the run process records it)."""
    from tlcore import service
    from tlcore.runs import RunStore
    from tlcore.train import train
    from tlcore.worker import RunRecorder

    cfg = service.make_config(data, "labnet", plan, epochs=epochs, batch_size=16, lr=lr, seed=seed, **config)
    store = RunStore(runs_dir)
    run_id = store.create(cfg, label=plan, dataset=data.name, num_classes=len(COLOURS))
    run_dir = store.run_dir(run_id)
    recorder = RunRecorder(run_dir)
    recorder.set_status(status="running", started=time.time())
    train(cfg, recorder, checkpoint_path=run_dir / "best.pt")
    recorder.set_status(status="completed", ended=time.time())
    recorder.close()
    return run_id
