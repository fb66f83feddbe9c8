"""A run on several processes: its worker launches torchrun and supervises it; each rank trains.

The run directory contract is the ordinary run's: the worker (``python -m tlcore worker``) is the
run's process, holds its queue slot and writes its final status. When the run's config asks for
more than one process (``nproc_per_node * nnodes > 1``), the worker starts
``python -m torch.distributed.run ... --module tlcore rank RUN_DIR`` (torchrun: one rank per
process, ``--max-restarts 0``) and waits for it:

- rank 0 writes the events, ``best.pt`` and the running status, as an ordinary run does; the
  other ranks write nothing of the run's own (see :func:`run_rank`);
- each rank records itself in ``RUN_DIR/.ranks/<rank>.json`` (its pid, then its outcome), so
  that a stop can end every rank and the worker can say which rank failed and why;
- Stop: the run's ``stop`` file, which every rank reads, stops all of them at the same step
  (a collective check); whatever is still alive after a grace period is killed, ranks included;
- a rank that dies makes torchrun end the others at once (``--monitor-interval``); the worker
  then marks the run failed, naming the rank; a rank whose worker or torchrun is gone ends itself.

No torch here: the worker stays light while it waits for its slot.
"""
from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path

from . import events as ev
from .fsutil import read_json, write_json_atomic
from .runs import pid_alive, process_start_time

#: Each rank's record (pid, then outcome) in the run directory.
RANKS_DIR = ".ranks"
#: Seconds after a stop request before ranks that have not ended are killed.
STOP_GRACE_S = 4.0
#: How often torchrun looks at its ranks (seconds): a rank that dies ends the others this quickly.
MONITOR_INTERVAL_S = 0.5
#: How often a rank checks that its worker and torchrun still live (seconds).
WATCHDOG_S = 1.0
#: The environment variable that tells ranks their worker's pid.
WORKER_PID_ENV = "TLCORE_WORKER_PID"


def torchrun_command(config, run_dir: Path) -> list[str]:
    """The torchrun command line for the run (``config``: its TrainConfig)."""
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", str(config.nproc_per_node),
           "--max-restarts", "0", "--monitor-interval", str(MONITOR_INTERVAL_S)]
    if config.nnodes > 1:
        # Every machine runs the same command: the endpoint names the meeting, so it names the run too.
        rdzv_id = "tlcore-" + hashlib.sha1(config.rdzv_endpoint.encode()).hexdigest()[:10]
        cmd += ["--nnodes", str(config.nnodes), "--rdzv-backend", "c10d", "--rdzv-endpoint", config.rdzv_endpoint,
                "--rdzv-id", rdzv_id]
    else:
        cmd += ["--standalone"]
    return cmd + ["--module", "tlcore", "rank", str(run_dir)]


def rank_records(run_dir: Path) -> dict[int, dict]:
    """Rank number -> its record (``pid``, ``pid_start``; ``status``, ``code``, ``message`` once it ended)."""
    out = {}
    folder = Path(run_dir) / RANKS_DIR
    if folder.is_dir():
        for f in folder.glob("*.json"):
            rec = read_json(f, None)
            if isinstance(rec, dict) and f.stem.isdigit():
                out[int(f.stem)] = rec
    return out


def kill_ranks(run_dir: Path, sig: int = signal.SIGKILL) -> int:
    """Signal every rank of the run that is still alive; returns how many were."""
    n = 0
    for rec in rank_records(run_dir).values():
        pid = rec.get("pid")
        if "status" not in rec and pid_alive(pid, started=rec.get("pid_start")):
            try:
                os.kill(pid, sig)
                n += 1
            except OSError:
                pass
    return n


