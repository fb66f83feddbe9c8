"""How similar is a dataset to what a backbone was pretrained on? A score T in [0, 1].

T measures how well the backbone's *frozen* features already separate the
dataset's classes, beyond what needs no pretraining at all:

    T = (a_pre - a_ref) / (1 - a_ref), clipped to [0, 1]

* ``a_pre``: balanced (mean per-class recall) k-NN accuracy on the pretrained
  backbone's features, i.e. the input of its head (``GroupedNet.features``).
* ``a_ref``: the best of three references that use no pretraining: k-NN on the
  same architecture with random weights, k-NN on raw pixels downscaled to 8x8x3,
  and chance (1 / number of classes).

So T = 0 when pretraining adds nothing a random network or the raw pixels do not
already give, and T = 1 when the frozen features separate the classes perfectly.
T >= 0.5 reads as "similar" (a new head on frozen features is a good start),
below as "different" (the body needs fine-tuning).

k-NN: leave-one-out over (at most ``max_images``, class-stratified) images, cosine
similarity of centred, L2-normalized vectors, majority vote of the ``k`` nearest
(ties go to the class with the larger summed similarity). The standard error of T
comes from a class-stratified bootstrap over images of the leave-one-out hits.

Near-duplicates inflate every k-NN accuracy alike (the reference ones too), squeezing T's
headroom. When a dataset says which images come from the same source photo (the built-in
photos, tlcore.photos: crops of a few photos), an image's neighbours from its own photo are
left out as well (``grouped``): each image must be recognized from *other* photos.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from .decision import SIMILAR_THRESHOLD
from .errors import DataError

ProgressFn = Callable[[float, str], None]

PIXEL_SIDE = 8  # raw-pixel reference: images downscaled to 8x8x3
BOOTSTRAP_ROUNDS = 200


@dataclass
class SimilarityResult:
    score: float  # T in [0, 1]
    stderr: float  # bootstrap standard error of T
    a_pre: float  # balanced k-NN accuracy, pretrained features
    a_ref: float  # the best reference accuracy
    ref_source: str  # "random_init" | "pixels" | "chance"
    a_random: float  # balanced k-NN accuracy, same architecture with random weights
    a_pixels: float  # balanced k-NN accuracy, raw 8x8x3 pixels
    chance: float  # 1 / number of classes
    n_images: int
    k: int
    seconds: float
    grouped: bool = False  # neighbours from an image's own source photo were left out (see knn_hits)

    @property
    def verdict(self) -> str:
        return "similar" if self.score >= SIMILAR_THRESHOLD else "different"

    def to_json(self) -> dict:
        d = asdict(self)
        for key, value in d.items():
            if isinstance(value, float):
                d[key] = round(value, 4)
        d["verdict"] = self.verdict
        return d


# ---------------------------------------------------------------------------
# k-NN


def _prepare(vectors: torch.Tensor) -> torch.Tensor:
    """Centre on the dataset mean, then L2-normalize each row."""
    v = vectors.float()
    v = v - v.mean(0, keepdim=True)
    return F.normalize(v, dim=1)


def effective_k(k: int, labels: np.ndarray, groups: np.ndarray | None = None) -> int:
    """The k the vote uses: at most the neighbours an image has, and fewer than the smallest class's images.

    A class of n images has at most n - 1 neighbours of its own class: with k >= 2(n - 1) it could never
    win a majority, and a tiny class would score zero whatever the features (the whole score with it).
    """
    labels = np.asarray(labels)
    n = len(labels)
    others = n - 1 if groups is None else n - int(np.unique(groups, return_counts=True)[1].max())
    smallest = int(np.unique(labels, return_counts=True)[1].min()) if n else 1
    return max(1, min(k, others, smallest - 1))


def knn_hits(vectors: torch.Tensor, labels: np.ndarray, k: int, groups: np.ndarray | None = None) -> np.ndarray:
    """Leave-one-out k-NN (cosine); returns a bool array: was each image's class predicted?

    ``groups`` (one id per image, e.g. the photo a crop was cut from): an image's neighbours
    from its own group are left out too, so near-duplicates cannot vote for each other.
    """
    x = _prepare(vectors)
    y = torch.as_tensor(labels, dtype=torch.long)
    n = len(y)
    num_classes = int(y.max()) + 1
    g = torch.as_tensor(np.unique(groups, return_inverse=True)[1]) if groups is not None else None
    k = effective_k(k, labels, groups)
    hits = np.zeros(n, dtype=bool)
    for start in range(0, n, 1024):
        sim = x[start : start + 1024] @ x.T  # (b, n)
        rows = torch.arange(sim.shape[0])
        sim[rows, rows + start] = -float("inf")  # leave the image itself out
        if g is not None:
            sim[g[start : start + 1024, None] == g[None, :]] = -float("inf")
        top_sim, top_idx = sim.topk(k, dim=1)
        votes = torch.zeros(sim.shape[0], num_classes)
        votes.scatter_add_(1, y[top_idx], torch.ones_like(top_sim))
        tie_break = torch.zeros_like(votes).scatter_add_(1, y[top_idx], top_sim.clamp(min=-1.0))
        pred = (votes + 1e-3 * tie_break).argmax(1)
        hits[start : start + sim.shape[0]] = (pred == y[start : start + 1024]).numpy()
    return hits


def balanced_accuracy(hits: np.ndarray, labels: np.ndarray) -> float:
    classes = np.unique(labels)
    return float(np.mean([hits[labels == c].mean() for c in classes]))


def normalized_score(a_pre: float, a_ref: float) -> float:
    if a_ref >= 1.0:
        return 0.0
    return float(np.clip((a_pre - a_ref) / (1.0 - a_ref), 0.0, 1.0))


def _bootstrap_stderr(hits_pre, hits_random, hits_pixels, labels, chance, seed) -> float:
    rng = np.random.default_rng([seed, 7])
    by_class = [np.nonzero(labels == c)[0] for c in np.unique(labels)]
    scores = np.empty(BOOTSTRAP_ROUNDS)
    for b in range(BOOTSTRAP_ROUNDS):
        recalls = np.array(
            [[h[rng.choice(idx, size=len(idx))].mean() for h in (hits_pre, hits_random, hits_pixels)] for idx in by_class]
        ).mean(0)  # re-draw the same images for all three: the errors are correlated
        scores[b] = normalized_score(recalls[0], max(recalls[1], recalls[2], chance))
    return float(scores.std(ddof=1))


# ---------------------------------------------------------------------------
# Features


def _stratified_subset(labels: np.ndarray, max_images: int, seed: int) -> np.ndarray:
    """Indices of at most ``max_images`` images, each class keeping its share (at least one)."""
    n = len(labels)
    if n <= max_images:
        return np.arange(n)
    rng = np.random.default_rng([seed, 3])
    classes, counts = np.unique(labels, return_counts=True)
    quota = np.maximum(1, np.floor(counts * max_images / n).astype(int))
    chosen = []
    for c, q in zip(classes, quota):
        idx = np.nonzero(labels == c)[0]
        chosen.append(rng.choice(idx, size=min(q, len(idx)), replace=False))
    return np.sort(np.concatenate(chosen))


def _to_model_input(batch_uint8_nchw: torch.Tensor, size: int, normalize) -> torch.Tensor:
    """uint8 (B, 3, H, W) -> the backbone's normalized input at ``size`` x ``size``."""
    x = batch_uint8_nchw.float()
    if x.shape[-2:] != (size, size):
        x = F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    return normalize(x)


