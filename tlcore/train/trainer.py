"""The trainer: config and stop signal in, typed events out. It never prints."""
from __future__ import annotations

import math
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from .. import events as ev
from ..config import TrainConfig
from ..errors import ConfigError, StopRequested, TLError, TrainingError
from ..models import GroupedNet, Normalize, build_model, get_spec
from ..optim import AdamW, RelativeGradNorm, WarmupCosine
from ..plans import FreezePlan, apply_plan, param_groups, plan_of
from .augment import augment_batch
from .cached import FeatureCache
from .checkpoint import make_checkpoint, save_checkpoint_atomic
from .device import Precision, pick_device, seed_everything
from .distributed import SINGLE, DistContext
from .metrics import balanced_accuracy, confusion_matrix, per_class_recall
from .split import Split, batch_slices
from .streaming import StreamingData

StopFn = Callable[[], bool]

#: Batch progress events are throttled to this interval: enough for a live bar,
#: cheap for the event log and its readers.
BATCH_EVENT_INTERVAL_S = 0.25

#: Misclassified validation examples kept for the app to show.
MAX_MISCLASSIFIED = 24


@dataclass
class TrainResult:
    status: str  # completed | stopped
    best_val_accuracy: float
    best_epoch: int
    epochs_completed: int
    seconds: float
    best_val_balanced_accuracy: float = 0.0


def _has_training_batchnorm(net: GroupedNet) -> bool:
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm)
               for name, g in net.groups.items() if name not in net.frozen and name not in net.bn_frozen
               for m in g.modules())


