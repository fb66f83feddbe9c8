"""Typed training events: the trainer emits them; the run store, the CLI and the app subscribe.

The closed list of events is the set of dataclasses below. They cross the process
boundary as JSON lines (``to_json`` / ``Event.from_json``), and one fold, :class:`Progress`,
turns a run's events into what every reader shows (the app, the CLI and the worker).
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, fields
from typing import Callable, Iterable


@dataclass
class Event:
    kind: str
    time: float = field(default_factory=time.time)

    def to_json(self) -> dict:
        return asdict(self)

    @staticmethod
    def from_json(obj: dict) -> "Event":
        """The typed event for a JSON object written by ``to_json`` (unknown keys are ignored).

        An unknown ``kind`` (from a newer version) gives a plain :class:`Event`.
        """
        cls = EVENT_TYPES.get(obj.get("kind", ""), Event)
        known = {f.name for f in fields(cls)}
        ev = cls(**{k: v for k, v in obj.items() if k in known and k != "kind"}) if cls is not Event else \
            Event(kind=str(obj.get("kind", "")), time=float(obj.get("time") or 0.0))
        return ev


@dataclass
class FitStart(Event):
    kind: str = "fit_start"
    epochs: int = 0
    steps_per_epoch: int = 0
    num_train: int = 0
    num_val: int = 0
    classes: list = field(default_factory=list)
    device: str = "cpu"
    plan: str = ""
    model: str = ""
    trainable_params: int = 0
    frozen_params: int = 0
    plan_report: dict = field(default_factory=dict)
    feature_cache: bool = False
    lr: float = 0.0  # the new output layer's peak learning rate
    body_lr: float = 0.0  # the retrained body's peak learning rate (0: the body is frozen)
    imbalanced: bool = False  # the best epoch is chosen by balanced accuracy
    batch_size: int = 0  # the batch size training uses (may differ from the config's; a warning says why)
    setup_seconds: float = 0.0  # reading the data, building the model
    cache_seconds: float = 0.0  # computing cached frozen outputs, once


@dataclass
class PhaseStart(Event):
    """A plan with phases (LP-FT: a linear probe, then fine-tuning) starts one at ``epoch``."""

    kind: str = "phase"
    phase: str = ""  # linear_probe | fine_tune
    epoch: int = 0  # the phase's first epoch
    epochs: int = 0  # how many epochs it trains
    trainable_params: int = 0


@dataclass
class Status(Event):
    """A phase change or progress inside a phase (loading data, downloading weights, caching features)."""

    kind: str = "status"
    phase: str = ""
    message: str = ""
    fraction: float = 0.0


@dataclass
class EpochStart(Event):
    kind: str = "epoch_start"
    epoch: int = 0


@dataclass
class BatchProgress(Event):
    kind: str = "batch"
    epoch: int = 0
    step: int = 0
    steps: int = 0
    images_per_sec: float = 0.0
    train_loss: float = 0.0
    eta_s: float = 0.0


@dataclass
class EpochEnd(Event):
    kind: str = "epoch_end"
    epoch: int = 0
    train_accuracy: float = 0.0
    val_accuracy: float = 0.0
    val_balanced_accuracy: float = 0.0  # mean per-class recall over classes with validation images
    train_loss: float = 0.0
    val_loss: float | None = 0.0  # None when it was not finite
    seconds: float = 0.0
    images_per_sec: float = 0.0
    lr: float = 0.0
    best: bool = False
    train_seconds: float = 0.0  # the training part of ``seconds``
    data_seconds: float = 0.0  # fetching batches (decoding included) within ``train_seconds``
    images: int = 0  # training images seen


@dataclass
class Evaluation(Event):
    """Per-class accuracy, confusion matrix and misclassified examples of the best model.

    ``per_class_accuracy[i]`` is None for a class without validation images.
    """

    kind: str = "evaluation"
    classes: list = field(default_factory=list)
    per_class_accuracy: list = field(default_factory=list)
    balanced_accuracy: float = 0.0
    confusion: list = field(default_factory=list)
    misclassified: list = field(default_factory=list)  # {path, true, pred, confidence}, most confident first
    num_misclassified: int = 0  # all of them; ``misclassified`` keeps the first few


@dataclass
class Warning_(Event):
    kind: str = "warning"
    code: str = ""
    message: str = ""


@dataclass
class FitEnd(Event):
    kind: str = "fit_end"
    best_val_accuracy: float = 0.0
    best_val_balanced_accuracy: float = 0.0
    best_epoch: int = 0
    epochs_completed: int = 0
    seconds: float = 0.0
    decodes_after_epoch1: int = 0  # image files decoded again after the first epoch (0 when they fit in memory)


@dataclass
class Cancelled(Event):
    kind: str = "cancelled"
    epochs_completed: int = 0
    best_val_accuracy: float = 0.0


@dataclass
class Failed(Event):
    kind: str = "failed"
    code: str = ""
    message: str = ""


#: The closed list of event types, by kind.
EVENT_TYPES: dict[str, type[Event]] = {
    f.default: cls
    for cls in (FitStart, PhaseStart, Status, EpochStart, BatchProgress, EpochEnd, Evaluation, Warning_, FitEnd, Cancelled, Failed)
    for f in fields(cls) if f.name == "kind"
}

Emit = Callable[[Event], None]


def ignore(_event: Event) -> None:
    """An emit function that drops every event."""


@dataclass
class Progress:
    """What a run's events say so far: the one fold every reader uses. Feed it events as they arrive."""

    offset: int = 0  # bytes of events.jsonl read so far (for incremental reads)
    fit_start: FitStart | None = None
    epochs: list[EpochEnd] = field(default_factory=list)
    batch: BatchProgress | None = None
    status: Status | None = None
    evaluation: Evaluation | None = None
    warnings: list[Warning_] = field(default_factory=list)
    failed: Failed | None = None
    cancelled: Cancelled | None = None
    fit_end: FitEnd | None = None
    current_epoch: int = 0
    phases: list[PhaseStart] = field(default_factory=list)

    def feed(self, events: Iterable[Event]) -> "Progress":
        for e in events:
            if isinstance(e, FitStart):
                self.fit_start = e
            elif isinstance(e, PhaseStart):
                self.phases.append(e)
            elif isinstance(e, Status):
                self.status = e
            elif isinstance(e, EpochStart):
                self.current_epoch = e.epoch
            elif isinstance(e, BatchProgress):
                self.batch = e
            elif isinstance(e, EpochEnd):
                self.epochs.append(e)
            elif isinstance(e, Evaluation):
                self.evaluation = e
            elif isinstance(e, Warning_):
                self.warnings.append(e)
            elif isinstance(e, Failed):
                self.failed = e
            elif isinstance(e, Cancelled):
                self.cancelled = e
            elif isinstance(e, FitEnd):
                self.fit_end = e
        return self

    @property
    def total_epochs(self) -> int:
        return self.fit_start.epochs if self.fit_start else 0

    @property
    def epochs_completed(self) -> int:
        return len(self.epochs)

    @property
    def fraction(self) -> float:
        """Overall progress through the epochs, 0..1."""
        total = self.total_epochs
        if not total:
            return 0.0
        done = len(self.epochs)
        within = 0.0
        b = self.batch
        if b and b.epoch == done + 1 and b.steps:
            within = min(1.0, b.step / b.steps)
        return min(1.0, (done + within) / total)

    @property
    def eta_s(self) -> float:
        return self.batch.eta_s if self.batch else 0.0

    @property
    def images_per_sec(self) -> float:
        return self.batch.images_per_sec if self.batch else 0.0

    @property
    def best_epoch(self) -> EpochEnd | None:
        """The epoch whose model was kept (``best``), or None before the first one."""
        best = [e for e in self.epochs if e.best]
        return best[-1] if best else None

    @property
    def best_val_accuracy(self) -> float:
        b = self.best_epoch
        return b.val_accuracy if b else 0.0

    @property
    def best_val_balanced_accuracy(self) -> float:
        b = self.best_epoch
        return b.val_balanced_accuracy if b else 0.0

    def curve(self, metric: str = "val_accuracy") -> list[tuple[int, float]]:
        return [(e.epoch, float(getattr(e, metric) or 0.0)) for e in self.epochs]