@torch.inference_mode()
def _features(net, get_batch: Callable[[np.ndarray], torch.Tensor], n: int, size: int, normalize, batch: int,
              on_batch: Callable[[int], None]) -> torch.Tensor:
    net.eval()
    out = []
    for start in range(0, n, batch):
        idx = np.arange(start, min(n, start + batch))
        out.append(net.features(_to_model_input(get_batch(idx), size, normalize)).flatten(1).float())
        on_batch(len(idx))
    return torch.cat(out)


def _pixels(get_batch: Callable[[np.ndarray], torch.Tensor], n: int, batch: int) -> torch.Tensor:
    out = []
    for start in range(0, n, batch):
        x = get_batch(np.arange(start, min(n, start + batch))).float().div_(255.0)
        out.append(F.adaptive_avg_pool2d(x, PIXEL_SIDE).flatten(1))
    return torch.cat(out)


def _measure(get_batch, labels: np.ndarray, model_name: str, weights: str, size: int | None, k: int, seed: int,
             progress: ProgressFn | None, started: float, paths: list[str] | None = None,
             groups: np.ndarray | None = None) -> SimilarityResult:
    from . import features as feature_cache
    from . import models

    report = progress or (lambda f, m: None)
    classes, labels = np.unique(np.asarray(labels), return_inverse=True)
    if len(classes) < 2:
        raise DataError("Similarity needs at least two classes.", "Give a dataset with one folder per class.",
                        code="too_few_classes")
    n = len(labels)
    spec = models.get_spec(model_name)
    size = int(size or spec.input_size)
    normalize = models.Normalize(spec.mean, spec.std)
    batch = 256 if size <= 64 else 32
    done = [0]

    def tick(what: str, base: float):
        def on_batch(b: int):
            done[0] += b
            report(base + 0.45 * min(1.0, done[0] / n), what)

        return on_batch

    def frozen(build, key, what: str, base: float) -> torch.Tensor:
        """Features of every image: read from the disk cache (with ``paths``) or computed by the network ``build()``."""
        def compute(idx: list[int]) -> torch.Tensor:
            net = build()
            sel = np.asarray(idx, dtype=int)
            return _features(net, lambda j: get_batch(sel[j]), len(sel), size, normalize, batch, tick(what, base))

        done[0] = 0
        if paths is None:
            return compute(list(range(n)))
        return feature_cache.cached_features(key, paths, compute, on_hits=lambda hits: tick(what, base)(hits))

    def random_net():
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            return models.build_model(model_name, len(classes), "none")

    report(0.0, f"loading {model_name} ({weights})")
    built: list = []

    def pretrained_net():
        if not built:
            built.append(models.build_model(model_name, len(classes), weights))
        return built[0]

    key_pre = feature_cache.key_for(model_name, weights, size)
    if key_pre is None:  # not on this machine yet: build now (downloads once, or raises WeightsDownloadError)
        pretrained_net()
        key_pre = feature_cache.key_for(model_name, weights, size)
    key_random = key_pixels = None
    if key_pre is not None:  # the random reference is as reproducible as its seed and torch's generator
        key_random = replace(key_pre, weights=f"random-init:seed={seed}:torch={torch.__version__}")
        key_pixels = replace(key_pre, model="pixels", weights="none", mean=(0.0,) * 3, std=(1.0,) * 3,
                             layer=f"pixels{PIXEL_SIDE}")
    feats_pre = frozen(pretrained_net, key_pre, "pretrained features", 0.0)
    built.clear()
    feats_random = frozen(random_net, key_random, "random-init features", 0.45)
    report(0.9, "k-NN")
    if paths is None:
        pix = _pixels(get_batch, n, batch)
    else:
        pix = feature_cache.cached_features(key_pixels, paths, lambda idx: _pixels(
            lambda j: get_batch(np.asarray(idx, dtype=int)[j]), len(idx), batch))
    hits_pre = knn_hits(feats_pre, labels, k, groups)
    hits_random = knn_hits(feats_random, labels, k, groups)
    hits_pixels = knn_hits(pix, labels, k, groups)
    a_pre = balanced_accuracy(hits_pre, labels)
    a_random = balanced_accuracy(hits_random, labels)
    a_pixels = balanced_accuracy(hits_pixels, labels)
    chance = 1.0 / len(classes)
    refs = {"random_init": a_random, "pixels": a_pixels, "chance": chance}
    ref_source = max(refs, key=refs.get)
    a_ref = refs[ref_source]
    stderr = _bootstrap_stderr(hits_pre, hits_random, hits_pixels, labels, chance, seed)
    result = SimilarityResult(
        score=normalized_score(a_pre, a_ref),
        stderr=stderr,
        a_pre=a_pre,
        a_ref=a_ref,
        ref_source=ref_source,
        a_random=a_random,
        a_pixels=a_pixels,
        chance=chance,
        n_images=n,
        k=effective_k(k, labels, groups),
        grouped=groups is not None,
        seconds=time.time() - started,
    )
    report(1.0, f"T = {result.score:.2f} ± {result.stderr:.2f} ({result.verdict})")
    return result


