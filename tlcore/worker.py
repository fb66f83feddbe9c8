"""The run process: waits for a device slot, trains, and records events and status in its run directory."""
from __future__ import annotations

import json
import os
import signal
import threading
import time
import traceback
from pathlib import Path

from .fsutil import read_json, write_json_atomic
from .runs import RUN_ID_RE, process_start_time


class RunRecorder:
    """Subscriber: appends each event to events.jsonl and keeps status.json current."""

    def __init__(self, run_dir: Path):
        self.run_dir = run_dir
        self.status = read_json(run_dir / "status.json", {}) or {}
        self._events = open(run_dir / "events.jsonl", "a", encoding="utf-8")
        self._lock = threading.Lock()

    def set_status(self, **changes) -> None:
        with self._lock:
            self.status.update(changes)
            try:
                write_json_atomic(self.run_dir / "status.json", self.status)
            except OSError:
                pass  # a full disk must not turn a finished run into a crash

    def __call__(self, event) -> None:
        obj = event.to_json() if hasattr(event, "to_json") else dict(event)
        with self._lock:
            self._events.write(json.dumps(obj, ensure_ascii=False) + "\n")
            self._events.flush()
        kind = obj.get("kind")
        if kind == "fit_start":
            self.set_status(status="running", device=obj.get("device", ""), epochs=obj.get("epochs", 0))
        elif kind == "epoch_end":
            best = max(float(self.status.get("best_val_accuracy", 0.0) or 0.0), obj["val_accuracy"])
            self.set_status(best_val_accuracy=best, epochs_completed=obj["epoch"])

    def close(self) -> None:
        self._events.close()


def _acquire_slot(runs_dir: Path, run_id: str, device_key: str, max_concurrent: int, stopped, created: float):
    """Block until this run holds one of ``max_concurrent`` slots for its device (FIFO by creation)."""
    import fcntl

    from .runs import pid_alive

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
        time.sleep(0.2)
    return None


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
        from . import events as ev
        from .train import pick_device, train

        device = pick_device(config.device)
        device_key = device.type if device.index is None else f"{device.type}{device.index}"
        rec(ev.Status(phase="queue", message="Waiting for a free device slot"))
        slot = _acquire_slot(run_dir.parent, run_dir.name, device_key, int(meta.get("max_concurrent", 1)), stopped,
                             float(meta.get("created", time.time())))
        if slot is None:
            rec(ev.Cancelled())
            rec.set_status(status="stopped", message="Stopped before it started.", ended=time.time())
            return 0
        rec.set_status(status="running", started=time.time())
        result = train(config, emit=rec, stop=stopped, checkpoint_path=run_dir / "best.pt")
        msg = "Completed." if result.status == "completed" else "Stopped."
        rec.set_status(status=result.status, best_val_accuracy=result.best_val_accuracy,
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
                from . import events as ev

                rec(ev.Failed(code=code, message=message))
            except Exception:  # noqa: BLE001
                pass
        traceback.print_exc()  # to log.txt, never to a user
        rec.set_status(status="failed", message=message, error_code=code, ended=time.time())
        return 1
    finally:
        rec.close()
