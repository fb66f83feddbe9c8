"""The run process: waits for a device slot, trains, and records events and status in its run directory.

While it waits it holds only the standard library and tlcore's light modules: torch is
imported once its slot comes, so a class's queued runs cost a few tens of MB each. A run on
several processes is trained by torchrun's ranks, which this process launches and supervises
(tlcore.launch); it never imports torch then.
"""
from __future__ import annotations

import os
import signal
import threading
import time
import traceback
from pathlib import Path

from . import events as ev
from .fsutil import dumps, read_json, write_json_atomic
from .runs import RUN_ID_RE, pid_alive, process_start_time


#: While a run lives it marks its data as used this often (seconds), so that the cache never evicts it.
TOUCH_INTERVAL_S = 60.0
#: A queued run looks for a free slot this often (seconds) when it is next in line; one waiting
#: behind k more runs than there are slots looks k+1 times less often, at most every QUEUE_POLL_MAX_S.
QUEUE_POLL_S = 0.2
QUEUE_POLL_MAX_S = 2.0


class RunRecorder:
    """Subscriber: appends each event to events.jsonl (strict JSON) and keeps status.json current.

    It also marks the run's data as in use (``data``: its dataset folder) while events arrive.
    """

    def __init__(self, run_dir: Path, data: str | None = None):
        self.run_dir = run_dir
        self.data = data
        self._touched = 0.0
        self.status = read_json(run_dir / "status.json", {}) or {}
        self.progress = ev.Progress()
        self._events = open(run_dir / "events.jsonl", "a", encoding="utf-8")
        self._lock = threading.Lock()

    def set_status(self, **changes) -> None:
        with self._lock:
            self.status.update(changes)
            try:
                write_json_atomic(self.run_dir / "status.json", self.status)
            except OSError:
                pass  # a full disk must not turn a finished run into a crash

    def __call__(self, event: ev.Event) -> None:
        with self._lock:
            self._events.write(dumps(event.to_json()) + "\n")
            self._events.flush()
        self.progress.feed([event])
        if self.data and time.time() - self._touched > TOUCH_INTERVAL_S:
            from .diskcache import touch

            self._touched = time.time()
            touch(self.data)
        p = self.progress
        if isinstance(event, ev.FitStart):
            self.set_status(status="running", device=event.device, epochs=event.epochs)
        elif isinstance(event, ev.EpochEnd):
            self.set_status(best_val_accuracy=p.best_val_accuracy, best_val_balanced_accuracy=p.best_val_balanced_accuracy,
                            epochs_completed=p.epochs_completed)

    def close(self) -> None:
        self._events.close()


def _acquire_slot(runs_dir: Path, run_id: str, device_key: str, max_concurrent: int, stopped, created: float):
    """Block until this run holds one of ``max_concurrent`` slots for its device (FIFO by creation)."""
    import fcntl

    slots = runs_dir / ".slots"
    slots.mkdir(exist_ok=True)
    while not stopped():
        ahead = 0
        for d in runs_dir.iterdir():
            if d.name == run_id or not RUN_ID_RE.match(d.name):
                continue
            st = read_json(d / "status.json", None)
            meta = read_json(d / "meta.json", None)
            if not st or not meta or st.get("status") != "queued":
                continue
            if float(meta.get("created", 0)) < created and pid_alive(st.get("pid"), d.name, st.get("pid_start")):
                ahead += 1
        if ahead < max_concurrent:
            for i in range(max_concurrent):
                fh = open(slots / f"{device_key}-{i}.lock", "a+")
                try:
                    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return fh
                except OSError:
                    fh.close()
        # Runs far back in a long queue (a class of thirty) look less often: each look reads every run's files.
        time.sleep(min(QUEUE_POLL_MAX_S, QUEUE_POLL_S * (1 + max(0, ahead - max_concurrent))))
    return None


def device_key(device: str) -> str:
    """The queue a run waits in: one per device it asked for ("auto" runs share the machine's best device)."""
    return device.replace(":", "")


def run_worker(run_dir: str | Path) -> int:
    """Entry point of ``python -m tlcore worker RUN_DIR``. Returns the process exit code."""
    run_dir = Path(run_dir).resolve()
    stop_flag = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop_flag.set())
    signal.signal(signal.SIGINT, lambda *_: stop_flag.set())

    def stopped() -> bool:
        if not stop_flag.is_set() and (run_dir / "stop").exists():
            stop_flag.set()
        return stop_flag.is_set()

    rec = RunRecorder(run_dir)
    rec.set_status(pid=os.getpid(), pid_start=process_start_time(os.getpid()), status="queued")
    meta = read_json(run_dir / "meta.json", {}) or {}
    try:
        from .config import TrainConfig

        config = TrainConfig.from_json(read_json(run_dir / "config.json", {}) or {})
        rec.data = config.data
        rec(ev.Status(phase="queue", message="Waiting for a free device slot"))
        slot = _acquire_slot(run_dir.parent, run_dir.name, device_key(config.device), int(meta.get("max_concurrent", 1)),
                             stopped, float(meta.get("created", time.time())))
        if slot is None:
            rec(ev.Cancelled())
            rec.set_status(status="stopped", message="Stopped before it started.", ended=time.time())
            return 0
        rec.set_status(status="running", started=time.time())
        if config.world_size > 1:  # several processes: torchrun runs the ranks, this process supervises them
            from .launch import run_distributed

            final = run_distributed(run_dir, config, rec, stopped)
            rec.set_status(ended=time.time(), **final)
            return 1 if final["status"] == "failed" else 0
        from .faults import inject
        from .train import train  # torch: only now that this run may use the device

        emit, stop = inject(os.environ.get("TLCORE_FAULT", ""), rec, stopped)
        result = train(config, emit=emit, stop=stop, checkpoint_path=run_dir / "best.pt")
        msg = "Completed." if result.status == "completed" else "Stopped."
        rec.set_status(status=result.status, best_val_accuracy=result.best_val_accuracy,
                       best_val_balanced_accuracy=result.best_val_balanced_accuracy,
                       epochs_completed=result.epochs_completed, ended=time.time(), message=msg)
        return 0
    except Exception as exc:  # noqa: BLE001 - every failure is recorded, never raised to a terminal
        from .errors import TLError

        if isinstance(exc, TLError):
            message, code = exc.user_message(), exc.code
        else:
            message = (f"Unexpected error: {type(exc).__name__}: {str(exc)[:300]}. "
                       "This is a bug; the details are in the run's log.txt.")
            code = "internal"
            try:
                rec(ev.Failed(code=code, message=message))
            except Exception:  # noqa: BLE001
                pass
        traceback.print_exc()  # to log.txt, never to a user
        rec.set_status(status="failed", message=message, error_code=code, ended=time.time())
        return 1
    finally:
        rec.close()
