"""The gradient probe: which layer groups want to move on this data (relative gradient norm per group).

After a short warm-up of a new head on cached frozen features, a few batches of backward passes
through the whole network, without any optimizer step, give each group's relative gradient norm
RGN = |grad| / |weight| (Lee et al., ICLR 2023, who use it per tensor to set learning rates:
Auto-RGN). A group whose weights are asked to change much for their size is one the data
disagrees with.

Raw RGN falls with depth in every network we probed (the first layer's is the largest even on the
pretraining images themselves), so the highest bar alone always points at the first block. What
tells the kinds of shift apart is RGN *relative to the same probe on images the backbone was
pretrained on* (with labels that carry no pattern, so that both probes ask as much of the
network): on images that look different, the first block's ratio is several times the last
block's; on the pretraining images relabelled, the ends' ratios are about the same. The app can draw
such images for labnet (the lab's source world); for other backbones the chart shows raw RGN and
the probe makes no suggestion.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from .errors import DataError
from .plans import block_names

ProgressFn = Callable[[float, str], None]

#: Probe settings: images used, head warm-up steps (full batch on cached features), probe batches.
MAX_IMAGES = 384
REFERENCE_IMAGES = 192
WARMUP_STEPS = 150
WARMUP_LR = 0.05
BATCHES = 4
BATCH_SIZE = 64
#: How many times larger a ratio (RGN on the data / RGN on pretraining images) must be to stand out:
#: the first block's over the last's (the departure enters at the pixels and fades with depth), or
#: a middle block's over both ends'.
FLAT_PROFILE = 1.5


@dataclass
class GroupGradient:
    name: str
    params: int
    rgn: float  # |grad| / |weight| over the group's parameters, mean over the probe batches
    relative: float  # rgn / the same on pretraining images (``reference``), else rgn / the blocks' largest rgn


@dataclass
class ProbeResult:
    """One value per layer group that has parameters, in forward order, and the block it points to."""

    model: str
    groups: list[GroupGradient] = field(default_factory=list)
    reference: bool = False  # ``relative`` compares with the backbone's pretraining images
    block: str = ""  # the block the probe suggests tuning ("" without a reference)
    position: str = ""  # where that block sits: first | middle | last
    why: str = ""  # early | middle | even (see :func:`suggest`)
    warmup_accuracy: float = 0.0  # the warmed-up head's accuracy on the probe images
    images: int = 0
    batches: int = 0
    seconds: float = 0.0

    def to_json(self) -> dict:
        d = asdict(self)
        for g in d["groups"]:
            g["rgn"], g["relative"] = round(g["rgn"], 6), round(g["relative"], 4)
        d["warmup_accuracy"] = round(self.warmup_accuracy, 4)
        d["seconds"] = round(self.seconds, 2)
        return d


def block_position(blocks: list[str], block: str) -> str:
    """Where ``block`` sits among ``blocks``: the first, middle or last third of the network's depth."""
    i = blocks.index(block)
    depth = i / max(1, len(blocks) - 1)
    return "first" if depth <= 1 / 3 else "last" if depth >= 2 / 3 else "middle"


def suggest(blocks: list[str], ratio: dict[str, float]) -> tuple[str, str, str]:
    """(block, position, why) from each block's RGN ratio to the pretraining images.

    * "middle": the largest ratio sits in the middle third and is :data:`FLAT_PROFILE` times both ends';
    * "early": the first block's ratio is :data:`FLAT_PROFILE` times the last block's: the data departs
      from the pretraining images at the pixels, and the departure fades with depth (input-level);
    * "even": otherwise: no early departure, so what differs is near the output (the last block).
    """
    first, last = blocks[0], blocks[-1]
    top = max(blocks, key=ratio.get)
    if block_position(blocks, top) == "middle" and ratio[top] >= FLAT_PROFILE * max(ratio[first], ratio[last]):
        return top, "middle", "middle"
    if ratio[first] >= FLAT_PROFILE * ratio[last]:
        return first, "first", "early"
    return last, "last", "even"