class Trainer(FeatureCache, StreamingData):
    """One fit of one config. Use :func:`train` unless you need the pieces.

    Frozen-feature caching is in train/cached.py, the streaming set-up in train/streaming.py.
    """

    def __init__(self, config: TrainConfig, emit: ev.Emit = ev.ignore, stop: StopFn | None = None,
                 checkpoint_path: str | Path | None = None, dist: DistContext | None = None,
                 feature_memo: dict | None = None):
        self.config = config
        self.dist = dist or SINGLE  # one rank of a distributed run, or SINGLE (see train/distributed.py)
        self._scratch: Path | None = None  # this run's own folder for files (streamed feature rows)
        self._trained = None  # forward through the trained groups (under DDP when distributed); set per epoch
        self._threads = 0  # torch's compute threads before streaming took some cores for its decoders (0: untouched)
        #: Shared by the fits of one process (a learning curve's head fits): frozen features of whole splits.
        self.feature_memo = feature_memo
        self.emit = emit
        self.stop = stop or (lambda: False)
        self.checkpoint_path = Path(checkpoint_path) if checkpoint_path else None
        self.spec = get_spec(config.model)
        self.plan: FreezePlan = plan_of(config)
        self.lr_rule: RelativeGradNorm | None = None  # Auto-RGN's per-tensor rates, for plans with lr_rule "rgn"
        self.best_score = -1.0  # what chooses the best epoch: accuracy, or balanced accuracy when imbalanced
        self.best: ev.EpochEnd | None = None
        self.best_state: dict | None = None
        self.epochs_completed = 0
        self._data_s = 0.0
        self._last_batch_event = 0.0

    # -- derived from the config ------------------------------------------------
    @property
    def image_size(self) -> int:
        return self.config.image_size or self.spec.input_size

    @property
    def augment(self) -> bool:
        return self.config.augment if self.config.augment is not None else self.plan.spec.augment

    def _check_stop(self) -> None:
        if self.stop():
            raise StopRequested()

    # -- setup ---------------------------------------------------------------
    def setup(self) -> None:
        from ..data import IMBALANCE_RATIO, ImageStore, open_dataset

        cfg = self.config
        if self.image_size < self.spec.min_input_size:
            raise ConfigError(
                f"Image size {self.image_size} px is smaller than {cfg.model} accepts ({self.spec.min_input_size} px).",
                f"Use an image size of at least {self.spec.min_input_size}, or another model.", code="image_too_small")
        seed_everything(cfg.seed)
        self.device = self.dist.device or pick_device(cfg.device)
        self.precision = Precision.for_device(self.device)
        self.emit(ev.Status(phase="data", message="Reading the dataset"))
        self.dataset = open_dataset(cfg.data, val_fraction=cfg.val_fraction, seed=cfg.seed)
        self.classes = list(self.dataset.classes)
        self.train_index = None  # positions of a training subset in the whole training split
        if cfg.train_fraction < 1.0:
            from .subsets import nested_subset

            self.train_index = nested_subset([y for _, y in self.dataset.train], cfg.train_fraction, cfg.seed)
        train_items = self.dataset.train if self.train_index is None else [self.dataset.train[i] for i in self.train_index]
        counts = [sum(1 for _, y in train_items if y == k) for k in range(len(self.classes))]
        self.imbalanced = min(counts) * IMBALANCE_RATIO < max(counts)
        self._check_stop()

        def progress(done: int, total: int) -> None:
            frac = done / total if total else 0.0
            self.emit(ev.Status(phase="weights", message=f"Downloading weights {done / 1e6:.1f} MB", fraction=frac))

        weights = cfg.weights if self.plan.pretrained else "none"
        if weights != "none":
            self.emit(ev.Status(phase="weights", message="Loading pretrained weights"))
        self.net: GroupedNet = build_model(cfg.model, len(self.classes), weights, progress=progress)
        for note in self.net.weights_notes:  # e.g. a weights file's classifier replaced by a new head
            self.emit(ev.Warning_(code=note.code, message=note.message))
        self.plan_report = apply_plan(self.net, self.plan)
        # Both stores share one memory budget, in proportion to their size.
        budget = cfg.memory_budget_mb * 2**20
        n_all = max(1, self.dataset.num_images)
        self.train, self.val = (
            Split(list(items), torch.tensor([y for _, y in items], dtype=torch.long),
                  ImageStore([p for p, _ in items], self.image_size, budget * len(items) // n_all,
                             crop_pct=self.spec.crop_pct))
            for items in (train_items, self.dataset.val))
        self._prepare_streaming()
        self.normalize = Normalize(self.spec.mean, self.spec.std).to(self.device)
        self.net.to(self.device)
        if self.precision.channels_last:
            self.net.to(memory_format=torch.channels_last)
        self.scaler = self.precision.scaler()
        self.gen = torch.Generator().manual_seed(cfg.seed)
        self._aug_gen = self.dist.augment_generator(self.gen, cfg.seed)
        self.loss_fn = nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing)
        self.batch_size = min(cfg.batch_size, max(1, len(self.train)))
        if self.batch_size == 1 and len(self.train) > 1 and _has_training_batchnorm(self.net):
            self.batch_size = 2
            self.emit(ev.Warning_(code="batch_size_raised", message=(
                "Batch size 1 cannot train BatchNorm layers (they need two images to normalize); training with 2.")))
        self.phase_plan = self.phases()[0][1]
        if self.phase_plan is not self.plan:
            apply_plan(self.net, self.phase_plan)
        self.cache_start = self._cache_start()

    def phases(self) -> list[tuple[str, FreezePlan, int]]:
        """(name, plan, epochs) of each phase: one for most plans; LP-FT's linear probe, then fine-tuning."""
        cfg = self.config
        if self.plan.spec.linear_probe_first:
            return [("linear_probe", self.plan.head_only(), cfg.probe_epochs or cfg.epochs),
                    ("fine_tune", self.plan, cfg.epochs)]
        return [("fit", self.plan, cfg.epochs)]

    def _make_optimizer(self, steps_per_epoch: int, epochs: int):
        """The current phase's optimizer and schedule; Auto-RGN's rate rule when the plan asks for it.

        The new head's rate is the config's, else the phase's plan's own (LP-FT's linear probe is the
        ``head`` plan: it takes that plan's rate).
        """
        plan = self.phase_plan
        lr = self.config.lr if self.config.lr is not None else plan.spec.lr
        groups = param_groups(self.net, plan, lr, self.config.weight_decay)
        if plan.spec.lr_rule == "rgn":  # the head's tensors first: EpochEnd.lr reports the first group
            groups.sort(key=lambda g: g.get("layer_group") != "head")
        opt = AdamW(groups)
        sched = WarmupCosine(opt, steps_per_epoch * epochs)
        self.lr_rule = RelativeGradNorm(opt) if plan.spec.lr_rule == "rgn" else None
        return opt, sched

    def _enter_phase(self, name: str, plan: FreezePlan, epoch: int, epochs: int) -> None:
        """Apply the phase's plan, recompute what is cached for it, and say so (a ``phase`` event)."""
        self.phase_plan = plan
        report = apply_plan(self.net, plan)
        cache_start = self._cache_start()
        if cache_start != self.cache_start:
            self.cache_start = cache_start
            self.train.cached = self.val.cached = None
            if cache_start is not None:
                self.train.cached = self._cached_outputs(self.train, "train")
                self.val.cached = self._cached_outputs(self.val, "validation")
        # Only the final phase's model is the plan's result: the best epoch is chosen within it.
        self.best_score, self.best = -1.0, None
        self.emit(ev.PhaseStart(phase=name, epoch=epoch, epochs=epochs, trainable_params=report.trainable_params))

    # -- batches --------------------------------------------------------------
    def _fetch(self, split: Split, indices) -> torch.Tensor:
        """A normalized input batch on the device; its time (decoding included) counts as data time."""
        t = time.perf_counter()
        x = split.store.get_batch(indices).to(self.device, non_blocking=True)
        if self.precision.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        x = self.normalize(x)
        self._data_s += time.perf_counter() - t
        return x

    def _forward_train(self, x: torch.Tensor) -> torch.Tensor:
        start = self.net.first_trainable_group() or "head"
        with self.precision.autocast():
            if start != self.net.group_names[0]:
                # The frozen prefix: no graph, no stored activations.
                with torch.no_grad():
                    x = self.net.forward_until(x, start)
            return self._trained(x, start)

    def _maybe_batch_event(self, epoch: int, step: int, steps: int, seen: int, t0: float, loss: float) -> None:
        now = time.time()
        if step < steps and now - self._last_batch_event < BATCH_EVENT_INTERVAL_S:
            return
        self._last_batch_event = now
        elapsed = max(1e-6, now - t0)
        remaining = (steps - step) * elapsed / max(1, step) + (self.config.epochs - epoch) * elapsed * steps / max(1, step)
        self.emit(ev.BatchProgress(epoch=epoch, step=step, steps=steps, images_per_sec=seen / elapsed,
                                   train_loss=loss, eta_s=remaining))

    def _check_loss(self, loss: float, epoch: int, step: int) -> None:
        if not math.isfinite(loss):
            raise TrainingError(
                f"The loss became {'NaN' if math.isnan(loss) else 'infinite'} at epoch {epoch}, step {step}: "
                f"training diverged (learning rate {self.config.head_lr:g} is probably too high).",
                "Lower the learning rate (for example 1e-3 or 1e-4) and start again.",
                code="non_finite_loss",
            )

    # -- epochs ----------------------------------------------------------------
    def _train_epoch(self, epoch: int, opt, sched) -> tuple[float, float, int]:
        split = self.train
        perm = torch.randperm(len(split), generator=self.gen)
        batches = self.dist.shard(perm, batch_slices(len(split), self.batch_size))  # this process's share
        steps = len(batches)
        if split.cached is None:
            split.store.announce([idx.tolist() for idx, _ in batches])  # streaming: decoded ahead in this order
        self._trained = self.dist.trained_part(self.net)  # DDP around the trained groups when distributed
        self.net.train()
        total_loss = 0.0
        correct = torch.zeros((), device=self.device, dtype=torch.long)
        seen = 0
        t0 = time.time()
        for step, (idx, global_rows) in enumerate(batches, 1):
            self._check_stop()
            # index_select: the same rows as labels[idx], several times cheaper for small batches
            y = split.labels.index_select(0, idx).to(self.device, non_blocking=True)
            rows = len(idx)
            if split.cached is not None:
                # .to: rows kept on disk (streamed data) come to the device batch by batch
                x = split.cached.index_select(0, idx.to(split.cached.device)).to(self.device, non_blocking=True)
                if x.dim() == 4 and self.precision.channels_last:
                    x = x.contiguous(memory_format=torch.channels_last)  # index_select returns NCHW
                with self.precision.autocast():
                    logits = self._trained(x, self.cache_start)
            else:
                x = self._fetch(split, idx.tolist())
                if split.store.failed:
                    x, y, rows = self._without_failed(split, idx, x, y)
                if self.augment:
                    x = augment_batch(x, self._aug_gen)
                logits = self._forward_train(x)
            loss = self.loss_fn(logits.float(), y)
            if not rows:
                loss = loss * 0.0  # every image of this share failed to decode: a step that changes nothing
            loss_value = loss.item()  # one read serves the divergence check, the mean and the events
            self._check_loss(loss_value, epoch, step)
            opt.zero_grad(set_to_none=True)
            self.scaler.scale(self.dist.scale_loss(loss, rows, global_rows)).backward()
            if self.lr_rule is not None:
                self.lr_rule.observe()
            self.scaler.step(opt)
            self.scaler.update()
            sched.step()
            total_loss += loss_value * rows
            if rows:
                correct += (logits.argmax(1) == y).sum()
            seen += rows
            self._maybe_batch_event(epoch, step, steps, seen, t0, loss_value)
        total_loss, right, seen = self.dist.sum(total_loss, float(correct), seen)  # over every process
        self._leave_out_failed(split, "training")
        return total_loss / max(1, seen), right / max(1, seen), int(seen)

    @torch.no_grad()
    def _evaluate(self) -> tuple[float, torch.Tensor, torch.Tensor]:
        """(mean loss, predictions, confidences) on the validation split."""
        split = self.val
        self.net.eval()
        bs = max(self.config.batch_size, 64)
        loss_sum, positions, preds, confs = 0.0, [], [], []
        batches = self.dist.eval_batches(len(split), bs)  # distributed: this process's share
        if split.cached is None:
            split.store.announce([list(b) for b in batches if len(b)])  # streaming: decoded ahead
        for batch in batches:
            self._check_stop()
            if not len(batch):
                continue  # the other processes still have a batch; the stop check above kept them in step
            rows = slice(batch.start, batch.stop, batch.step)
            kept = list(batch)
            y = split.labels[rows].to(self.device)
            with self.precision.autocast():
                if split.cached is not None:
                    logits = self.net.forward_from(split.cached[rows].to(self.device), self.cache_start)
                else:
                    x = self._fetch(split, batch)
                    if split.store.failed:  # files failing their first decode count for nothing
                        keep = [k for k, i in enumerate(kept) if i not in split.store.failed]
                        if not keep:
                            continue
                        x, y, kept = x[keep], y[keep], [kept[k] for k in keep]
                    logits = self.net(x)
            logits = logits.float()
            loss_sum += float(F.cross_entropy(logits, y, reduction="sum"))
            c, p = logits.softmax(1).max(1)
            positions += kept
            preds.append(p)
            confs.append(c)
        pred = torch.cat(preds).cpu() if preds else torch.empty(0, dtype=torch.long)
        conf = torch.cat(confs).cpu() if confs else torch.empty(0)
        failed = dict(split.store.failed)
        if self.dist.enabled:  # every process gets every prediction, in the split's order
            parts = self.dist.gather((positions, pred, conf, loss_sum, failed))
            positions = [i for part in parts for i in part[0]]
            order = sorted(range(len(positions)), key=positions.__getitem__)
            pred, conf = (torch.cat([part[k] for part in parts])[order] for k in (1, 2))
            loss_sum = sum(part[3] for part in parts)
            failed = {i: f for part in parts for i, f in part[4].items()}
        self._leave_out_failed(split, "validation", failed)
        return loss_sum / max(1, len(pred)), pred, conf

    def _save_best(self, epoch_end: ev.EpochEnd) -> None:
        self.best_state = {k: v.detach().to("cpu", copy=True) for k, v in self.net.state_dict().items()}
        if self.checkpoint_path is None:
            return
        save_checkpoint_atomic(make_checkpoint(
            model_state=self.best_state, config=self.config.to_json(), classes=self.classes, epoch=epoch_end.epoch,
            val_accuracy=epoch_end.val_accuracy, val_balanced_accuracy=epoch_end.val_balanced_accuracy,
            model=self.config.model, image_size=self.image_size, mean=self.spec.mean, std=self.spec.std,
            plan_report=self.plan_report.to_json()), self.checkpoint_path)

    def _final_evaluation(self) -> None:
        if self.best_state is not None:
            self.net.load_state_dict(self.best_state)
        _, pred, conf = self._evaluate()
        labels = self.val.labels
        confusion = confusion_matrix(labels, pred, len(self.classes))
        wrong = [i for i in range(len(pred)) if pred[i] != labels[i]]
        wrong.sort(key=lambda i: -float(conf[i]))
        mis = [{"path": self.val.items[i][0], "true": self.classes[int(labels[i])], "pred": self.classes[int(pred[i])],
                "confidence": round(float(conf[i]), 4)} for i in wrong[:MAX_MISCLASSIFIED]]
        self.emit(ev.Evaluation(classes=self.classes, per_class_accuracy=per_class_recall(confusion),
                                balanced_accuracy=balanced_accuracy(confusion), confusion=confusion.tolist(),
                                misclassified=mis, num_misclassified=len(wrong)))

    def _epoch(self, epoch: int, opt, sched) -> ev.EpochEnd:
        t0 = time.time()
        self._data_s = 0.0
        train_loss, train_acc, seen = self._train_epoch(epoch, opt, sched)
        if self.lr_rule is not None:
            self.lr_rule.epoch_end()  # Auto-RGN: next epoch's per-tensor rates from this epoch's gradients
        train_s = time.time() - t0
        val_loss, pred, _ = self._evaluate()
        labels = self.val.labels
        acc = float((pred == labels).float().mean()) if len(labels) else 0.0
        bal = balanced_accuracy(confusion_matrix(labels, pred, len(self.classes)))
        # A non-finite validation loss is a diverging model: never the best one.
        score = (bal if self.imbalanced else acc) if math.isfinite(val_loss) else -math.inf
        is_best = score > self.best_score
        secs = time.time() - t0
        end = ev.EpochEnd(epoch=epoch, train_accuracy=train_acc, val_accuracy=acc, val_balanced_accuracy=bal,
                          train_loss=train_loss, val_loss=val_loss if math.isfinite(val_loss) else None,
                          seconds=secs, images_per_sec=seen / max(1e-6, secs), lr=opt.param_groups[0]["lr"],
                          best=is_best, train_seconds=train_s, data_seconds=self._data_s, images=seen)
        if is_best:
            self.best_score, self.best = score, end
            self._save_best(end)
        return end

    def fit(self) -> TrainResult:
        cfg = self.config
        t_start = time.time()
        self.setup()
        setup_s = time.time() - t_start
        if self.cache_start is not None:
            self.train.cached = self._shared_cached(self.train, "train")
            self.val.cached = self._shared_cached(self.val, "validation")
        cache_s = time.time() - t_start - setup_s
        if self.imbalanced:
            self.emit(ev.Warning_(code="imbalanced_best", message=(
                "The classes are imbalanced: the best epoch is chosen by balanced accuracy (the mean of the "
                "per-class accuracies), so that a rare class counts as much as a common one.")))
        steps = len(batch_slices(len(self.train), self.batch_size))
        phases = self.phases()
        self.emit(ev.FitStart(
            epochs=sum(n for _, _, n in phases), steps_per_epoch=steps, num_train=len(self.train),
            num_val=len(self.val), classes=self.classes, device=self.dist.describe(self.device), plan=cfg.plan,
            model=cfg.model,
            trainable_params=self.plan_report.trainable_params, frozen_params=self.plan_report.frozen_params,
            plan_report=self.plan_report.to_json(), feature_cache=self.cache_start is not None, lr=cfg.head_lr,
            body_lr=0.0 if self.plan.spec.trains == "head" else cfg.head_lr * self.plan.body_lr_mult,
            imbalanced=self.imbalanced, batch_size=self.batch_size, setup_seconds=setup_s, cache_seconds=cache_s))
        epoch = 1
        self._decodes_after_1 = 0
        for name, plan, epochs in phases:
            if len(phases) > 1:
                self._enter_phase(name, plan, epoch, epochs)
            epoch = self._run_epochs(epoch, epochs)
        decodes_again = self.train.store.decodes + self.val.store.decodes - self._decodes_after_1
        self._final_evaluation()
        result = self._result("completed", time.time() - t_start)
        self.emit(ev.FitEnd(best_val_accuracy=result.best_val_accuracy,
                            best_val_balanced_accuracy=result.best_val_balanced_accuracy, best_epoch=result.best_epoch,
                            epochs_completed=self.epochs_completed, seconds=result.seconds,
                            decodes_after_epoch1=decodes_again))
        return result

    def _run_epochs(self, first: int, epochs: int) -> int:
        """Train ``epochs`` epochs of the current phase numbered from ``first``; returns the next epoch's number.

        Out of memory: the epoch is retried once at half the batch size.
        """
        opt, sched = self._make_optimizer(len(batch_slices(len(self.train), self.batch_size)), epochs)
        epoch, last = first, first + epochs - 1
        retried_oom = False
        while epoch <= last:
            self.emit(ev.EpochStart(epoch=epoch))
            try:
                end = self._epoch(epoch, opt, sched)
            except torch.OutOfMemoryError:
                if retried_oom or self.batch_size <= 2 or self.dist.enabled:  # ranks cannot retry one alone
                    raise TrainingError(
                        f"Out of GPU memory even at batch size {self.batch_size}.",
                        "Use a smaller --batch-size or --image-size, a smaller model, or train on the CPU.",
                        code="out_of_memory",
                    ) from None
                retried_oom = True
                self.batch_size = max(2, self.batch_size // 2)
                if self.device.type == "cuda":
                    torch.cuda.empty_cache()
                self.emit(ev.Warning_(code="oom_retry", message=(
                    f"Out of memory: retrying the epoch with half the batch size ({self.batch_size}).")))
                opt, sched = self._make_optimizer(len(batch_slices(len(self.train), self.batch_size)),
                                                  last - epoch + 1)
                continue
            if epoch == 1:
                self._decodes_after_1 = self.train.store.decodes + self.val.store.decodes
                self._images_to_device()
            self.epochs_completed = epoch
            self.emit(end)
            epoch += 1
        return epoch

    def close(self) -> None:
        """Stop decoding workers, give back the compute threads and remove this fit's files."""
        if self._threads:
            torch.set_num_threads(self._threads)
            self._threads = 0
        for split in (getattr(self, "train", None), getattr(self, "val", None)):
            if split is not None:
                split.store.close()
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None

    def _result(self, status: str, seconds: float) -> TrainResult:
        b = self.best
        return TrainResult(status, b.val_accuracy if b else 0.0, b.epoch if b else 0, self.epochs_completed, seconds,
                           b.val_balanced_accuracy if b else 0.0)


def train(config: TrainConfig, emit: ev.Emit = ev.ignore, stop: StopFn | None = None,
          checkpoint_path: str | Path | None = None, dist: DistContext | None = None,
          feature_memo: dict | None = None) -> TrainResult:
    """Fit one config, emitting events. Returns the result; ``stop()`` ends it early with status 'stopped'.

    User-facing problems raise :class:`TLError` after a ``failed`` event. ``dist``: this process's
    place in a distributed run (see tlcore.train.distributed); None for an ordinary run.
    ``feature_memo``: a dict shared by several fits in one process (see ``Trainer._shared_cached``).
    """
    trainer = Trainer(config, emit, stop, checkpoint_path, dist, feature_memo)
    t0 = time.time()
    try:
        return trainer.fit()
    except StopRequested:
        result = trainer._result("stopped", time.time() - t0)
        emit(ev.Cancelled(epochs_completed=trainer.epochs_completed, best_val_accuracy=result.best_val_accuracy))
        return result
    except TLError as exc:
        emit(ev.Failed(code=exc.code, message=exc.user_message()))
        raise
    finally:
        trainer.close()
