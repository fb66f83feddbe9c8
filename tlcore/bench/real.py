"""Figure 7: a ``head`` run on real photos against one plain inference pass over the same images.

``real_head_vs_inference``: the built-in photo dataset (tlcore.photos: 300 training and 100
validation JPEGs at 224 px, cut from photos that ship with scikit-image, scikit-learn and
matplotlib) and efficientnet_lite0 with its packaged ImageNet weights. Ours: a whole ``head``
run of 10 epochs as the app starts it, in this process: ``train()`` from the config, with
the dataset opened and checked, the network built and its weights loaded, every image decoded
and its frozen features computed once (an empty feature cache: a fresh ``TLCORE_CACHE_DIR``
each time), 10 epochs of the head with validation after each, the best model written to
``best.pt``. The baseline: one plain inference pass over the same 400 files, as plain code
does it: timm builds the same network and loads the same weights, then PIL decodes each file,
torchvision resizes it to 256 and crops the centre 224, and the network runs under
``inference_mode`` in batches of 32. The figure is ours over the baseline in seconds (1.0 is
the physical limit: the features must be computed once), the median of the repetitions; the
two alternate in order from one repetition to the next.

Extras: ``real_head_accuracy`` (the run's best validation accuracy) and
``real_probe_accuracy`` (a plain linear probe on the same frozen features: multinomial
logistic regression, L2 penalty as scikit-learn's C=1, fitted to convergence by L-BFGS on
the training features), and ``real_head_probe_gap`` = probe - head in points.
"""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import torch

from ..config import TrainConfig
from ..train import train
from .common import _log, _median

MODEL = "efficientnet_lite0"
EPOCHS = 10


def _plain_inference_pass(paths: list[str], size: int, device: torch.device, batch: int = 32) -> float:
    """Seconds for plain code to build the network and run it once over ``paths``."""
    import timm
    from PIL import Image
    from torchvision import transforms

    from ..models import get_spec
    from ..models.weights import packaged_weights_path

    spec = get_spec(MODEL)
    t0 = time.perf_counter()
    net = timm.create_model(spec.arch, pretrained=False)
    state = torch.load(packaged_weights_path(spec.weights_package), map_location="cpu", weights_only=True)
    net.load_state_dict(dict(zip(net.state_dict(), state.values())))  # the same tensors, by position
    net = net.eval().to(device)
    prep = transforms.Compose([transforms.Resize(int(size / spec.crop_pct)), transforms.CenterCrop(size),
                               transforms.ToTensor(), transforms.Normalize(spec.mean, spec.std)])
    with torch.inference_mode():
        for i in range(0, len(paths), batch):
            x = torch.stack([prep(Image.open(p).convert("RGB")) for p in paths[i:i + batch]]).to(device)
            net.forward_head(net.forward_features(x), pre_logits=True)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter() - t0


def _ours(data_dir: Path, size: int, device: torch.device, seed: int, work: Path) -> tuple[float, list]:
    """Seconds for a whole head run (a cold feature cache), and its events."""
    from .inprocess import Recorded

    cache = Path(tempfile.mkdtemp(prefix="cache-", dir=work))
    old = {k: os.environ.get(k) for k in ("TLCORE_CACHE_DIR", "TLCORE_FEATURE_CACHE")}
    os.environ["TLCORE_CACHE_DIR"] = str(cache)
    os.environ["TLCORE_FEATURE_CACHE"] = "1"
    rec = Recorded()
    try:
        config = TrainConfig(data=str(data_dir), model=MODEL, plan="head", weights="pretrained", epochs=EPOCHS,
                             image_size=size, seed=seed, device=str(device))
        t0 = time.perf_counter()
        train(config, rec, checkpoint_path=cache / "best.pt")
        seconds = time.perf_counter() - t0
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return seconds, rec.progress