def _warm_up_head(head: torch.nn.Module, feats: torch.Tensor, labels: torch.Tensor, steps: int, seed: int) -> float:
    """Full-batch Adam on cached features; returns the head's accuracy on them."""
    torch.manual_seed(seed)
    for m in head.modules():  # a fresh head, whatever it is made of
        if hasattr(m, "reset_parameters"):
            m.reset_parameters()
    opt = torch.optim.Adam(head.parameters(), lr=WARMUP_LR)
    for _ in range(steps):
        opt.zero_grad()
        F.cross_entropy(head(feats), labels).backward()
        opt.step()
    with torch.no_grad():
        return float((head(feats).argmax(1) == labels).float().mean())


def group_rgn(net, images_uint8: torch.Tensor, labels: torch.Tensor, normalize, *, seed: int = 0,
              warmup_steps: int = WARMUP_STEPS, batches: int = BATCHES, batch_size: int = BATCH_SIZE,
              progress: ProgressFn | None = None) -> tuple[dict[str, float], float, int]:
    """({group: RGN}, the warmed-up head's accuracy, batches used) for a GroupedNet whose head fits ``labels``.

    Only the head's weights change (warmed up); BatchNorm runs in training mode during the
    backward passes, as in fine-tuning, and its running statistics are restored afterwards.
    """
    report = progress or (lambda f, m: None)
    gen = torch.Generator().manual_seed(seed)
    net.set_frozen([])
    for p in net.parameters():
        p.requires_grad_(False)
    report(0.05, "features")
    with torch.no_grad():
        net.eval()
        feats = torch.cat([net.features(normalize(images_uint8[i:i + 256])).flatten(1).float()
                           for i in range(0, len(images_uint8), 256)])
    report(0.3, "head warm-up")
    for p in net.head.parameters():
        p.requires_grad_(True)
    acc = _warm_up_head(net.head, feats, labels, warmup_steps, seed)
    for p in net.parameters():
        p.requires_grad_(True)
    buffers = {k: v.clone() for k, v in net.state_dict().items() if "running" in k or "num_batches" in k}
    names = [n for n in net.group_names if any(True for _ in net.groups[n].parameters())]
    sums = dict.fromkeys(names, 0.0)
    net.train()
    order = torch.randperm(len(labels), generator=gen)
    done = 0
    for b in range(batches):
        idx = order[(b * batch_size) % len(labels):][:batch_size]
        if len(idx) < 2:
            break
        net.zero_grad(set_to_none=True)
        F.cross_entropy(net(normalize(images_uint8[idx])), labels[idx]).backward()
        with torch.no_grad():
            for n in names:
                params = list(net.groups[n].parameters())
                g = torch.sqrt(sum((p.grad.float() ** 2).sum() for p in params if p.grad is not None))
                w = torch.sqrt(sum((p.float() ** 2).sum() for p in params))
                sums[n] += float(g / (w + 1e-12))
        done += 1
        report(0.3 + 0.7 * done / batches, "backward passes")
    net.zero_grad(set_to_none=True)
    net.load_state_dict({**net.state_dict(), **buffers})
    net.eval()
    return {n: sums[n] / max(1, done) for n in names}, acc, done


def probe_network(net, images_uint8: torch.Tensor, labels: torch.Tensor, normalize, *, seed: int = 0,
                  reference: dict[str, float] | None = None, progress: ProgressFn | None = None,
                  **settings) -> ProbeResult:
    """Probe a GroupedNet (its head sized for ``labels``) on uint8 images (N, 3, H, W) at its input size.

    ``reference``: each group's RGN on the backbone's pretraining images (see :func:`reference_rgn`);
    with it, ``relative`` is the ratio to it and the result names the block to tune. Raises DataError.
    """
    t0 = time.perf_counter()
    if len(torch.unique(labels)) < 2:
        raise DataError("The gradient probe needs at least two classes.")
    rgn, acc, done = group_rgn(net, images_uint8, labels, normalize, seed=seed, progress=progress, **settings)
    names = list(rgn)
    blocks = block_names(names)
    if reference:
        relative = {n: rgn[n] / max(reference.get(n, 0.0), 1e-12) for n in names}
        block, position, why = suggest(blocks, relative)
    else:
        top = max((rgn[b] for b in blocks), default=0.0) or 1.0
        relative = {n: rgn[n] / top for n in names}
        block, position, why = "", "", ""
    groups = [GroupGradient(n, sum(p.numel() for p in net.groups[n].parameters()), rgn[n], relative[n])
              for n in names]
    return ProbeResult(getattr(net, "arch", ""), groups, bool(reference), block, position, why, acc, len(labels),
                       done, time.perf_counter() - t0)


