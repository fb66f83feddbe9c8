"""Pretrained weights: the torch hub cache, downloads that fail fast offline, files loaded safely, state matched to a model."""
from __future__ import annotations

import hashlib
import os
import re
import socket
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from ..errors import ModelError, WeightsDownloadError
from ..fsutil import atomic_write

#: How long one network operation of a weights download may block. With no
#: network, DNS fails at once; on a network that silently drops packets this
#: keeps the failure within seconds instead of minutes.
DOWNLOAD_TIMEOUT_S = 10.0

ProgressFn = Callable[[int, int], None]  # (bytes done, bytes total or 0)


def torch_hub_checkpoints_dir() -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints"


def imagenet_weights_url(arch: str) -> str:
    import torchvision

    return torchvision.models.get_model_weights(arch).DEFAULT.url


def imagenet_weights_path(arch: str) -> Path:
    """Where torchvision caches this model's ImageNet weights (the same file torchvision uses)."""
    return torch_hub_checkpoints_dir() / os.path.basename(imagenet_weights_url(arch))


def _download(url: str, dest: Path, progress: ProgressFn | None) -> None:
    """Stream ``url`` into ``dest`` (checked against the hash in its name), written aside and renamed."""
    m = re.search(r"-([a-f0-9]*)\.", os.path.basename(url))
    hash_prefix = m.group(1) if m else None
    dest.parent.mkdir(parents=True, exist_ok=True)

    def write(tmp: str) -> None:
        sha = hashlib.sha256()
        with open(tmp, "wb") as out, urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as resp:
            total = int(resp.headers.get("Content-Length") or 0)
            done = 0
            while chunk := resp.read(1 << 16):
                out.write(chunk)
                sha.update(chunk)
                done += len(chunk)
                if progress:
                    progress(done, total)
        if hash_prefix and not sha.hexdigest().startswith(hash_prefix):
            raise WeightsDownloadError(
                f"The downloaded weights from {url} are corrupt (checksum mismatch).",
                "Try again; if it keeps failing, copy the file from a machine where it works.",
            )

    atomic_write(dest, write)


def fetch_imagenet_weights(arch: str, progress: ProgressFn | None = None) -> dict:
    """Load ImageNet weights from the torch cache, downloading them once if missing.

    Raises WeightsDownloadError within seconds when there is no network, naming the fixes.
    """
    path = imagenet_weights_path(arch)
    if not path.exists():
        url = imagenet_weights_url(arch)
        try:
            _download(url, path, progress)
        except (urllib.error.URLError, socket.timeout, TimeoutError, ConnectionError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise WeightsDownloadError(
                f"Could not download the ImageNet weights for {arch} ({reason}).",
                f"Fix: connect to the internet once (the file is then cached); or copy a torch hub cache "
                f"from another machine so that {path} exists (set TORCH_HOME to point at it); "
                f"or give a local weights file with --weights FILE. Offline, the built-in lab "
                f"(--model labnet) works without any download.",
                code="weights_download",
            ) from None
    return load_weights_file(path)


def load_weights_file(path: str | Path) -> dict:
    """Load a state dict saved with torch.save, safely (``weights_only=True``).

    Accepts a plain state dict and one wrapped as ``{"model_state"|"state_dict"|"model": ...}``.
    Raises ModelError for a missing file, an unreadable one, or one that holds no tensors.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"Weights file not found: {path}.", "Check the path, or use --weights imagenet or none.")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unpickling problem is a bad file for the user
        raise ModelError(
            f"Could not read weights file {path.name}: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}.",
            "Give a file saved with torch.save(model.state_dict(), path).",
            code="bad_weights_file",
        ) from None
    if isinstance(obj, dict):
        for key in ("model_state", "state_dict", "model"):
            if key in obj and isinstance(obj[key], dict):
                obj = obj[key]
                break
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise ModelError(
            f"Weights file {path.name} does not hold a state dict of tensors.",
            "Give a file saved with torch.save(model.state_dict(), path).",
            code="bad_weights_file",
        )
    return obj


def load_matching(model: nn.Module, state: dict, what: str, *, skip_prefix: str | None = None) -> None:
    """Load ``state`` into ``model`` when every key and shape matches (keys under ``skip_prefix`` aside).

    Parameters under ``skip_prefix`` (for example a classifier whose number of classes may
    differ) keep the model's own values. Raises ModelError saying how the keys differ.
    """
    def kept(keys):
        return [k for k in keys if not (skip_prefix and k.startswith(skip_prefix))]

    own = model.state_dict()
    missing = [k for k in kept(own) if k not in state]
    unexpected = [k for k in kept(state) if k not in own]
    wrong_shape = [k for k in kept(own) if k in state and tuple(state[k].shape) != tuple(own[k].shape)]
    if missing or unexpected or wrong_shape:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing (e.g. {missing[0]})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected (e.g. {unexpected[0]})")
        if wrong_shape:
            parts.append(f"{len(wrong_shape)} with a different shape (e.g. {wrong_shape[0]})")
        raise ModelError(
            f"The {what} do not match the model: {', '.join(parts)} keys.",
            "Give a weights file saved from the same architecture (its state_dict), or choose the matching --model.",
            code="weights_mismatch",
        )
    model.load_state_dict({**own, **{k: state[k] for k in kept(state)}})
