"""Runs for the app and the CLI: configs from settings, checks before a process starts, launching and following runs."""
from __future__ import annotations

import contextlib
import contextvars
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from ..errors import ConfigError, RunError
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
    check_processes(config)
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
              dataset: str = "", num_classes: int = 0, check: bool = True, session: str | None = None) -> str:
    """Check ``config`` (see :func:`check_run`, without reopening the data), then launch its run process.

    ``session`` (default: the one :func:`session_scope` set, else none) is the app session starting
    the run: it may have at most :func:`session_queue_limit` queued requests at once (a comparison's
    runs, one ``group``, count once). Raises RunError (code ``session_queue_limit``, with ``params``
    ``limit``, ``run_id`` and ``position`` of its first queued run) when it has them already.
    """
    if check:
        check_run(config, dataset=False, num_classes=num_classes)
    session = _SESSION.get() if session is None else session
    meta = dict(label=label or config.plan, group=group, quadrant=quadrant, dataset=dataset, num_classes=num_classes)
    if not session:
        return store.start(config, **meta)
    with store.submit_lock():  # two clicks at once from one session: the second sees the first's run
        _check_session_queue(store, session, group)
        return store.start(config, session=session, **meta)


# -- scale (issue 17): one student cannot fill the queue ------------------------

#: Queued requests one app session may have at once (``TLCORE_SESSION_QUEUE_LIMIT``; 0: no limit).
SESSION_QUEUE_ENV = "TLCORE_SESSION_QUEUE_LIMIT"
DEFAULT_SESSION_QUEUE_LIMIT = 1

_SESSION: contextvars.ContextVar[str] = contextvars.ContextVar("tlcore_session", default="")


def session_queue_limit() -> int:
    """How many queued requests (a run, or a comparison's runs) one session may have; 0 is no limit."""
    raw = os.environ.get(SESSION_QUEUE_ENV, "").strip()
    try:
        return max(0, int(raw)) if raw else DEFAULT_SESSION_QUEUE_LIMIT
    except ValueError:
        raise ConfigError(f"{SESSION_QUEUE_ENV}={raw!r} is not a whole number.",
                          f"Set it to e.g. 2, 0 for no limit, or unset it for the default ({DEFAULT_SESSION_QUEUE_LIMIT}).",
                          code="session_queue_limit_setting") from None


@contextlib.contextmanager
def session_scope(session: str):
    """Runs started inside the block belong to ``session`` (the app's session key)."""
    token = _SESSION.set(session)
    try:
        yield
    finally:
        _SESSION.reset(token)


def _check_session_queue(store: "RunStore", session: str, group: str) -> None:
    limit = session_queue_limit()
    if not limit:
        return
    queued = store.queued_by(session)
    requests = {r.group or r.run_id for r in queued} - ({group} if group else set())
    if len(requests) >= limit:
        first = queued[0]
        err = RunError(
            f"You already have {len(requests)} run{'s' if len(requests) > 1 else ''} waiting in the queue "
            f"({first.run_id}, place {first.queue_position}); a session may have {limit} at a time.",
            "Wait until it starts training, or stop it, then start another.", code="session_queue_limit")
        err.params = {"limit": limit, "run_id": first.run_id, "position": first.queue_position}
        raise err


def check_processes(config: "TrainConfig") -> None:
    """Refuse more processes on this machine than it has GPUs, when the run would use CUDA. Raises ConfigError."""
    if config.world_size > 1 and config.device in ("auto", "cuda") and 0 < gpu_count() < config.nproc_per_node:
        raise ConfigError(f"{config.nproc_per_node} processes need {config.nproc_per_node} GPUs; {gpu_count()} "
                          f"are visible.", f"Use --nproc-per-node {gpu_count()} or fewer.", code="not_enough_gpus")


def gpu_count() -> int:
    """CUDA GPUs visible to a run (0 without CUDA): the app offers "GPUs: N" when there are several."""
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


# -- end of scale ------------------------------------------------------------------


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
