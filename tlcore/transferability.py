"""Transferability estimators on frozen features: LogME and linear-probe accuracy, beside the k-NN score.

Each answers, before any fine-tuning, "how well will this backbone do on these images?":

* **k-NN** (``tlcore.similarity``): the normalized leave-one-out k-NN accuracy T. Plain k-NN on
  frozen features was the most reliable of 23 estimators in Sorkhei et al. (2025).
* **LogME** (You et al., ICML 2021, "LogME: Practical Assessment of Pre-trained Models for
  Transfer Learning"): the log marginal evidence of a Bayesian linear model from the features to
  each class's one-hot target, maximized over its two precisions, per image, averaged over classes.
  Higher is better; its scale depends on the features, so compare values on one backbone.
* **Linear probe**: the validation accuracy of a logistic-regression head trained on the frozen
  training features (what the ``head`` plan would reach, without augmentation).

No maintained LogME package exists on PyPI (``logme`` there is a logging library), so it is
implemented here from the paper's Algorithm 1.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from .errors import DataError

ProgressFn = Callable[[float, str], None]

#: The estimators, in the order the app and the CLI show them.
ESTIMATORS = ("knn", "logme", "linear_probe")


def logme(features: np.ndarray, labels: np.ndarray, max_iter: int = 100, tol: float = 1e-3) -> float:
    """LogME of features (N, D) for integer labels (N,): mean over classes of the evidence per image.

    For each class c, with target y = [labels == c], the evidence of y = F w + noise with prior
    w ~ N(0, 1/alpha) and noise precision beta is maximized by the fixed point of You et al.
    (2021), Algorithm 1, computed in the eigenbasis of F^T F:

        gamma = sum_i beta s_i / (alpha + beta s_i),  alpha = gamma / |m|^2,  beta = (N - gamma) / |F m - y|^2

    where s_i are the eigenvalues of F^T F and m the posterior mean. Returns a float (nats per
    image; higher means the features predict the labels better). Raises DataError for fewer than
    two classes or mismatched shapes.
    """
    f = np.asarray(features, dtype=np.float64)
    y_all = np.asarray(labels)
    if f.ndim != 2 or len(f) != len(y_all):
        raise DataError(f"LogME needs features (N, D) and N labels, not {f.shape} and {y_all.shape}.")
    classes = np.unique(y_all)
    if len(classes) < 2:
        raise DataError("LogME needs at least two classes.")
    n, d = f.shape
    # F^T F = V diag(s) V^T; with N < D only N eigenvalues can be non-zero: work with F F^T's instead.
    u, sigma, vt = np.linalg.svd(f, full_matrices=False)  # f = u diag(sigma) vt
    s = sigma**2  # (k,) eigenvalues of F^T F, k = min(N, D)
    evidences = []
    for c in classes:
        y = (y_all == c).astype(np.float64)
        uty = u.T @ y  # (k,) the target in the left singular basis
        y_perp = float(y @ y - uty @ uty)  # the part of y outside the features' span
        alpha, beta = 1.0, 1.0
        for _ in range(max_iter):
            gamma = float(np.sum(beta * s / (alpha + beta * s)))
            # m = beta A^-1 F^T y, A = alpha I + beta F^T F: in the right singular basis
            m_coef = beta * sigma * uty / (alpha + beta * s)  # (k,) coordinates of m along vt's rows
            mm = float(m_coef @ m_coef)
            resid = float(np.sum((uty - sigma * m_coef) ** 2)) + y_perp  # |F m - y|^2
            new_alpha = gamma / max(mm, 1e-12)
            new_beta = (n - gamma) / max(resid, 1e-12)
            done = abs(new_alpha / new_beta - alpha / beta) <= tol * (alpha / beta)
            alpha, beta = new_alpha, new_beta
            if done:
                break
        gamma = float(np.sum(beta * s / (alpha + beta * s)))
        m_coef = beta * sigma * uty / (alpha + beta * s)
        mm = float(m_coef @ m_coef)
        resid = float(np.sum((uty - sigma * m_coef) ** 2)) + y_perp
        log_det = float(np.sum(np.log(alpha + beta * s))) + (d - len(s)) * np.log(alpha)
        evidence = (d / 2 * np.log(alpha) + n / 2 * np.log(beta) - alpha / 2 * mm - beta / 2 * resid
                    - log_det / 2 - n / 2 * np.log(2 * np.pi))
        evidences.append(evidence / n)
    return float(np.mean(evidences))


def linear_probe(train_x: torch.Tensor, train_y: torch.Tensor, val_x: torch.Tensor, val_y: torch.Tensor,
                 weight_decay: float = 1e-3, max_iter: int = 200) -> float:
    """Balanced validation accuracy (0..1) of a multinomial logistic regression on frozen features.

    The features are standardized with the training set's mean and spread; the model is fitted
    to convergence with L-BFGS (full batch) and an L2 penalty ``weight_decay`` on its weights.
    """
    x, xv = train_x.float(), val_x.float()
    mean, std = x.mean(0, keepdim=True), x.std(0, keepdim=True).clamp_min(1e-6)
    x, xv = (x - mean) / std, (xv - mean) / std
    y, yv = train_y.long(), val_y.long()
    k = int(max(int(y.max()), int(yv.max()) if len(yv) else 0)) + 1
    w = torch.zeros(x.shape[1], k, requires_grad=True)
    b = torch.zeros(k, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], lr=1.0, max_iter=max_iter, history_size=20, line_search_fn="strong_wolfe",
                            tolerance_grad=1e-6, tolerance_change=1e-9)

    def closure():
        opt.zero_grad()
        loss = F.cross_entropy(x @ w + b, y) + weight_decay * (w * w).sum()
        loss.backward()
        return loss

    with torch.enable_grad():
        opt.step(closure)
    with torch.no_grad():
        pred = (xv @ w + b).argmax(1)
    recalls = [float((pred[yv == c] == c).float().mean()) for c in torch.unique(yv)]
    return float(np.mean(recalls)) if recalls else 0.0


@dataclass
class TransferabilityReport:
    """The three estimators for one dataset and backbone, and what each cost (seconds, this machine)."""

    model: str
    knn: float  # tlcore.similarity's T in [0, 1]
    logme: float  # nats per image (higher is better; compare on one backbone)
    linear_probe: float  # balanced validation accuracy, 0..1
    seconds: dict = field(default_factory=dict)  # features, knn, logme, linear_probe
    n_train: int = 0
    n_val: int = 0

    def to_json(self) -> dict:
        d = asdict(self)
        for k in ESTIMATORS:
            d[k] = round(float(d[k]), 4)
        d["seconds"] = {k: round(float(v), 3) for k, v in self.seconds.items()}
        return d


@torch.inference_mode()
def frozen_features(net, images_uint8_nchw: torch.Tensor, normalize, batch: int = 256) -> torch.Tensor:
    """(N, D) float features (the head's input) of uint8 images (N, 3, H, W) already at the input size."""
    net.eval()
    out = [net.features(normalize(images_uint8_nchw[i:i + batch])).flatten(1).float()
           for i in range(0, len(images_uint8_nchw), batch)]
    return torch.cat(out) if out else torch.empty(0)


def estimate_from_arrays(train_images: np.ndarray, train_labels: np.ndarray, val_images: np.ndarray,
                         val_labels: np.ndarray, model_name: str = "labnet", weights: str = "pretrained",
                         seed: int = 0, progress: ProgressFn | None = None) -> TransferabilityReport:
    """The three estimators for uint8 (N, H, W, 3) images at the backbone's input size, and their costs."""
    from . import models
    from .similarity import similarity_from_arrays

    report = progress or (lambda f, m: None)
    train_labels, val_labels = np.asarray(train_labels), np.asarray(val_labels)
    if len(np.unique(train_labels)) < 2 or len(val_labels) == 0:
        raise DataError("The estimators need at least two classes and some validation images.")
    spec = models.get_spec(model_name)
    normalize = models.Normalize(spec.mean, spec.std)
    seconds = {}
    report(0.0, "k-NN")
    t = time.perf_counter()
    all_images = np.concatenate([train_images, val_images])
    all_labels = np.concatenate([train_labels, val_labels])
    knn = similarity_from_arrays(all_images, all_labels, model_name, weights, seed=seed).score
    seconds["knn"] = time.perf_counter() - t
    report(0.5, "features")
    t = time.perf_counter()
    net = models.build_model(model_name, int(max(train_labels.max(), val_labels.max())) + 1, weights)

    def to_nchw(a):
        return torch.from_numpy(np.ascontiguousarray(a)).permute(0, 3, 1, 2)

    ftr = frozen_features(net, to_nchw(train_images), normalize)
    fval = frozen_features(net, to_nchw(val_images), normalize)
    seconds["features"] = time.perf_counter() - t
    return _finish(model_name, knn, ftr, torch.as_tensor(train_labels), fval, torch.as_tensor(val_labels), seconds,
                   report)


def _finish(model_name, knn, ftr, ytr, fval, yval, seconds, report) -> TransferabilityReport:
    report(0.7, "LogME")
    t = time.perf_counter()
    lm = logme(ftr.numpy(), ytr.numpy())
    seconds["logme"] = time.perf_counter() - t
    report(0.85, "linear probe")
    t = time.perf_counter()
    lp = linear_probe(ftr, ytr, fval, yval)
    seconds["linear_probe"] = time.perf_counter() - t
    report(1.0, "done")
    return TransferabilityReport(model_name, knn, lm, lp, seconds, len(ytr), len(yval))


def estimate(dataset_path: str | Path, model_name: str = "labnet", weights: str = "pretrained",
             max_images: int = 2000, seed: int = 0, progress: ProgressFn | None = None) -> TransferabilityReport:
    """The three estimators for a dataset folder or .zip: k-NN on all its images, LogME on the training
    images' features, the linear probe trained on them and scored on the validation images.

    The frozen features come from the disk cache (tlcore.features) when "Measure it" or a head run
    computed them already. At most ``max_images`` training images (class-stratified) are used.
    Raises DataError, ModelError.
    """
    from . import data, models
    from .features import cached_features, key_for
    from .similarity import _stratified_subset, measure_similarity

    report = progress or (lambda f, m: None)
    seconds = {}
    t = time.perf_counter()
    knn = measure_similarity(dataset_path, model_name, weights, max_images=max_images, seed=seed,
                             progress=lambda f, m: report(0.5 * f, m)).score
    seconds["knn"] = time.perf_counter() - t
    t = time.perf_counter()
    ds = data.open_dataset(dataset_path)
    if not ds.val:
        raise DataError("The linear probe needs validation images.", "Give a dataset with a val/ folder or more images.")
    spec = models.get_spec(model_name)
    size = spec.input_size
    normalize = models.Normalize(spec.mean, spec.std)
    train_labels = np.array([y for _, y in ds.train])
    sel = _stratified_subset(train_labels, max_images, seed)
    train_items = [ds.train[i] for i in sel]
    val_items = list(ds.val)[:max_images]
    built: list = []
    key = key_for(model_name, weights, size)  # the features "Measure it" and head runs stored, read back

    def feats(items):
        paths = [p for p, _ in items]
        store = data.ImageStore(paths, size, crop_pct=spec.crop_pct)

        def compute(idx: list[int]) -> torch.Tensor:
            if not built:
                built.append(models.build_model(model_name, len(ds.classes), weights))
            out = [frozen_features(built[0], store.get_batch(idx[i:i + 256]), normalize) for i in range(0, len(idx), 256)]
            return torch.cat(out) if out else torch.empty(0)

        return cached_features(key, paths, compute), torch.tensor([y for _, y in items])

    report(0.55, "features")
    ftr, ytr = feats(train_items)
    fval, yval = feats(val_items)
    seconds["features"] = time.perf_counter() - t
    return _finish(model_name, knn, ftr, ytr, fval, yval, seconds, report)
