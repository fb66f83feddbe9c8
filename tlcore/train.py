"""The trainer: config and stop signal in, typed events out. It never prints."""
from __future__ import annotations

import math
import os
import random
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from . import events as ev
from .config import TrainConfig
from .errors import Cancelled, TLError, TrainingError
from .fsutil import atomic_write
from .models import GroupedNet, build_model, get_spec
from .optim import AdamW, WarmupCosine
from .plans import apply_plan, get_plan, param_groups

StopFn = Callable[[], bool]

#: Batch progress events are throttled to this interval: enough for a live bar,
#: cheap for the event log and its readers.
BATCH_EVENT_INTERVAL_S = 0.25

#: Misclassified validation examples kept for the app to show.
MAX_MISCLASSIFIED = 24


def pick_device(name: str = "auto") -> torch.device:
    """CUDA, else Apple MPS, else CPU (or the device asked for)."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise TrainingError("CUDA was asked for but no CUDA GPU is available.", "Use --device auto or cpu.")
    if name == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise TrainingError("Apple MPS was asked for but is not available.", "Use --device auto or cpu.")
    return torch.device(name)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)


@dataclass
class TrainResult:
    status: str  # completed | stopped
    best_val_accuracy: float
    best_epoch: int
    epochs_completed: int
    seconds: float


def save_checkpoint_atomic(obj: dict, path: Path) -> None:
    """Write then rename: a half-written file never replaces a good checkpoint."""
    path = Path(path)
    try:
        atomic_write(path, lambda tmp: torch.save(obj, tmp), fsync=True)
    except OSError as exc:
        raise TrainingError(
            f"Could not write the checkpoint {path.name}: {exc.strerror or exc}.",
            "Free disk space or choose a writable runs directory (--runs-dir or TLCORE_RUNS_DIR); the previous checkpoint is kept.",
            code="checkpoint_write",
        ) from None


class _Normalizer(nn.Module):
    """uint8 (B,3,H,W) -> normalized float, on the device (cheaper than per image)."""

    def __init__(self, mean, std):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1) * 255.0)
        self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1) * 255.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x.float() - self.mean) / self.std


def augment_batch(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Batched augmentation on normalized images: random zoom/shift crop, flip, brightness/contrast.

    One affine grid for the whole batch instead of per-image PIL transforms.
    """
    b = x.shape[0]
    dev = x.device
    scale = torch.empty(b).uniform_(0.75, 1.0, generator=gen)
    tx = (torch.rand(b, generator=gen) * 2 - 1) * (1 - scale)
    ty = (torch.rand(b, generator=gen) * 2 - 1) * (1 - scale)
    flip = torch.where(torch.rand(b, generator=gen) < 0.5, -1.0, 1.0)
    theta = torch.zeros(b, 2, 3)
    theta[:, 0, 0] = scale * flip
    theta[:, 1, 1] = scale
    theta[:, 0, 2] = tx
    theta[:, 1, 2] = ty
    grid = F.affine_grid(theta.to(dev, x.dtype), list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)
    contrast = (torch.rand(b, 1, 1, 1, generator=gen) * 0.4 + 0.8).to(dev, x.dtype)
    bright = ((torch.rand(b, 1, 1, 1, generator=gen) - 0.5) * 0.4).to(dev, x.dtype)
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * contrast + mean + bright


