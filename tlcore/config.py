"""Training configuration: a frozen, self-validating dataclass that round-trips through JSON."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields, replace

from .errors import ConfigError
from .plans import PLAN_NAMES

#: Keys that earlier versions wrote into a run's config.json and that are now kept elsewhere
#: (``quadrant`` lives in the run's meta.json); ignored when an old config is read.
LEGACY_KEYS = frozenset({"quadrant"})


@dataclass(frozen=True)
class TrainConfig:
    data: str
    model: str = "labnet"
    plan: str = "head"  # a name in tlcore.plans.PLANS ("auto" is resolved before a config is made)
    weights: str = "pretrained"  # pretrained | imagenet | none | path to a weights file
    top_stages: int = 1
    epochs: int = 5
    batch_size: int = 32
    lr: float = 1e-3  # the head's peak learning rate; the body gets lr * the plan's multiplier
    weight_decay: float = 1e-4
    image_size: int = 0  # 0: the backbone's own input size
    augment: bool | None = None  # None: the plan's default
    val_fraction: float = 0.2
    seed: int = 0
    device: str = "auto"  # auto | cpu | cuda | cuda:N | mps
    cache_features: bool = True  # frozen backbone: compute features once
    memory_budget_mb: int = 2048  # decoded images kept in memory up to this size
    label_smoothing: float = 0.0
    body_lr_mult: float | None = None  # the body's learning rate relative to the head's (None: the plan's)
    train_fraction: float = 1.0  # train on a nested, class-stratified fraction of the training split (learning curves)

    def __post_init__(self):
        self.validate()

    def validate(self) -> None:
        if not self.data:
            raise ConfigError("No dataset given.", "Pass a folder or a .zip of images.")
        if self.plan not in PLAN_NAMES:
            raise ConfigError(f"Unknown plan {self.plan!r}.", f"Choose one of: {', '.join(PLAN_NAMES)}.")
        checks = [
            (self.epochs >= 1 and self.epochs <= 1000, f"epochs must be 1-1000, not {self.epochs}"),
            (self.batch_size >= 1 and self.batch_size <= 4096, f"batch size must be 1-4096, not {self.batch_size}"),
            (self.lr > 0, f"learning rate must be positive, not {self.lr}"),
            (self.weight_decay >= 0, f"weight decay must be >= 0, not {self.weight_decay}"),
            (self.image_size == 0 or 16 <= self.image_size <= 1024, f"image size must be 16-1024, not {self.image_size}"),
            (0.0 < self.val_fraction < 0.9, f"validation fraction must be between 0 and 0.9, not {self.val_fraction}"),
            (self.top_stages >= 1, f"top stages must be at least 1, not {self.top_stages}"),
            (self.memory_budget_mb >= 0, "memory budget must be >= 0"),
            (0.0 <= self.label_smoothing < 1.0, "label smoothing must be in [0, 1)"),
            (self.body_lr_mult is None or 0.0 < self.body_lr_mult <= 1.0,
             f"body learning-rate multiplier must be in (0, 1], not {self.body_lr_mult}"),
            (0.0 < self.train_fraction <= 1.0, f"training fraction must be in (0, 1], not {self.train_fraction}"),
        ]
        for ok, msg in checks:
            if not ok:
                raise ConfigError(msg[0].upper() + msg[1:] + ".", "Fix the setting and try again.")
        if not (self.device == "auto" or self.device in ("cpu", "cuda", "mps") or self.device.startswith("cuda:")):
            raise ConfigError(f"Unknown device {self.device!r}.", "Use auto, cpu, cuda, cuda:N or mps.")

    def to_json(self) -> dict:
        return asdict(self)

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2, ensure_ascii=False)

    @classmethod
    def from_json(cls, obj: dict) -> "TrainConfig":
        known = {f.name for f in fields(cls)}
        obj = {k: v for k, v in obj.items() if k not in LEGACY_KEYS}
        unknown = set(obj) - known
        if unknown:
            raise ConfigError(f"Unknown config keys: {', '.join(sorted(unknown))}.")
        return cls(**obj)

    def with_(self, **changes) -> "TrainConfig":
        return replace(self, **changes)


def default(name: str):
    """The default of one TrainConfig setting (the one home of the app's and the CLI's defaults)."""
    for f in fields(TrainConfig):
        if f.name == name:
            return f.default
    raise KeyError(name)
