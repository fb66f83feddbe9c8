"""Runs for the app and the CLI: configs from settings, checks before a process starts, launching and following runs."""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from ..errors import ConfigError
from ..fsutil import read_json
from . import defaults

if TYPE_CHECKING:  # torch-heavy modules are imported where they are used: the app's first page stays fast
    from ..config import TrainConfig
    from ..events import Event
    from ..runs import RunInfo, RunStore


def run_store(runs_dir: str | Path | None = None) -> "RunStore":
    """The run registry over ``runs_dir`` (default: TLCORE_RUNS_DIR or ./runs)."""
    from ..runs import RunStore

    return RunStore(runs_dir)


def make_config(data: str | Path, model: str, plan: str, top_stages: int = 1, epochs: int | None = None,
                batch_size: int | None = None, lr: float | None = None, augment: bool | None = None,
                weights: str = "pretrained", **more) -> "TrainConfig":
    """A validated TrainConfig from the app's or the CLI's settings (None: the default). Raises ConfigError."""
    from ..config import TrainConfig

    def given(value, default):
        return default if value is None else value

    return TrainConfig(data=str(Path(data).resolve()), model=model, plan=plan, weights=weights,
                       top_stages=max(1, int(top_stages)), epochs=int(given(epochs, defaults.DEFAULT_EPOCHS)),
                       batch_size=int(given(batch_size, defaults.DEFAULT_BATCH_SIZE)),
                       lr=None if lr is None else float(lr), augment=augment, **more)


def check_run(config: "TrainConfig", dataset: bool = True, num_classes: int = 0) -> list:
    """Refuse a config that cannot train, before any run process or directory exists.

    Checks the image size against the backbone's, and a weights file against the backbone
    (read safely, matched key by key: a wrong file never leaves a failed run behind), and
    (``dataset``) that the data opens. Returns what the user should know about the weights
    (tlcore.models.WeightsNote, e.g. a classifier replaced). Raises TLError subclasses with the fix.
    """
    from ..models import get_spec
    from .weights import check_weights

    spec = get_spec(config.model)
    size = config.image_size or spec.input_size
    if size < spec.min_input_size:
        raise ConfigError(f"Image size {size} px is smaller than {config.model} accepts ({spec.min_input_size} px).",
                          f"Use --image-size {spec.min_input_size} or more, or another model.", code="image_too_small")
    if spec.fixed_input_size and size != spec.input_size:
        raise ConfigError(f"{config.model} takes images of {spec.input_size} px only, not {size} px.",
                          f"Use --image-size {spec.input_size} (or 0, the model's own), or another model.",
                          code="fixed_input_size")
    from ..plans import plan_of

    plan_of(config).trainable_groups(spec.groups)  # an unknown --block is refused here, naming the choices
    if dataset:
        from ..data import open_dataset

        num_classes = open_dataset(config.data).num_classes
    return check_weights(config.model, config.weights, num_classes or 2)


def start_run(store: "RunStore", config: "TrainConfig", *, label: str = "", group: str = "", quadrant: int = 0,
              dataset: str = "", num_classes: int = 0, check: bool = True) -> str:
    """Check ``config`` (see :func:`check_run`, without reopening the data), then launch its run process."""
    if check:
        check_run(config, dataset=False, num_classes=num_classes)
    return store.start(config, label=label or config.plan, group=group, quadrant=quadrant, dataset=dataset,
                       num_classes=num_classes)


def watch(store: "RunStore", run_id: str, poll_s: float = 0.2) -> Iterator[list["Event"]]:
    """The run's new events, batch by batch, until it has ended and every event was read."""
    from ..runs import FINAL_STATES

    offset = 0
    while True:
        events, offset = store.events(run_id, offset)
        if events:
            yield events
        if store.get(run_id).status in FINAL_STATES:
            events, offset = store.events(run_id, offset)
            if events:
                yield events
            return
        time.sleep(poll_s)


def run_result(info: "RunInfo", config: "TrainConfig") -> dict:
    """``python -m tlcore train --json``: the finished run's summary."""
    return {
        "run_id": info.run_id,
        "run_dir": info.run_dir,
        "status": info.status,
        "best_val_accuracy": info.best_val_accuracy,
        "best_val_balanced_accuracy": info.best_val_balanced_accuracy,
        "epochs_completed": info.epochs_completed,
        "plan": config.plan,
        "model": config.model,
        "message": info.message,
    }


def run_details(store: "RunStore", run_id: str) -> dict:
    """``python -m tlcore runs show --json``: the run's info and its epoch log."""
    from ..events import EpochEnd

    info = store.get(run_id)
    events, _ = store.events(run_id)
    return {**info.to_json(), "epochs_log": [e.to_json() for e in events if isinstance(e, EpochEnd)]}


@dataclass(frozen=True)
class DeviceSummary:
    kind: str  # cuda | mps | cpu
    name: str
    detail: str = ""  # in English, for the CLI; the app words the numbers below in its language
    cores: int = 0  # cpu: logical cores of the machine
    threads: int = 0  # cpu: threads a run's torch uses
    memory_gib: float = 0.0  # cuda: the GPU's memory


def device_summary() -> DeviceSummary:
    """The device a new run will use (the trainer's own choice for device=auto)."""
    import torch

    from ..train import pick_device

    dev = pick_device("auto")
    if dev.type == "cuda":
        props = torch.cuda.get_device_properties(dev.index or 0)
        gib = props.total_memory / 2**30
        return DeviceSummary("cuda", props.name, f"{gib:.0f} GiB", memory_gib=gib)
    if dev.type == "mps":
        return DeviceSummary("mps", "Apple GPU (MPS)")
    cores, threads = os.cpu_count() or 1, torch.get_num_threads()
    return DeviceSummary("cpu", "CPU", f"{cores} cores, {threads} threads", cores=cores, threads=threads)


def weights_missing(model: str, plan: str, weights: str = "pretrained") -> str | None:
    """Where a run's pretrained weights would be downloaded to, when it would have to download them (else None)."""
    from ..models import get_spec, imagenet_weights_path, pretrained_location, weights_kind
    from ..models.weights import hf_cache_dir
    from ..plans import get_plan_spec

    spec = get_spec(model)
    if spec.source == "lab" or not get_plan_spec(plan).pretrained or weights_kind(weights) != "pretrained":
        return None
    if pretrained_location(spec) is not None:
        return None
    return str(imagenet_weights_path(spec.arch) if spec.source == "torchvision" else hf_cache_dir())


def finished_runs(store: "RunStore") -> list["RunInfo"]:
    """Runs with a saved model (best.pt), newest first."""
    return [r for r in store.list() if not r.active and (Path(r.run_dir) / "best.pt").is_file()]


def checkpoint_bytes(run_dir: str | Path) -> bytes:
    return (Path(run_dir) / "best.pt").read_bytes()


def run_samples(run_dir: str | Path, count: int = 6) -> list[tuple[str, str]]:
    """A few validation images of a run's dataset with their true class (to try a model without uploading)."""
    from ..data import open_dataset

    cfg = read_json(Path(run_dir) / "config.json", {}) or {}
    report = open_dataset(cfg.get("data", ""))
    step = max(1, len(report.val) // max(1, count))
    return [(p, report.classes[y]) for p, y in report.val[::step][:count]]