class Trainer:
    """One fit of one config. Use :func:`train` unless you need the pieces."""

    def __init__(self, config: TrainConfig, emit: ev.Emit = ev.ignore, stop: StopFn | None = None,
                 checkpoint_path: str | Path | None = None):
        self.config = config
        self.emit = emit
        self.stop = stop or (lambda: False)
        self.checkpoint_path = Path(checkpoint_path) if checkpoint_path else None
        self.best_acc = -1.0
        self.best_epoch = 0
        self.best_state: dict | None = None
        self.epochs_completed = 0
        self.decodes_after_epoch1 = 0
        #: Per epoch: seconds training, fetching batches (decoding included) and in all, and images seen.
        self.epoch_timings: list[dict] = []
        self.setup_seconds = 0.0
        self.cache_seconds = 0.0  # computing cached frozen outputs, once
        self._data_s = 0.0
        self._last_batch_event = 0.0

    # -- setup ---------------------------------------------------------------
    def _check_stop(self) -> None:
        if self.stop():
            raise Cancelled()

    def setup(self) -> None:
        from .data import ImageStore, open_dataset

        cfg = self.config
        seed_everything(cfg.seed)
        self.device = pick_device(cfg.device)
        self.emit(ev.Status(phase="data", message="Reading the dataset"))
        self.report = open_dataset(cfg.data, val_fraction=cfg.val_fraction, seed=cfg.seed)
        self.classes = list(self.report.classes)
        spec = get_spec(cfg.model)
        self.spec = spec
        self.image_size = cfg.image_size or spec.input_size
        self._check_stop()

        self.plan = get_plan(cfg.plan, cfg.top_stages)
        if cfg.body_lr_mult is not None:
            self.plan = replace(self.plan, backbone_lr_mult=cfg.body_lr_mult)
        weights = cfg.weights if self.plan.pretrained else "none"

        def progress(done: int, total: int) -> None:
            frac = done / total if total else 0.0
            self.emit(ev.Status(phase="weights", message=f"Downloading weights {done / 1e6:.1f} MB", fraction=frac))

        if weights not in ("none",):
            self.emit(ev.Status(phase="weights", message="Loading pretrained weights"))
        self.net: GroupedNet = build_model(cfg.model, len(self.classes), weights, progress=progress)
        self.plan_report = apply_plan(self.net, self.plan)
        self.augment = cfg.augment if cfg.augment is not None else (cfg.quadrant == 3 or self.plan.augment_default)
        budget = cfg.memory_budget_mb * 2**20
        self.train_items = list(self.report.train)
        self.val_items = list(self.report.val)
        self.train_labels = torch.tensor([y for _, y in self.train_items], dtype=torch.long)
        self.val_labels = torch.tensor([y for _, y in self.val_items], dtype=torch.long)
        # Both stores share one budget, in proportion to their size.
        n_all = max(1, len(self.train_items) + len(self.val_items))
        self.train_store = ImageStore([p for p, _ in self.train_items], self.image_size, budget * len(self.train_items) // n_all)
        self.val_store = ImageStore([p for p, _ in self.val_items], self.image_size, budget * len(self.val_items) // n_all)
        self.normalize = _Normalizer(spec.mean, spec.std).to(self.device)
        self.net.to(self.device)
        self.use_amp = self.device.type == "cuda"
        # channels_last: faster convolutions with cuDNN and with oneDNN on CPUs (5-15 % on labnet
        # and torchvision models); the same results up to float rounding.
        self.channels_last = self.device.type in ("cuda", "cpu")
        if self.channels_last:
            self.net.to(memory_format=torch.channels_last)
        if self.device.type == "cuda":
            self.amp_dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        else:
            self.amp_dtype = torch.float32
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.use_amp and self.amp_dtype == torch.float16)
        self.head_only = self.net.frozen == frozenset(n for n in self.net.group_names if n != "head")
        self.feature_cache = bool(cfg.cache_features and self.head_only and not self.augment)
        self.first_trainable = self.net.first_trainable_group() or "head"
        # A frozen prefix (the ``top`` plan) is cached at its boundary like the head-only features,
        # when the images are not augmented and its outputs fit the memory budget.
        self.prefix_cache = bool(cfg.cache_features and not self.head_only and not self.augment
                                 and self.first_trainable != self.net.group_names[0])
        self.cache_start: str | None = None  # the group that reads the cached outputs, when cached
        self.gen = torch.Generator().manual_seed(cfg.seed)
        self.loss_fn = nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing)

    def _make_optimizer(self, steps_per_epoch: int):
        groups = param_groups(self.net, self.plan, self.config.lr, self.config.weight_decay)
        opt = AdamW(groups)
        sched = WarmupCosine(opt, steps_per_epoch * self.config.epochs)
        return opt, sched

    # -- batches --------------------------------------------------------------
    def _to_input(self, uint8_batch: torch.Tensor) -> torch.Tensor:
        x = uint8_batch.to(self.device, non_blocking=True)
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return self.normalize(x)

    def _fetch(self, store, indices) -> torch.Tensor:
        """A normalized input batch on the device; its time (decoding included) counts as data time."""
        t = time.perf_counter()
        x = self._to_input(store.get_batch(indices))
        self._data_s += time.perf_counter() - t
        return x

    def _autocast(self):
        return torch.autocast(self.device.type, dtype=self.amp_dtype, enabled=self.use_amp)

    def _forward_train(self, x: torch.Tensor) -> torch.Tensor:
        start = self.first_trainable
        with self._autocast():
            if start != self.net.group_names[0]:
                # The frozen prefix: no graph, no stored activations.
                with torch.no_grad():
                    x = self.net.forward_until(x, start)
            return self.net.forward_from(x, start)

    @torch.no_grad()
    def _compute_features(self, store, phase: str, until: str = "head") -> torch.Tensor:
        """Outputs of the frozen groups before ``until`` for every image of ``store`` (BatchNorm in eval)."""
        self.net.eval()
        feats = []
        n = len(store)
        bs = max(self.config.batch_size, 64)
        for i in range(0, n, bs):
            self._check_stop()
            x = self._fetch(store, range(i, min(n, i + bs)))
            with self._autocast():
                out = self.net.forward_until(x, until)
                # Head features are kept in float32; a prefix keeps the dtype the next group would get.
                feats.append(out.float() if until == "head" else out)
            self.emit(ev.Status(phase="features", message=f"Computing frozen features ({phase})", fraction=min(1.0, (i + bs) / n)))
        return torch.cat(feats) if feats else torch.empty(0)

    @torch.no_grad()
    def _prefix_fits_budget(self) -> bool:
        """Would the frozen prefix's outputs for every image fit the memory budget?"""
        self.net.eval()
        probe = torch.zeros(1, 3, self.image_size, self.image_size, device=self.device)
        with self._autocast():
            out = self.net.forward_until(self.normalize(probe), self.first_trainable)
        need = out.numel() * out.element_size() * (len(self.train_items) + len(self.val_items))
        return need <= self.config.memory_budget_mb * 2**20

    def _maybe_batch_event(self, epoch: int, step: int, steps: int, seen: int, t0: float, loss: float) -> None:
        now = time.time()
        if step < steps and now - self._last_batch_event < BATCH_EVENT_INTERVAL_S:
            return
        self._last_batch_event = now
        elapsed = max(1e-6, now - t0)
        ips = seen / elapsed
        remaining = (steps - step) * elapsed / max(1, step) + (self.config.epochs - epoch) * elapsed * steps / max(1, step)
        self.emit(ev.BatchProgress(epoch=epoch, step=step, steps=steps, images_per_sec=ips, train_loss=loss, eta_s=remaining))

    def _check_loss(self, loss: float, epoch: int, step: int) -> None:
        if not math.isfinite(loss):
            raise TrainingError(
                f"The loss became {'NaN' if math.isnan(loss) else 'infinite'} at epoch {epoch}, step {step}: "
                f"training diverged (learning rate {self.config.lr:g} is probably too high).",
                "Lower the learning rate (for example 1e-3 or 1e-4) and start again.",
                code="non_finite_loss",
            )

    # -- epochs ----------------------------------------------------------------
    def _train_epoch(self, epoch: int, opt, sched, features: torch.Tensor | None) -> tuple[float, float, int]:
        cfg = self.config
        n = len(self.train_items)
        perm = torch.randperm(n, generator=self.gen)
        bs = self.batch_size
        steps = math.ceil(n / bs)
        self.net.train()
        total_loss = 0.0
        correct = torch.zeros((), device=self.device, dtype=torch.long)
        seen = 0
        t0 = time.time()
        for step in range(1, steps + 1):
            self._check_stop()
            idx = perm[(step - 1) * bs: step * bs]
            # index_select: the same rows as features[idx], several times cheaper for small batches
            y = self.train_labels.index_select(0, idx).to(self.device, non_blocking=True)
            if features is not None:
                _fault_hook(step)
                x = features.index_select(0, idx.to(features.device))
                if x.dim() == 4 and self.channels_last:
                    x = x.contiguous(memory_format=torch.channels_last)  # index_select returns NCHW
                with self._autocast():
                    logits = self.net.forward_from(x, self.cache_start)
            else:
                x = self._fetch(self.train_store, idx.tolist())
                if self.augment:
                    x = augment_batch(x, self.gen)
                _fault_hook(step)
                logits = self._forward_train(x)
            loss = self.loss_fn(logits.float(), y)
            loss_value = loss.item()  # one read serves the divergence check, the mean and the events
            self._check_loss(loss_value, epoch, step)
            opt.zero_grad(set_to_none=True)
            self.scaler.scale(loss).backward()
            self.scaler.step(opt)
            self.scaler.update()
            sched.step()
            total_loss += loss_value * len(idx)
            correct += (logits.argmax(1) == y).sum()
            seen += len(idx)
            self._maybe_batch_event(epoch, step, steps, seen, t0, loss_value)
        return total_loss / max(1, seen), float(correct) / max(1, seen), seen

    @torch.no_grad()
    def _evaluate(self, features: torch.Tensor | None, collect: bool = False):
        self.net.eval()
        n = len(self.val_items)
        bs = max(self.config.batch_size, 64)
        losses, preds, confs = [], [], []
        for i in range(0, n, bs):
            self._check_stop()
            y = self.val_labels[i:i + bs].to(self.device)
            with self._autocast():
                if features is not None:
                    logits = self.net.forward_from(features[i:i + bs], self.cache_start)
                else:
                    logits = self.net(self._fetch(self.val_store, range(i, min(n, i + bs))))
            logits = logits.float()
            losses.append(F.cross_entropy(logits, y, reduction="sum"))
            p = logits.softmax(1)
            c, pr = p.max(1)
            preds.append(pr)
            confs.append(c)
        pred = torch.cat(preds).cpu() if preds else torch.empty(0, dtype=torch.long)
        loss = float(sum(losses)) / max(1, n) if losses else 0.0
        acc = float((pred == self.val_labels).float().mean()) if n else 0.0
        if not collect:
            return loss, acc
        return loss, acc, pred, (torch.cat(confs).cpu() if confs else torch.empty(0))

    def _save_best(self, epoch: int, acc: float) -> None:
        self.best_state = {k: v.detach().to("cpu", copy=True) for k, v in self.net.state_dict().items()}
        if self.checkpoint_path is None:
            return
        save_checkpoint_atomic(
            {
                "model_state": self.best_state,
                "config": self.config.to_json(),
                "classes": self.classes,
                "epoch": epoch,
                "val_accuracy": acc,
                "model": self.config.model,
                "image_size": self.image_size,
                "mean": list(self.spec.mean),
                "std": list(self.spec.std),
                "plan_report": self.plan_report.to_json(),
                "format": "tlcore-checkpoint-1",
            },
            self.checkpoint_path,
        )

    def _final_evaluation(self, features) -> None:
        if self.best_state is not None:
            self.net.load_state_dict(self.best_state)
        _, _, pred, conf = self._evaluate(features, collect=True)
        k = len(self.classes)
        confusion = torch.zeros(k, k, dtype=torch.long)
        for t, p in zip(self.val_labels.tolist(), pred.tolist()):
            confusion[t, p] += 1
        per_class = [
            float(confusion[i, i]) / max(1, int(confusion[i].sum())) for i in range(k)
        ]
        wrong = [i for i in range(len(pred)) if pred[i] != self.val_labels[i]]
        wrong.sort(key=lambda i: -float(conf[i]))
        mis = [
            {
                "path": self.val_items[i][0],
                "true": self.classes[int(self.val_labels[i])],
                "pred": self.classes[int(pred[i])],
                "confidence": round(float(conf[i]), 4),
            }
            for i in wrong[:MAX_MISCLASSIFIED]
        ]
        self.emit(ev.Evaluation(classes=self.classes, per_class_accuracy=per_class, confusion=confusion.tolist(), misclassified=mis))

    def fit(self) -> TrainResult:
        cfg = self.config
        t_start = time.time()
        self.setup()
        self.setup_seconds = time.time() - t_start
        self.batch_size = min(cfg.batch_size, max(1, len(self.train_items)))
        train_feats = val_feats = None
        if self.feature_cache or (self.prefix_cache and self._prefix_fits_budget()):
            self.cache_start = "head" if self.feature_cache else self.first_trainable
            train_feats = self._compute_features(self.train_store, "train", self.cache_start)
            val_feats = self._compute_features(self.val_store, "validation", self.cache_start)
        self.cache_seconds = time.time() - t_start - self.setup_seconds
        steps = math.ceil(len(self.train_items) / self.batch_size)
        self.emit(
            ev.FitStart(
                epochs=cfg.epochs,
                steps_per_epoch=steps,
                num_train=len(self.train_items),
                num_val=len(self.val_items),
                classes=self.classes,
                device=str(self.device),
                plan=cfg.plan,
                model=cfg.model,
                trainable_params=self.plan_report.trainable_params,
                frozen_params=self.plan_report.frozen_params,
                plan_report=self.plan_report.to_json(),
                feature_cache=train_feats is not None,
                lr=cfg.lr,
                body_lr=0.0 if self.head_only else cfg.lr * self.plan.backbone_lr_mult,
            )
        )
        opt, sched = self._make_optimizer(steps)
        epoch = 1
        retried_oom = False
        decodes_before = 0
        while epoch <= cfg.epochs:
            self.emit(ev.EpochStart(epoch=epoch))
            t0 = time.time()
            self._data_s = 0.0
            try:
                train_loss, train_acc, seen = self._train_epoch(epoch, opt, sched, train_feats)
            except torch.OutOfMemoryError:
                if retried_oom or self.batch_size <= 1:
                    raise TrainingError(
                        f"Out of GPU memory even at batch size {self.batch_size}.",
                        "Use a smaller --batch-size or --image-size, a smaller model, or train on the CPU.",
                        code="out_of_memory",
                    ) from None
                retried_oom = True
                self.batch_size = max(1, self.batch_size // 2)
                if self.device.type == "cuda":
                    torch.cuda.empty_cache()
                self.emit(ev.Warning_(code="oom_retry", message=f"Out of memory: retrying the epoch with half the batch size ({self.batch_size})."))
                steps = math.ceil(len(self.train_items) / self.batch_size)
                opt, sched = self._make_optimizer(steps)
                continue
            train_s = time.time() - t0
            val_loss, val_acc = self._evaluate(val_feats)
            if epoch == 1:
                decodes_before = self.train_store.decodes + self.val_store.decodes
            is_best = val_acc > self.best_acc
            if is_best:
                self.best_acc, self.best_epoch = val_acc, epoch
                self._save_best(epoch, val_acc)
            secs = time.time() - t0
            self.epochs_completed = epoch
            self.epoch_timings.append({"epoch": epoch, "train_s": train_s, "data_s": self._data_s, "seconds": secs, "images": seen})
            self.emit(
                ev.EpochEnd(
                    epoch=epoch,
                    train_accuracy=train_acc,
                    val_accuracy=val_acc,
                    train_loss=train_loss,
                    val_loss=val_loss,
                    seconds=secs,
                    images_per_sec=seen / max(1e-6, secs),
                    lr=opt.param_groups[0]["lr"],
                    best=is_best,
                )
            )
            epoch += 1
        self.decodes_after_epoch1 = self.train_store.decodes + self.val_store.decodes - decodes_before
        self._final_evaluation(val_feats)
        secs = time.time() - t_start
        self.emit(ev.FitEnd(best_val_accuracy=max(0.0, self.best_acc), best_epoch=self.best_epoch, epochs_completed=self.epochs_completed, seconds=secs))
        return TrainResult("completed", max(0.0, self.best_acc), self.best_epoch, self.epochs_completed, secs)


def _fault_hook(step: int) -> None:
    """Fault injection for tests of the run machinery (TLCORE_FAULT=oom_once|sleep)."""
    fault = os.environ.get("TLCORE_FAULT")
    if not fault:
        return
    if fault == "oom_once" and not getattr(_fault_hook, "fired", False):
        _fault_hook.fired = True  # type: ignore[attr-defined]
        raise torch.OutOfMemoryError("simulated CUDA out of memory")
    if fault.startswith("sleep"):
        time.sleep(float(fault[5:] or 0.2))


def train(config: TrainConfig, emit: ev.Emit = ev.ignore, stop: StopFn | None = None,
          checkpoint_path: str | Path | None = None) -> TrainResult:
    """Fit one config, emitting events. Returns the result; stop() ends it early with status 'stopped'.

    User-facing problems raise :class:`TLError` after a ``failed`` event.
    """
    trainer = Trainer(config, emit, stop, checkpoint_path)
    t0 = time.time()
    try:
        return trainer.fit()
    except Cancelled:
        emit(ev.Cancelled(epochs_completed=trainer.epochs_completed, best_val_accuracy=max(0.0, trainer.best_acc)))
        return TrainResult("stopped", max(0.0, trainer.best_acc), trainer.best_epoch, trainer.epochs_completed, time.time() - t0)
    except TLError as exc:
        emit(ev.Failed(code=exc.code, message=exc.user_message()))
        raise
