"""Training configuration: a frozen, self-validating dataclass that round-trips through JSON."""
from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, fields, replace

from .errors import ConfigError
from .plans import BLOCK_CHOICES, BN_MODES, PLAN_NAMES

#: Keys that earlier versions wrote into a run's config.json and that are now kept elsewhere
#: (``quadrant`` lives in the run's meta.json); ignored when an old config is read.
LEGACY_KEYS = frozenset({"quadrant"})

_ENDPOINT_RE = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):\d{1,5}$")


@dataclass(frozen=True)
class TrainConfig:
    data: str
    model: str = "labnet"
    plan: str = "head"  # a name in tlcore.plans.PLANS ("auto" is resolved before a config is made)
    weights: str = "pretrained"  # pretrained | imagenet | none | path to a weights file
    top_stages: int = 1
    epochs: int = 5
    batch_size: int = 32
    lr: float | None = None  # the new head's peak learning rate (None: the plan's); the body gets lr * the plan's multiplier
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
    block: str = ""  # for plans that train one block: first | middle | last | a group name ("": the plan's)
    lr_decay: float = 1.0  # each lower trained group learns at the rate of the one above / lr_decay (ULMFiT)
    bn: str | None = None  # BatchNorm statistics of trained groups: train | frozen (None: the plan's)
    probe_epochs: int = 0  # LP-FT: epochs of the linear probe before fine-tuning (0: as many as epochs)
    # -- scale (issue 17): streaming data and torchrun --
    workers: int | None = None  # processes decoding images when the data streams (None: from the cores; 0: none)
    nproc_per_node: int = 1  # training processes on this machine (torchrun; one per GPU on CUDA)
    nnodes: int = 1  # machines taking part (torchrun)
    rdzv_endpoint: str = ""  # HOST:PORT where the machines meet (needed when nnodes > 1)
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
            (self.lr is None or self.lr > 0, f"learning rate must be positive, not {self.lr}"),
            (self.weight_decay >= 0, f"weight decay must be >= 0, not {self.weight_decay}"),
            (self.image_size == 0 or 16 <= self.image_size <= 1024, f"image size must be 16-1024, not {self.image_size}"),
            (0.0 < self.val_fraction < 0.9, f"validation fraction must be between 0 and 0.9, not {self.val_fraction}"),
            (self.top_stages >= 1, f"top stages must be at least 1, not {self.top_stages}"),
            (self.memory_budget_mb >= 0, "memory budget must be >= 0"),
            (0.0 <= self.label_smoothing < 1.0, "label smoothing must be in [0, 1)"),
            (self.body_lr_mult is None or 0.0 < self.body_lr_mult <= 1.0,
             f"body learning-rate multiplier must be in (0, 1], not {self.body_lr_mult}"),
            (isinstance(self.lr_decay, (int, float)) and not isinstance(self.lr_decay, bool) and 1.0 <= self.lr_decay <= 100.0,
             f"learning-rate decay per group must be 1-100, not {self.lr_decay}"),
            (0 <= self.probe_epochs <= 1000, f"linear-probe epochs must be 0-1000, not {self.probe_epochs}"),
            (self.bn is None or self.bn in BN_MODES, f"BatchNorm mode must be one of {', '.join(BN_MODES)}, not {self.bn!r}"),
            (isinstance(self.block, str) and (self.block == "" or self.block in BLOCK_CHOICES
                                              or self.block.replace("_", "").isalnum()),
             f"block must be one of {', '.join(BLOCK_CHOICES)} or a layer group's name, not {self.block!r}"),
            (0.0 < self.train_fraction <= 1.0, f"training fraction must be in (0, 1], not {self.train_fraction}"),
        ]
        for ok, msg in checks:
            if not ok:
                raise ConfigError(msg[0].upper() + msg[1:] + ".", "Fix the setting and try again.")
        if not (self.device == "auto" or self.device in ("cpu", "cuda", "mps") or self.device.startswith("cuda:")):
            raise ConfigError(f"Unknown device {self.device!r}.", "Use auto, cpu, cuda, cuda:N or mps.")
        self._validate_scale()

    def _validate_scale(self) -> None:
        """The streaming and torchrun settings (issue 17)."""
        def bad(msg: str, hint: str) -> None:
            raise ConfigError(msg, hint, code="scale_setting")

        if self.workers is not None and not (isinstance(self.workers, int) and 0 <= self.workers <= 64):
            bad(f"Decoding workers must be 0-64, not {self.workers}.", "Use --workers 0 (decode in the run process) to 64.")
        if not (isinstance(self.nproc_per_node, int) and 1 <= self.nproc_per_node <= 64):
            bad(f"Processes per machine must be 1-64, not {self.nproc_per_node}.", "Use --nproc-per-node 1 to 64.")
        if not (isinstance(self.nnodes, int) and 1 <= self.nnodes <= 1024):
            bad(f"Machines must be 1-1024, not {self.nnodes}.", "Use --nnodes 1 to 1024.")
        if self.rdzv_endpoint and not _ENDPOINT_RE.match(self.rdzv_endpoint):
            bad(f"Rendezvous endpoint {self.rdzv_endpoint!r} is not HOST:PORT.",
                "Give the first machine's address and a free port, e.g. --rdzv-endpoint 192.168.1.20:29400.")
        if self.nnodes > 1 and not self.rdzv_endpoint:
            bad(f"A run on {self.nnodes} machines needs a meeting point.",
                "Pass --rdzv-endpoint HOST:PORT (the first machine's address and a free port), the same on every machine.")
        if self.world_size > 1 and (self.device == "mps" or self.device.startswith("cuda:")):
            bad(f"Device {self.device!r} names one device, but the run uses {self.world_size} processes.",
                "Use --device auto (each process takes its own GPU, or the CPU) or cpu.")

    @property
    def world_size(self) -> int:
        """Training processes in all: processes per machine times machines (1: an ordinary run)."""
        return self.nproc_per_node * self.nnodes

    @property
    def head_lr(self) -> float:
        """The new output layer's peak learning rate: the config's, else the plan's default."""
        from .plans import PLANS

        return self.lr if self.lr is not None else PLANS[self.plan].lr

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
