"""Training: one config in, typed events out, the best model saved as a checkpoint."""
from .checkpoint import load_checkpoint, make_checkpoint, save_checkpoint_atomic
from .device import Precision, pick_device, seed_everything
from .trainer import TrainResult, Trainer, batch_slices, train

__all__ = [
    "Precision", "TrainResult", "Trainer", "batch_slices", "load_checkpoint", "make_checkpoint", "pick_device",
    "save_checkpoint_atomic", "seed_everything", "train",
]
