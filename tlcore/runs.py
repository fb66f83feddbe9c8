"""Run store: each training run is its own process writing to its own run directory.

Layout of ``RUNS_DIR/<run_id>/``: ``config.json`` (the TrainConfig), ``meta.json``
(label, group, queue settings), ``events.jsonl`` (append-only, one event a line),
``status.json`` (rewritten atomically), ``best.pt`` (atomic), ``log.txt`` (the
process's own output and any traceback), ``stop`` (a stop request), and for a run on
several processes ``.ranks/`` (each rank's record; see tlcore.launch).

Queueing needs no scheduler process: a run's worker waits for a free device slot
(an ``flock`` on ``RUNS_DIR/.slots/<device>-<i>.lock``), in order of creation. A
lock dies with its process, so a crashed run never holds a slot, and runs keep
going when the app that launched them restarts.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from .config import TrainConfig
from .errors import RunError
from .events import Event, Progress
from .fsutil import read_json, write_json_atomic
from .paths import runs_dir as default_runs_dir

ACTIVE_STATES = ("queued", "running")
FINAL_STATES = ("completed", "stopped", "failed")
RUN_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,95}$")

#: The folder that holds the ``tlcore`` package (what a worker process needs on its path).
PACKAGE_ROOT = str(Path(__file__).resolve().parent.parent)

#: Seconds a stop request waits for the run to end by itself before it is killed.
STOP_GRACE_S = 5.0
#: A run whose worker never reported a pid is treated as dead after this long.
SPAWN_TIMEOUT_S = 60.0


def max_concurrent_default() -> int:
    try:
        return max(1, int(os.environ.get("TLCORE_MAX_CONCURRENT", "1")))
    except ValueError:
        return 1


def validate_run_id(run_id: str) -> str:
    if not isinstance(run_id, str) or not RUN_ID_RE.match(run_id):
        raise RunError(f"Invalid run id {run_id!r}.", "Run ids contain only letters, digits, '-' and '_'.", code="bad_run_id")
    return run_id


def process_start_time(pid: int | None) -> int | None:
    """When ``pid`` started, in clock ticks since boot (Linux ``/proc``), or None where unknown.

    It stays the same across exec, so a worker's start time is known from the moment it is
    launched; a pid reused by another process has another one.
    """
    if not pid:
        return None
    try:
        return int((Path(f"/proc/{pid}") / "stat").read_text().rsplit(")", 1)[1].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def pid_alive(pid: int | None, run_id: str | None = None, started: int | None = None) -> bool:
    """Is ``pid`` a live (non-zombie) process, and (on Linux) the worker of ``run_id``?

    With ``started`` (its ``process_start_time`` when launched) a reused pid is told by its
    start time. Without it, by the command line, which names the run only after exec: a
    worker just launched, between fork and exec, would look like another process.
    """
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    proc = Path(f"/proc/{pid}")
    if proc.exists():
        try:
            stat = (proc / "stat").read_text()
            if stat.rsplit(")", 1)[1].split()[0] in ("Z", "X"):
                return False
            if started is not None:
                return process_start_time(pid) == started  # else the pid was reused
            if run_id is not None and run_id not in (proc / "cmdline").read_bytes().decode(errors="replace"):
                return False  # the pid was reused by another process
        except OSError:
            return False
    return True


@dataclass
class RunInfo:
    run_id: str
    status: str  # queued | running | completed | stopped | failed
    run_dir: str
    model: str = ""
    plan: str = ""
    best_val_accuracy: float = 0.0
    best_val_balanced_accuracy: float = 0.0
    epochs_completed: int = 0
    epochs: int = 0
    created: float = 0.0
    started: float | None = None
    ended: float | None = None
    pid: int | None = None
    pid_start: int | None = None  # the worker's process_start_time
    message: str = ""
    error_code: str = ""
    label: str = ""
    group: str = ""
    device: str = ""
    queue_position: int = 0
    quadrant: int = 0  # the map's quadrant when the plan came from it (0: unknown)
    dataset: str = ""  # the dataset's name as the user saw it
    num_classes: int = 0
    session: str = ""  # the app session that started it ("" from the CLI)

    def to_json(self) -> dict:
        return asdict(self)

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_STATES


def read_events(run_dir: str | Path, offset: int = 0) -> tuple[list[Event], int]:
    """Typed events appended since byte ``offset``; returns them and the new offset (complete lines only)."""
    path = Path(run_dir) / "events.jsonl"
    try:
        with open(path, "rb") as fh:
            fh.seek(offset)
            data = fh.read()
    except OSError:
        return [], offset
    end = data.rfind(b"\n")
    if end < 0:
        return [], offset
    out = []
    for line in data[: end + 1].splitlines():
        try:
            out.append(Event.from_json(json.loads(line)))
        except (ValueError, TypeError):
            continue
    return out, offset + end + 1


class RunStore:
    """Starts, lists, stops and deletes runs under one runs directory."""

    def __init__(self, runs_dir: str | Path | None = None, max_concurrent: int | None = None):
        self.runs_dir = Path(runs_dir) if runs_dir else default_runs_dir()
        self.max_concurrent = max_concurrent or max_concurrent_default()
        self._children: dict[str, subprocess.Popen] = {}

    # -- paths ---------------------------------------------------------------
    def _ensure_dir(self) -> None:
        try:
            self.runs_dir.mkdir(parents=True, exist_ok=True)
            probe = self.runs_dir / f".probe-{os.getpid()}"
            probe.write_text("ok")
            probe.unlink()
        except OSError as exc:
            raise RunError(
                f"The runs directory {self.runs_dir} is not writable ({exc.strerror or exc}).",
                "Choose another folder with --runs-dir or TLCORE_RUNS_DIR, or free disk space.",
                code="runs_dir",
            ) from None

    def run_dir(self, run_id: str) -> Path:
        validate_run_id(run_id)
        path = (self.runs_dir / run_id).resolve()
        if path.parent != self.runs_dir.resolve():
            raise RunError(f"Invalid run id {run_id!r}.", code="bad_run_id")
        return path

    # -- create / start ------------------------------------------------------
    def create(self, config: TrainConfig, label: str = "", group: str = "", *, quadrant: int = 0,
               dataset: str = "", num_classes: int = 0, session: str = "") -> str:
        """A queued run directory for ``config``; ``label``, ``group``, the dataset's name and the
        starting session (see :meth:`queued_by`) go to meta.json."""
        self._ensure_dir()
        run_id = f"{time.strftime('%Y%m%d-%H%M%S')}-{config.plan}-{secrets.token_hex(3)}"
        d = self.runs_dir / run_id
        try:
            d.mkdir()
            write_json_atomic(d / "config.json", config.to_json())
            meta = {"label": label, "group": group, "max_concurrent": self.max_concurrent, "created": time.time(),
                    "quadrant": int(quadrant), "dataset": dataset, "num_classes": int(num_classes)}
            if session:
                meta["session"] = session
            write_json_atomic(d / "meta.json", meta)
            write_json_atomic(d / "status.json", {"status": "queued", "created": meta["created"], "pid": None})
            (d / "events.jsonl").touch()
        except OSError as exc:
            raise RunError(
                f"Could not create a run in {self.runs_dir} ({exc.strerror or exc}).",
                "Choose a writable folder with --runs-dir or TLCORE_RUNS_DIR, or free disk space.",
                code="runs_dir",
            ) from None
        return run_id

    def start(self, config: TrainConfig, label: str = "", group: str = "", **meta) -> str:
        """Create a run (see :meth:`create`) and launch its worker process. Returns at once."""
        run_id = self.create(config, label, group, **meta)
        d = self.runs_dir / run_id
        log = open(d / "log.txt", "ab")
        env = dict(os.environ)
        env.setdefault("PYTHONUNBUFFERED", "1")
        # Idle OpenMP threads that spin steal the cores of the app and of other runs on a
        # shared classroom machine (measured up to 10x slower steps under load).
        env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        # The worker imports this very package, wherever the app was started from (``cd /tmp &&
        # streamlit run /path/to/app.py`` included): its folder goes first on the path.
        env["PYTHONPATH"] = os.pathsep.join([PACKAGE_ROOT] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
        # Launch as ``python -m tlcore worker``: a fresh interpreter (never a fork of a
        # process that touched CUDA) in its own session, so closing the app or its
        # terminal does not end the run.
        proc = subprocess.Popen(
            [sys.executable, "-m", "tlcore", "worker", str(d.resolve())],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env=env,
            cwd=os.getcwd(),
        )
        log.close()
        self._children[run_id] = proc
        status = read_json(d / "status.json", {}) or {}
        if status.get("pid") is None:
            status.update(pid=proc.pid, pid_start=process_start_time(proc.pid))
            write_json_atomic(d / "status.json", status)
        return run_id

    # -- read ----------------------------------------------------------------
    def _reap(self) -> None:
        for run_id, proc in list(self._children.items()):
            if proc.poll() is not None:
                del self._children[run_id]

    def get(self, run_id: str) -> RunInfo:
        d = self.run_dir(run_id)
        if not (d / "config.json").exists():
            raise RunError(f"No run {run_id!r} in {self.runs_dir}.", "Pick a run from the list of runs.", code="no_run")
        return self._info(d)

    def _info(self, d: Path) -> RunInfo:
        self._reap()
        cfg = read_json(d / "config.json", {}) or {}
        meta = read_json(d / "meta.json", {}) or {}
        st = read_json(d / "status.json", {}) or {}
        info = RunInfo(
            run_id=d.name,
            status=st.get("status", "failed"),
            run_dir=str(d),
            model=cfg.get("model", ""),
            plan=cfg.get("plan", ""),
            best_val_accuracy=float(st.get("best_val_accuracy", 0.0) or 0.0),
            best_val_balanced_accuracy=float(st.get("best_val_balanced_accuracy", 0.0) or 0.0),
            epochs_completed=int(st.get("epochs_completed", 0) or 0),
            epochs=int(cfg.get("epochs", 0) or 0),
            created=float(meta.get("created", st.get("created", 0.0)) or 0.0),
            started=st.get("started"),
            ended=st.get("ended"),
            pid=st.get("pid"),
            pid_start=st.get("pid_start"),
            message=st.get("message", ""),
            error_code=st.get("error_code", ""),
            label=meta.get("label", ""),
            quadrant=int(meta.get("quadrant", cfg.get("quadrant", 0)) or 0),
            dataset=meta.get("dataset", ""),
            num_classes=int(meta.get("num_classes", 0) or 0),
            group=meta.get("group", ""),
            device=st.get("device", ""),
            session=meta.get("session", ""),
        )
        if info.status in ACTIVE_STATES:
            self._check_liveness(d, info, st)
        return info

    def _check_liveness(self, d: Path, info: RunInfo, st: dict) -> None:
        alive = pid_alive(info.pid, info.run_id, info.pid_start)
        if info.pid is None and time.time() - info.created < SPAWN_TIMEOUT_S:
            alive = True
        stop_req = read_json(d / "stop", None)
        if alive and stop_req and time.time() - float(stop_req.get("time", 0)) > STOP_GRACE_S:
            self._kill(info.pid, d)
            alive = False
            self._finalize(d, st, "stopped", "Stopped (the run did not end by itself in time and was ended).")
            info.status, info.message = "stopped", "Stopped."
            return
        if not alive:
            if stop_req:
                self._finalize(d, st, "stopped", "Stopped.")
                info.status, info.message = "stopped", "Stopped."
            else:
                msg = ("The run's process ended unexpectedly (it was killed or crashed); "
                       "the best checkpoint saved so far is kept. See log.txt for details.")
                self._finalize(d, st, "failed", msg, code="process_died")
                info.status, info.message, info.error_code = "failed", msg, "process_died"

    def _finalize(self, d: Path, st: dict, status: str, message: str, code: str = "") -> None:
        st = dict(st)
        st.update(status=status, message=message, ended=st.get("ended") or time.time())
        if code:
            st["error_code"] = code
        try:
            write_json_atomic(d / "status.json", st)
        except OSError:
            pass

    def list(self) -> list[RunInfo]:
        if not self.runs_dir.is_dir():
            return []
        infos = []
        for d in self.runs_dir.iterdir():
            if d.is_dir() and RUN_ID_RE.match(d.name) and (d / "config.json").exists():
                infos.append(self._info(d))
        infos.sort(key=lambda r: r.created, reverse=True)
        queued = sorted((r for r in infos if r.status == "queued"), key=lambda r: r.created)
        for pos, r in enumerate(queued, 1):
            r.queue_position = pos
        return infos

    def queue_position(self, run_id: str) -> int:
        for r in self.list():
            if r.run_id == run_id:
                return r.queue_position
        return 0

    def events(self, run_id: str, offset: int = 0) -> tuple[list[Event], int]:
        """Typed events written since byte ``offset``, and the new offset."""
        return read_events(self.run_dir(run_id), offset)

    def progress(self, run_id: str, progress: Progress | None = None) -> Progress:
        """Fold the events written since ``progress.offset`` into ``progress`` (a new one if None)."""
        progress = progress or Progress()
        events, progress.offset = self.events(run_id, progress.offset)
        return progress.feed(events)

    def config(self, run_id: str) -> TrainConfig:
        return TrainConfig.from_json(read_json(self.run_dir(run_id) / "config.json", {}))

    # -- stop / delete -------------------------------------------------------
    def stop(self, run_id: str, wait: bool = False, grace_s: float = STOP_GRACE_S) -> RunInfo:
        """Ask a run to stop (it ends within a batch); kill it if it has not ended after ``grace_s``."""
        d = self.run_dir(run_id)
        info = self.get(run_id)
        if not info.active:
            return info
        write_json_atomic(d / "stop", {"time": time.time()})
        if info.pid and pid_alive(info.pid, run_id, info.pid_start):
            try:
                os.kill(info.pid, signal.SIGTERM)
            except OSError:
                pass
        if not wait:
            return info
        info = self.wait(run_id, timeout=grace_s, poll=0.05)
        if not info.active:
            return info
        self._kill(info.pid, d)
        time.sleep(0.05)
        return self.get(run_id)

    def _kill(self, pid: int | None, d: Path | None = None) -> None:
        """Kill a run's process and, for a distributed run (``d``: its directory), torchrun and every rank."""
        if pid:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        if d is not None and (d / ".ranks").is_dir():
            from .launch import kill_ranks

            st = read_json(d / "status.json", {}) or {}
            launcher = st.get("launcher_pid")
            if launcher and pid_alive(launcher, started=st.get("launcher_start")):
                try:
                    os.kill(launcher, signal.SIGKILL)
                except OSError:
                    pass
            kill_ranks(d)
        self._reap()

    # -- sessions (issue 17) ---------------------------------------------------
    def queued_by(self, session: str) -> list[RunInfo]:
        """The queued runs a session started (meta.json ``session``), oldest first, with their queue places."""
        return [r for r in self.list() if r.status == "queued" and r.session == session]

    def submit_lock(self):
        """A lock held while a session's queue is checked and its run created (one at a time per runs folder)."""
        import contextlib
        import fcntl

        @contextlib.contextmanager
        def held():
            self._ensure_dir()
            with open(self.runs_dir / ".submit.lock", "a+") as fh:
                fcntl.flock(fh, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(fh, fcntl.LOCK_UN)

        return held()

    def delete(self, run_id: str) -> None:
        import shutil

        info = self.get(run_id)
        if info.active:
            raise RunError("This run is still active.", "Stop it first, then delete it.", code="run_active")
        shutil.rmtree(self.run_dir(run_id), ignore_errors=True)

    def wait(self, run_id: str, timeout: float | None = None, poll: float = 0.2) -> RunInfo:
        """The run's info once it is no longer active, or when ``timeout`` seconds have passed."""
        deadline = None if timeout is None else time.time() + timeout
        while True:
            info = self.get(run_id)
            if not info.active:
                return info
            if deadline is not None and time.time() > deadline:
                return info
            time.sleep(poll)