def _probe_accuracy(data_dir: Path, size: int, cache_dir: Path) -> float:
    """Validation accuracy of a converged logistic regression on the frozen features the run cached."""
    from .. import features
    from ..data import open_dataset

    old = os.environ.get("TLCORE_CACHE_DIR")
    os.environ["TLCORE_CACHE_DIR"] = str(cache_dir)
    try:
        report = open_dataset(data_dir)
        key = features.key_for(MODEL, "pretrained", size)

        def must_be_cached(idx):
            raise RuntimeError(f"{len(idx)} features were not cached by the head run")

        x_tr = features.cached_features(key, [p for p, _ in report.train], must_be_cached)
        x_va = features.cached_features(key, [p for p, _ in report.val], must_be_cached)
    finally:
        if old is None:
            os.environ.pop("TLCORE_CACHE_DIR", None)
        else:
            os.environ["TLCORE_CACHE_DIR"] = old
    y_tr = torch.tensor([y for _, y in report.train])
    y_va = torch.tensor([y for _, y in report.val])
    return linear_probe(x_tr, y_tr, x_va, y_va, report.num_classes)


def linear_probe(x_tr: torch.Tensor, y_tr: torch.Tensor, x_va: torch.Tensor, y_va: torch.Tensor,
                 num_classes: int, c: float = 1.0) -> float:
    """Multinomial logistic regression (scikit-learn's objective with C=``c``) fitted by L-BFGS; val accuracy."""
    x_tr, x_va = x_tr.double(), x_va.double()
    w = torch.zeros(x_tr.shape[1], num_classes, dtype=torch.double, requires_grad=True)
    b = torch.zeros(num_classes, dtype=torch.double, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], lr=1.0, max_iter=2000, tolerance_grad=1e-9, tolerance_change=1e-12,
                            history_size=20, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = c * torch.nn.functional.cross_entropy(x_tr @ w + b, y_tr, reduction="sum") + 0.5 * (w * w).sum()
        loss.backward()
        return loss

    opt.step(closure)
    with torch.no_grad():
        return float(((x_va @ w + b).argmax(1) == y_va).double().mean())


def bench_real(work: Path, device: torch.device, tiny: bool, repeats: int) -> dict:
    """Figure 7 (see the module's docstring). ``work``: a scratch folder."""
    from ..photos import make_photo_dataset

    from torchvision import transforms  # noqa: F401 - imported before anything is timed, as timm is below

    from ..models import get_spec, timm_models

    per_class, val, size = (8, 4, 64) if tiny else (150, 50, 224)
    data_dir = make_photo_dataset(work / "photos", per_class, val, size=max(size, 96))
    paths = sorted(str(p) for p in data_dir.rglob("*.jpg"))
    timm_models.create(get_spec(MODEL).arch, meta=True)  # one-time imports (timm) are paid by neither side
    ratios, raw = [], []
    head_acc = probe_acc = None
    for rep in range(repeats):
        _log(f"real photos {rep + 1}/{repeats}")
        res = {}
        for who in (("ours", "plain") if rep % 2 == 0 else ("plain", "ours")):
            if who == "ours":
                res["ours"], progress = _ours(data_dir, size, device, seed=rep, work=work)
                cache = max(work.glob("cache-*"), key=lambda p: p.stat().st_mtime)
                if rep == 0:
                    head_acc = progress.fit_end.best_val_accuracy
                    probe_acc = _probe_accuracy(data_dir, size, cache)
                res["cache_s"] = progress.fit_start.cache_seconds
            else:
                res["plain"] = _plain_inference_pass(paths, size, device)
        ratios.append(res["ours"] / res["plain"])
        raw.append({"ours_head_run_s": round(res["ours"], 3), "plain_inference_s": round(res["plain"], 3),
                    "ours_feature_s": round(res["cache_s"], 3)})
    return {
        "real_head_vs_inference": _median(ratios),
        "real_head_accuracy": head_acc,
        "real_probe_accuracy": probe_acc,
        "real_head_probe_gap": None if head_acc is None else round((probe_acc - head_acc) * 100.0, 2),
        "raw_real": raw,
        "real_setup": {"model": MODEL, "images": len(paths), "image_size": size, "epochs": EPOCHS},
    }
