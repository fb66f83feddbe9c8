"""The baseline: minimal hand-written PyTorch loops on the same model, data, batch size and seed as ours."""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from ..models import build_model
from ..optim import warmup_cosine
from ..train import seed_everything
from .common import BenchSetup, _sync



@dataclass
class PlainData:
    """The decoded dataset as plain tensors on the device, normalized once."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    num_classes: int


def load_plain_data(data_dir: Path, setup: BenchSetup, device: torch.device) -> PlainData:
    """The same images, in the same order, that the trainer reads (its split and its resizing)."""
    from ..data import ImageStore, open_dataset
    from ..models import get_spec

    report = open_dataset(data_dir, seed=setup.seed)
    spec = get_spec(setup.model)
    mean = torch.tensor(spec.mean).view(1, 3, 1, 1) * 255.0
    std = torch.tensor(spec.std).view(1, 3, 1, 1) * 255.0

    def tensors(items):
        store = ImageStore([p for p, _ in items], setup.image_size, crop_pct=spec.crop_pct)
        x = (store.get_batch(range(len(store))).float() - mean) / std
        return x.to(device), torch.tensor([y for _, y in items], dtype=torch.long).to(device)

    x_train, y_train = tensors(report.train)
    x_val, y_val = tensors(report.val)
    return PlainData(x_train, y_train, x_val, y_val, report.num_classes)


def plain_model(setup: BenchSetup, num_classes: int, device: torch.device) -> nn.Module:
    """The same weights the trainer starts from (same seed, same builder)."""
    seed_everything(setup.seed)
    net = build_model(setup.model, num_classes, setup.weights).to(device)
    if device.type == "cuda":
        net = net.to(memory_format=torch.channels_last)
    return net


@torch.no_grad()
def plain_evaluate(net: nn.Module, data: PlainData, batch_size: int, device: torch.device) -> float:
    net.eval()
    correct = torch.zeros((), dtype=torch.long, device=device)
    for i in range(0, len(data.y_val), batch_size):
        x = data.x_val[i:i + batch_size]
        if device.type == "cuda":
            x = x.contiguous(memory_format=torch.channels_last)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            logits = net(x)
        correct += (logits.argmax(1) == data.y_val[i:i + batch_size]).sum()
    return float(correct) / max(1, len(data.y_val))


def plain_epochs(net: nn.Module, param_groups: list[dict], data: PlainData, setup: BenchSetup, epochs: int,
                 device: torch.device, forward=None, train_mode=None):
    """A minimal hand-written training loop, one epoch per ``next()``: yields timings and validation accuracy.

    ``forward(x)`` defaults to ``net(x)``; ``train_mode()`` to ``net.train()``.
    """
    forward = forward or net
    train_mode = train_mode or net.train
    opt = torch.optim.AdamW(param_groups, lr=setup.lr, weight_decay=setup.weight_decay)
    n, bs = len(data.y_train), setup.batch_size
    total_steps = math.ceil(n / bs) * epochs
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: warmup_cosine(step, total_steps))
    loss_fn = nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(setup.seed)
    amp = device.type == "cuda"
    for epoch in range(1, epochs + 1):
        _sync(device)
        t0 = time.perf_counter()
        train_mode()
        perm = torch.randperm(n, generator=gen).to(device)
        total_loss = torch.zeros((), device=device)
        for i in range(0, n, bs):
            idx = perm[i:i + bs]
            x, y = data.x_train[idx], data.y_train[idx]
            if amp:
                x = x.contiguous(memory_format=torch.channels_last)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
                logits = forward(x)
            loss = loss_fn(logits.float(), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total_loss += loss.detach() * len(idx)
        float(total_loss)  # waits for the device, as reading the epoch's loss does
        train_s = time.perf_counter() - t0
        val_acc = plain_evaluate(net, data, max(bs, 64), device)
        yield {"epoch": epoch, "train_s": train_s, "seconds": time.perf_counter() - t0, "images": n,
               "val_accuracy": val_acc}


def _warm_up(device: torch.device) -> None:
    """Pay one-time costs (torch.optim's first step imports torch._dynamo) before anything is timed."""
    p = nn.Parameter(torch.zeros(2, device=device))
    opt = torch.optim.AdamW([p], lr=1e-3)
    p.sum().backward()
    opt.step()



def _plain_groups(net, lr: float, body_lr_mult: float) -> list[dict]:
    head = [p for p in net.head.parameters() if p.requires_grad]
    body = [p for name, m in net.groups.items() if name != "head" for p in m.parameters() if p.requires_grad]
    return [{"params": head, "lr": lr}] + ([{"params": body, "lr": lr * body_lr_mult}] if body else [])
