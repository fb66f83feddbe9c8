"""Typed training events: the trainer emits them; the run store, the CLI and the app subscribe."""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Callable

#: The closed list of event kinds.
EVENT_KINDS = (
    "fit_start",
    "status",
    "epoch_start",
    "batch",
    "epoch_end",
    "evaluation",
    "warning",
    "fit_end",
    "cancelled",
    "failed",
)


@dataclass
class Event:
    kind: str
    time: float = field(default_factory=time.time)

    def to_json(self) -> dict:
        return asdict(self)


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
    train_loss: float = 0.0
    val_loss: float = 0.0
    seconds: float = 0.0
    images_per_sec: float = 0.0
    lr: float = 0.0
    best: bool = False


@dataclass
class Evaluation(Event):
    """Per-class accuracy, confusion matrix and misclassified examples of the best model."""

    kind: str = "evaluation"
    classes: list = field(default_factory=list)
    per_class_accuracy: list = field(default_factory=list)
    confusion: list = field(default_factory=list)
    misclassified: list = field(default_factory=list)  # {path, true, pred, confidence}


@dataclass
class Warning_(Event):
    kind: str = "warning"
    code: str = ""
    message: str = ""


@dataclass
class FitEnd(Event):
    kind: str = "fit_end"
    best_val_accuracy: float = 0.0
    best_epoch: int = 0
    epochs_completed: int = 0
    seconds: float = 0.0


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


Emit = Callable[[Event], None]


def ignore(_event: Event) -> None:
    """An emit function that drops every event."""