def similarity_from_arrays(
    images_uint8_nhwc: np.ndarray,
    labels: np.ndarray,
    model_name: str = "labnet",
    weights: str = "pretrained",
    max_images: int = 2000,
    k: int = 7,
    seed: int = 0,
    progress: ProgressFn | None = None,
) -> SimilarityResult:
    """T for images given as a uint8 (N, H, W, 3) array (resized to the backbone's input size)."""
    started = time.time()
    images = np.asarray(images_uint8_nhwc)
    labels = np.asarray(labels)
    if images.ndim != 4 or images.shape[-1] != 3 or images.dtype != np.uint8:
        raise DataError(f"Expected uint8 images shaped (N, H, W, 3), got {images.dtype} {images.shape}.")
    if len(images) != len(labels):
        raise DataError(f"{len(images)} images but {len(labels)} labels.")
    sel = _stratified_subset(labels, max_images, seed)
    images, labels = images[sel], labels[sel]

    def get_batch(idx: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(images[idx])).permute(0, 3, 1, 2)

    return _measure(get_batch, labels, model_name, weights, None, k, seed, progress, started)


def measure_similarity(
    dataset_path: str | Path,
    model_name: str = "labnet",
    weights: str = "pretrained",
    image_size: int | None = None,
    max_images: int = 2000,
    seed: int = 0,
    progress: ProgressFn | None = None,
    k: int = 7,
) -> SimilarityResult:
    """T for a dataset folder or .zip (train and val images together)."""
    from . import data, models
    from .photos import photo_info, source_of

    started = time.time()
    report = progress or (lambda f, m: None)
    report(0.0, "opening the dataset")
    ds = data.open_dataset(dataset_path)
    items = list(ds.train) + list(ds.val)
    if not items:
        raise DataError("The dataset has no usable images.")
    labels_all = np.array([lab for _, lab in items])
    sel = _stratified_subset(labels_all, max_images, seed)
    spec = models.get_spec(model_name)
    size = int(image_size or spec.input_size)
    paths = [items[i][0] for i in sel]
    store = data.ImageStore(paths, size, crop_pct=spec.crop_pct)
    groups = None
    if photo_info(dataset_path) or photo_info(ds.root):  # the built-in photos: crops of a few photos, each file named by its photo
        groups = np.array([source_of(p) for p in paths])

    def get_batch(idx: np.ndarray) -> torch.Tensor:
        return store.get_batch(idx)

    def sub_progress(f: float, m: str) -> None:
        report(0.05 + 0.95 * f, m)

    return _measure(get_batch, labels_all[sel], model_name, weights, size, k, seed, sub_progress, started, paths,
                    groups)