def pretraining_images(model_name: str, count: int, seed: int = 0) -> np.ndarray | None:
    """uint8 (N, H, W, 3) images of the world a backbone was pretrained on, when the app can draw them.

    labnet: the lab's source world. Other backbones (ImageNet): None (no images ship with the app).
    """
    from . import models

    if models.get_spec(model_name).source != "lab":
        return None
    from .lab import labnet, world

    per_class = max(1, -(-count // labnet.SOURCE_CLASSES))
    return world.make_source(per_class, seed=10_000 + seed)[0][:count]


@lru_cache(maxsize=8)
def reference_rgn(model_name: str, weights: str, num_classes: int, count: int = REFERENCE_IMAGES,
                  seed: int = 0) -> dict[str, float] | None:
    """Each group's RGN on the backbone's pretraining images with labels that carry no pattern (None if unavailable).

    The labels are drawn at random among ``num_classes``, so that the head cannot fit them and
    every group is asked to move about as much as on a hard new task: only how the images look
    to each group differs from the probe on the user's data.
    """
    from . import models

    images = pretraining_images(model_name, count, seed) if weights in models.PRETRAINED else None
    if images is None:
        return None
    labels = np.random.default_rng([seed, 5]).integers(0, num_classes, len(images))
    labels[:num_classes] = np.arange(num_classes)  # every class present
    spec = models.get_spec(model_name)
    net = models.build_model(model_name, num_classes, weights)
    x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2)
    rgn, _, _ = group_rgn(net, x, torch.as_tensor(labels), models.Normalize(spec.mean, spec.std), seed=seed)
    return rgn


def probe_arrays(images_uint8_nhwc: np.ndarray, labels: np.ndarray, model_name: str = "labnet",
                 weights: str = "pretrained", seed: int = 0, max_images: int = MAX_IMAGES,
                 progress: ProgressFn | None = None) -> ProbeResult:
    """The probe on uint8 (N, H, W, 3) images at the backbone's input size (at most ``max_images``)."""
    from . import models
    from .similarity import _stratified_subset

    labels = np.unique(np.asarray(labels), return_inverse=True)[1]
    sel = _stratified_subset(labels, max_images, seed)
    x = torch.from_numpy(np.ascontiguousarray(np.asarray(images_uint8_nhwc)[sel])).permute(0, 3, 1, 2)
    spec = models.get_spec(model_name)
    k = int(labels.max()) + 1
    net = models.build_model(model_name, k, weights)
    return probe_network(net, x, torch.as_tensor(labels[sel]), models.Normalize(spec.mean, spec.std), seed=seed,
                         reference=reference_rgn(model_name, weights, k), progress=progress)


def probe_dataset(path: str | Path, model_name: str = "labnet", weights: str = "pretrained", seed: int = 0,
                  max_images: int = MAX_IMAGES, image_size: int = 0, progress: ProgressFn | None = None) -> ProbeResult:
    """The probe on a dataset folder or .zip (its training images, at most ``max_images``, class-stratified).

    Raises DataError (bad data), ModelError / WeightsDownloadError (the backbone).
    """
    from . import data, models
    from .similarity import _stratified_subset

    report = progress or (lambda f, m: None)
    report(0.0, "opening the dataset")
    ds = data.open_dataset(path)
    labels = np.array([y for _, y in ds.train])
    if len(np.unique(labels)) < 2:
        raise DataError("The gradient probe needs at least two classes with training images.")
    sel = _stratified_subset(labels, max_images, seed)
    spec = models.get_spec(model_name)
    size = int(image_size or spec.input_size)
    store = data.ImageStore([ds.train[i][0] for i in sel], size, crop_pct=spec.crop_pct)
    x = store.get_batch(range(len(sel)))
    net = models.build_model(model_name, len(ds.classes), weights)
    ref = reference_rgn(model_name, weights, len(ds.classes)) if size == spec.input_size else None
    return probe_network(net, x, torch.as_tensor(labels[sel]), models.Normalize(spec.mean, spec.std), seed=seed,
                         reference=ref, progress=progress)