def _child_env(config) -> dict:
    env = dict(os.environ)
    env[WORKER_PID_ENV] = str(os.getpid())
    env.setdefault("PYTHONUNBUFFERED", "1")
    if "OMP_NUM_THREADS" not in env:  # torchrun would set 1; the cores shared out among the ranks do better
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        env["OMP_NUM_THREADS"] = str(max(1, cores // max(1, config.nproc_per_node)))
    return env


def run_distributed(run_dir: Path, config, rec, stopped) -> dict:
    """Run the distributed run under torchrun and wait for it; returns the run's final status fields.

    ``rec`` is the worker's RunRecorder (it writes nothing while the ranks run), ``stopped()`` the
    worker's stop check. The result holds ``status`` and ``message`` (and ``error_code`` when it failed).
    """
    ranks = run_dir / RANKS_DIR
    ranks.mkdir(exist_ok=True)
    for f in ranks.glob("*.json"):
        f.unlink()
    proc = subprocess.Popen(torchrun_command(config, run_dir), env=_child_env(config), stdin=subprocess.DEVNULL,
                            cwd=os.getcwd())
    rec.set_status(launcher_pid=proc.pid, launcher_start=process_start_time(proc.pid), processes=config.world_size)
    stop_seen: float | None = None
    while proc.poll() is None:
        if stopped():
            if stop_seen is None:
                stop_seen = time.time()
                if not (run_dir / "stop").exists():  # a SIGTERM to the worker: the ranks read the file
                    write_json_atomic(run_dir / "stop", {"time": stop_seen})
            elif time.time() - stop_seen > STOP_GRACE_S:
                kill_ranks(run_dir)
                proc.kill()
        time.sleep(0.2)
    return _outcome(run_dir, config, rec, proc.returncode, stop_seen is not None or (run_dir / "stop").exists())


def _outcome(run_dir: Path, config, rec, returncode: int, stop_requested: bool) -> dict:
    """The final status fields from the ranks' records and torchrun's exit code; events made to agree.

    The files the ranks shared (frozen features) are removed: the run's model does not need them.
    """
    import shutil

    shutil.rmtree(run_dir / RANKS_DIR / "shared", ignore_errors=True)
    rec.status = read_json(run_dir / "status.json", {}) or rec.status  # rank 0 kept it current meanwhile
    records = rank_records(run_dir)
    progress = ev.Progress()
    events_path = run_dir / "events.jsonl"
    from .runs import read_events

    progress.feed(read_events(run_dir)[0])
    main = records.get(0, {})
    world = config.world_size
    if stop_requested:
        if not progress.cancelled:
            rec(ev.Cancelled(epochs_completed=progress.epochs_completed))
        return {"status": "stopped", "message": "Stopped."}
    if returncode == 0 and main.get("status") == "completed":
        return {"status": "completed", "message": "Completed.", **{k: main[k] for k in (
            "best_val_accuracy", "best_val_balanced_accuracy", "epochs_completed") if k in main}}
    if returncode == 0 and 0 not in records:  # a machine without rank 0: its ranks ended well
        here = sorted(records)
        return {"status": "completed", "message": (
            f"Ranks {here[0]}-{here[-1]} of {world} ran on this machine; the machine with rank 0 keeps the run's "
            f"events and model.")}
    failed = [(r, x) for r, x in sorted(records.items()) if x.get("status") == "failed"]
    user = [(r, x) for r, x in failed if x.get("code") not in ("internal", "")]
    silent = [r for r, x in sorted(records.items()) if "status" not in x]
    if user:
        rank, x = user[0]
        message, code = x.get("message", ""), x.get("code", "training")
    elif silent:
        rank = silent[0]
        message = (f"Rank {rank} of {world} ended unexpectedly (it was killed or crashed), so the run was stopped "
                   f"on every process. The best checkpoint saved so far is kept; see log.txt for details.")
        code = "rank_died"
    elif failed:
        rank, x = failed[0]
        message, code = x.get("message", "") or "A rank failed; see log.txt.", x.get("code") or "internal"
    else:
        message = (f"The distributed run ended with exit code {returncode} before its ranks started "
                   f"(torchrun could not launch them); see log.txt for details.")
        code = "launch_failed"
    if not progress.failed and events_path.exists():
        rec(ev.Failed(code=code, message=message))
    return {"status": "failed", "message": message, "error_code": code}


# ---------------------------------------------------------------------------
# The rank side: python -m tlcore rank RUN_DIR (started by torchrun)


def _watchdog(worker_pid: int | None, parent_pid: int) -> None:
    """End this rank when its worker or its torchrun is gone (nobody would ever stop it otherwise)."""
    worker_start = process_start_time(worker_pid) if worker_pid else None

    def watch() -> None:
        while True:
            time.sleep(WATCHDOG_S)
            if os.getppid() != parent_pid or (worker_pid and not pid_alive(worker_pid, started=worker_start)):
                os._exit(3)

    threading.Thread(target=watch, name="tlcore-rank-watchdog", daemon=True).start()


def run_rank(run_dir: str | Path) -> int:
    """Entry point of ``python -m tlcore rank RUN_DIR``: one rank of a distributed run. Returns its exit code."""
    run_dir = Path(run_dir).resolve()
    rank = int(os.environ.get("RANK", "0"))
    record_path = run_dir / RANKS_DIR / f"{rank}.json"
    mine = {"pid": os.getpid(), "pid_start": process_start_time(os.getpid()), "host": os.uname().nodename}
    write_json_atomic(record_path, mine)
    worker = os.environ.get(WORKER_PID_ENV)
    _watchdog(int(worker) if worker and worker.isdigit() else None, os.getppid())
    rec = None
    ctx = None
    try:
        from .config import TrainConfig
        from .faults import inject
        from .train import train
        from .train.distributed import init_from_env
        from .worker import RunRecorder

        config = TrainConfig.from_json(read_json(run_dir / "config.json", {}) or {})
        scratch = run_dir / RANKS_DIR / "shared"
        scratch.mkdir(exist_ok=True)
        ctx = init_from_env(config.device, scratch)
        rec = RunRecorder(run_dir, data=config.data) if ctx.is_main else None
        emit, local_stop = inject(os.environ.get("TLCORE_FAULT", ""), rec or ev.ignore, (run_dir / "stop").exists)
        result = train(config, emit=emit, stop=ctx.collective_stop(local_stop),
                       checkpoint_path=run_dir / "best.pt" if ctx.is_main else None, dist=ctx)
        write_json_atomic(record_path, {**mine, "status": result.status,
                                        "best_val_accuracy": result.best_val_accuracy,
                                        "best_val_balanced_accuracy": result.best_val_balanced_accuracy,
                                        "epochs_completed": result.epochs_completed, "shared_files": ctx.shared})
        return 0
    except Exception as exc:  # noqa: BLE001 - recorded for the worker, never raised to a terminal
        from .errors import TLError

        traceback.print_exc()  # to log.txt
        if isinstance(exc, TLError):
            write_json_atomic(record_path, {**mine, "status": "failed", "code": exc.code,
                                            "message": exc.user_message()})
            return 2
        write_json_atomic(record_path, {**mine, "status": "failed", "code": "internal", "message": (
            f"Unexpected error on rank {rank}: {type(exc).__name__}: {str(exc)[:300]}. "
            "This is a bug; the details are in the run's log.txt.")})
        return 1
    finally:
        if rec is not None:
            rec.close()
        if ctx is not None:
            ctx.close()
