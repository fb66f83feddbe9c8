"""Fault injection for tests of the run machinery, applied by the worker from ``TLCORE_FAULT``.

Faults come in from outside the training loop: a slower stop check (``sleepS``: every batch
waits S seconds, so a live curve can be watched growing) and a subscriber that raises a
simulated CUDA out-of-memory error on the first training batch (``oom_once``).
"""
from __future__ import annotations

import time
from typing import Callable

from . import events as ev


def inject(spec: str, emit: ev.Emit, stop: Callable[[], bool]) -> tuple[ev.Emit, Callable[[], bool]]:
    """``(emit, stop)`` wrapped with the fault ``spec`` names (``""``: unchanged)."""
    if spec.startswith("sleep"):
        delay = float(spec[5:] or 0.2)

        def slow_stop() -> bool:
            time.sleep(delay)
            return stop()

        return emit, slow_stop
    if spec == "oom_once":
        fired = []

        def oom_emit(event: ev.Event) -> None:
            emit(event)
            if isinstance(event, ev.BatchProgress) and not fired:
                import torch

                fired.append(True)
                raise torch.OutOfMemoryError("simulated CUDA out of memory")

        return oom_emit, stop
    return emit, stop
