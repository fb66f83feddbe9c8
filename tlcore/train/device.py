"""Where and in what precision a run computes: CUDA, Apple MPS or the CPU."""
from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np
import torch

from ..errors import TrainingError


def pick_device(name: str = "auto") -> torch.device:
    """CUDA, else Apple MPS, else CPU (or the device asked for). Raises TrainingError if it is missing."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise TrainingError("CUDA was asked for but no CUDA GPU is available.", "Use --device auto or cpu.")
    if name == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise TrainingError("Apple MPS was asked for but is not available.", "Use --device auto or cpu.")
    return torch.device(name)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)


@dataclass(frozen=True)
class Precision:
    """Mixed precision and memory layout for a device.

    CUDA: autocast to bfloat16 (float16 with a gradient scaler where bf16 is missing).
    channels_last: faster convolutions with cuDNN and with oneDNN on CPUs (5-15 % on labnet
    and torchvision models); the same results up to float rounding.
    """

    device_type: str
    amp_dtype: torch.dtype
    channels_last: bool

    @classmethod
    def for_device(cls, device: torch.device) -> "Precision":
        if device.type == "cuda":
            dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        else:
            dtype = torch.float32
        return cls(device.type, dtype, device.type in ("cuda", "cpu"))

    @property
    def amp(self) -> bool:
        return self.device_type == "cuda"

    def autocast(self):
        return torch.autocast(self.device_type, dtype=self.amp_dtype, enabled=self.amp)

    def scaler(self) -> torch.amp.GradScaler:
        return torch.amp.GradScaler("cuda", enabled=self.amp and self.amp_dtype == torch.float16)
