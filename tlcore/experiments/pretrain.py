"""Pretrain labnet on the lab's source world (``python -m tlcore lab pretrain``).

A plain PyTorch loop over numpy arrays: AdamW with a one-cycle schedule, light
augmentation (random crop with 2-pixel padding, horizontal flip). Writes the
GroupedNet state dict (with its ``SOURCE_CLASSES`` head) to ``labnet_source.pt``
and a JSON record of how it was made to ``labnet_source.json``.
"""
from __future__ import annotations

import datetime as _dt
import json
import platform
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn

from ..fsutil import atomic_write, write_text_atomic
from ..lab import labnet, world

ProgressFn = Callable[[float, str], None]

DEFAULT_PER_CLASS = 1000
DEFAULT_EPOCHS = 10
BATCH_SIZE = 128
LR = 3e-3
WEIGHT_DECAY = 5e-4


def to_tensor(images_uint8_nhwc: np.ndarray) -> torch.Tensor:
    """uint8 (N, H, W, 3) -> float (N, 3, H, W), normalized with labnet's source statistics."""
    x = torch.from_numpy(np.ascontiguousarray(images_uint8_nhwc)).permute(0, 3, 1, 2).float().div_(255.0)
    mean = torch.tensor(labnet.LAB_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(labnet.LAB_STD).view(1, 3, 1, 1)
    return (x - mean) / std


def augment(x: torch.Tensor, gen: torch.Generator, pad: int = 2) -> torch.Tensor:
    """Random crop with ``pad`` pixels of reflection padding, and random horizontal flip."""
    n, _, h, w = x.shape
    xp = nn.functional.pad(x, (pad, pad, pad, pad), mode="reflect")
    dx = torch.randint(0, 2 * pad + 1, (n,), generator=gen)
    dy = torch.randint(0, 2 * pad + 1, (n,), generator=gen)
    rows = (dy.view(n, 1) + torch.arange(h).view(1, h))  # (n, h)
    cols = (dx.view(n, 1) + torch.arange(w).view(1, w))  # (n, w)
    idx_n = torch.arange(n).view(n, 1, 1)
    out = xp.permute(0, 2, 3, 1)[idx_n, rows.view(n, h, 1), cols.view(n, 1, w)].permute(0, 3, 1, 2)
    flip = torch.rand(n, generator=gen) < 0.5
    out[flip] = out[flip].flip(-1)
    return out.contiguous()


def build_net(num_classes: int = labnet.SOURCE_CLASSES):
    from ..models import GroupedNet

    return GroupedNet(labnet.build_groups(num_classes), arch="labnet")


@torch.no_grad()
def accuracy(net: nn.Module, images_uint8_nhwc: np.ndarray, labels: np.ndarray, batch: int = 500) -> float:
    net.eval()
    correct = 0
    for i in range(0, len(labels), batch):
        logits = net(to_tensor(images_uint8_nhwc[i : i + batch]))
        correct += int((logits.argmax(1).numpy() == labels[i : i + batch]).sum())
    return correct / max(1, len(labels))


def pretrain(
    seed: int = 0,
    per_class: int = DEFAULT_PER_CLASS,
    epochs: int = DEFAULT_EPOCHS,
    out: Path = labnet.WEIGHTS_PATH,
    progress: ProgressFn | None = None,
) -> dict:
    """Train labnet on ``world.make_source(per_class, seed)``; save weights and record; return the record.

    The record goes next to the weights, as ``<out stem>.json``.
    """
    started = time.time()
    out = Path(out)
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    report = progress or (lambda f, m: None)
    report(0.0, f"generating the source world ({per_class} images x {len(world.SOURCE_SHAPES)} classes)")
    x_np, y_np = world.make_source(per_class, seed)
    x_all = to_tensor(x_np)
    y_all = torch.from_numpy(y_np)
    n = len(y_all)
    net = build_net()
    opt = torch.optim.AdamW(net.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
    steps_per_epoch = (n + BATCH_SIZE - 1) // BATCH_SIZE
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=LR, total_steps=epochs * steps_per_epoch, pct_start=0.25)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.05)
    for epoch in range(epochs):
        net.train()
        perm = torch.randperm(n, generator=gen)
        total, correct, loss_sum = 0, 0, 0.0
        for b in range(steps_per_epoch):
            idx = perm[b * BATCH_SIZE : (b + 1) * BATCH_SIZE]
            xb = augment(x_all[idx], gen)
            yb = y_all[idx]
            logits = net(xb)
            loss = loss_fn(logits, yb)
            if not torch.isfinite(loss):
                from ..errors import TrainingError

                raise TrainingError("labnet pretraining diverged (non-finite loss).", "Try another --seed.")
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            loss_sum += loss.item() * len(idx)
            correct += int((logits.argmax(1) == yb).sum())
            total += len(idx)
            report((epoch + (b + 1) / steps_per_epoch) / epochs * 0.95, f"epoch {epoch + 1}/{epochs}")
        report((epoch + 1) / epochs * 0.95, f"epoch {epoch + 1}/{epochs}: loss {loss_sum / total:.3f}, train acc {correct / total:.3f}")
    state = {k: v.detach().clone() for k, v in net.state_dict().items()}
    atomic_write(out, lambda tmp: torch.save(state, tmp))
    report(0.97, "measuring the source accuracy on a fresh sample")
    eval_per_class, eval_seed = 100, 12345
    source_acc = evaluate_source(eval_per_class, eval_seed, weights=out)
    flags = f" --seed {seed}"
    if per_class != DEFAULT_PER_CLASS:
        flags += f" --per-class {per_class}"
    if epochs != DEFAULT_EPOCHS:
        flags += f" --epochs {epochs}"
    record = {
        "command": "python -m tlcore lab pretrain" + flags,
        "seed": seed,
        "per_class": per_class,
        "epochs": epochs,
        "source_classes": list(world.SOURCE_SHAPES),
        "train_images": n,
        "recipe": {
            "optimizer": "AdamW",
            "lr": LR,
            "weight_decay": WEIGHT_DECAY,
            "schedule": "OneCycle (25% warm-up)",
            "batch_size": BATCH_SIZE,
            "label_smoothing": 0.05,
            "augmentation": "random crop (2 px reflect padding) + horizontal flip",
        },
        "source_accuracy": round(source_acc, 4),
        "source_accuracy_sample": {"per_class": eval_per_class, "seed": eval_seed, "images": eval_per_class * len(world.SOURCE_SHAPES)},
        "params": labnet.approx_params(),
        "file_bytes": out.stat().st_size,
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "torch_version": torch.__version__,
        "numpy_version": np.__version__,
        "python_version": platform.python_version(),
        "train_seconds": round(time.time() - started, 1),
    }
    record_path = out.with_suffix(".json")
    text = json.dumps(record, indent=2) + "\n"
    write_text_atomic(record_path, text)
    report(1.0, f"done: source accuracy {source_acc:.3f}")
    return record


def evaluate_source(per_class: int = 100, seed: int = 12345, weights: Path | None = None) -> float:
    """Accuracy of the shipped (or given) labnet weights on a fresh source sample."""
    if weights is None:
        state = labnet.load_pretrained_state()
    else:
        state = torch.load(weights, map_location="cpu", weights_only=True)
    net = build_net()
    net.load_state_dict(state)
    x, y = world.make_source(per_class, seed)
    return accuracy(net, x, y)
