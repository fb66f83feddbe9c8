"""The run's model file (``best.pt``): what it holds, written atomically, read back safely."""
from __future__ import annotations

from pathlib import Path

import torch

from ..errors import ModelError, TrainingError
from ..fsutil import atomic_write

FORMAT = "tlcore-checkpoint-1"
#: Keys every checkpoint holds (see :func:`make_checkpoint`).
REQUIRED = ("model_state", "classes", "model", "image_size", "mean", "std")


def make_checkpoint(*, model_state: dict, config: dict, classes: list[str], epoch: int, val_accuracy: float,
                    val_balanced_accuracy: float, model: str, image_size: int, mean, std, plan_report: dict) -> dict:
    """The checkpoint dict: weights plus everything needed to use them (classes in order, preprocessing)."""
    return {
        "model_state": model_state,
        "config": config,
        "classes": list(classes),
        "epoch": epoch,
        "val_accuracy": val_accuracy,
        "val_balanced_accuracy": val_balanced_accuracy,
        "model": model,
        "image_size": image_size,
        "mean": list(mean),
        "std": list(std),
        "plan_report": plan_report,
        "format": FORMAT,
    }


def save_checkpoint_atomic(obj: dict, path: Path) -> None:
    """Write then rename: a half-written file never replaces a good checkpoint. Raises TrainingError."""
    path = Path(path)
    try:
        atomic_write(path, lambda tmp: torch.save(obj, tmp), fsync=True)
    except OSError as exc:
        raise TrainingError(
            f"Could not write the checkpoint {path.name}: {exc.strerror or exc}.",
            "Free disk space or choose a writable runs directory (--runs-dir or TLCORE_RUNS_DIR); the previous checkpoint is kept.",
            code="checkpoint_write",
        ) from None


def load_checkpoint(path: str | Path) -> dict:
    """A checkpoint written by :func:`save_checkpoint_atomic`, loaded with ``weights_only=True``.

    Raises ModelError when the file is missing, unreadable or not a tlcore checkpoint.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelError("This run has no saved model (best.pt) yet.", "Pick a run that finished at least one epoch.",
                         code="no_checkpoint")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unpickling problem is a bad file for the user
        raise ModelError(f"Could not read the saved model: {type(exc).__name__}.",
                         "The file may be damaged; train the run again.", code="bad_checkpoint") from None
    if not isinstance(ckpt, dict) or any(k not in ckpt for k in REQUIRED):
        raise ModelError(f"{path.name} is not a model saved by this app.", "Pick a run's best.pt.", code="bad_checkpoint")
    return ckpt
