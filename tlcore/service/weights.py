"""Backbones and weights files for the app and the CLI: what each backbone needs, the weights folders, uploads, checks."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import ModelError
from ..fsutil import atomic_write
from ..paths import cache_dir, weights_dirs

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def model_infos() -> list[dict]:
    """``python -m tlcore models --json``: every listed backbone with ``name``, ``source``, ``offline`` (its
    pretrained weights are on this machine now), ``groups``, ``input_size`` and a few more facts."""
    from ..models import REGISTRY, pretrained_offline

    return [{
        "name": spec.name, "source": spec.source, "offline": pretrained_offline(spec), "groups": list(spec.groups),
        "input_size": spec.input_size, "arch": spec.arch, "description": spec.description,
        "params_m": spec.approx_params_m, "mean": list(spec.mean), "std": list(spec.std), "crop_pct": spec.crop_pct,
    } for spec in REGISTRY.values()]


def model_offline(model: str) -> bool:
    """Whether ``model``'s pretrained weights are on this machine now (no download needed)."""
    from ..models import get_spec, pretrained_offline

    return pretrained_offline(get_spec(model))


@dataclass(frozen=True)
class WeightsChoice:
    """A weights file the app offers: its label (``folder/file``) and path."""

    label: str
    path: Path


def list_weights_files() -> list[WeightsChoice]:
    """Weights files (.pth, .pt, .safetensors, .bin, .ckpt) directly inside the weights folders (TLCORE_WEIGHTS_DIRS)."""
    from ..models import WEIGHTS_SUFFIXES

    out: list[WeightsChoice] = []
    seen = set()
    for root in weights_dirs():
        if not root.is_dir():
            continue
        for f in sorted(root.iterdir()):
            if f.name.startswith(".") or not f.is_file() or f.suffix.lower() not in WEIGHTS_SUFFIXES:
                continue
            resolved = f.resolve()
            label = f"{root.name}/{f.name}"
            if resolved.parent == root and label not in seen:  # a link that leads elsewhere is not offered
                seen.add(label)
                out.append(WeightsChoice(label, resolved))
    return out


def resolve_weights_file(label: str) -> Path:
    """The file behind a label from :func:`list_weights_files`; anything else (a typed path) is refused."""
    for choice in list_weights_files():
        if choice.label == label:
            return choice.path
    raise ModelError(f"'{label}' is not a weights file in the weights folders.",
                     "Pick one from the list; the server's administrator sets the folders with TLCORE_WEIGHTS_DIRS.",
                     code="weights_not_in_dirs")


def save_weights_upload(name: str, data: bytes) -> Path:
    """Store an uploaded weights file in the cache (once per content) and return its path.

    The file is not read here: check it against a backbone with :func:`check_weights`.
    Raises ModelError for an empty upload or a suffix that is not a weights file.
    """
    from ..models import WEIGHTS_SUFFIXES

    if not data:
        raise ModelError(f"'{name}' is empty.", "Upload a .pth, .pt or .safetensors weights file.", code="empty_upload")
    suffix = Path(name).suffix.lower()
    if suffix not in WEIGHTS_SUFFIXES:
        raise ModelError(f"'{name}' is not a weights file ({', '.join(WEIGHTS_SUFFIXES)}).",
                         "Upload a file saved with torch.save(model.state_dict(), 'weights.pth'), or a .safetensors file.",
                         code="bad_weights_file")
    digest = hashlib.sha256(data).hexdigest()[:16]
    safe = (_SAFE.sub("_", Path(name).stem)[:80] or "weights") + suffix
    path = cache_dir() / "weights" / digest / safe
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, lambda tmp: Path(tmp).write_bytes(data))
    return path


def check_weights(model: str, weights: str, num_classes: int = 2) -> list:
    """Check a weights setting against a backbone before anything runs (the file is read, never run).

    Returns what the user should know (tlcore.models.WeightsNote: ``code``, ``params``, English
    ``message``; e.g. its classifier will be replaced). Pretrained and random weights pass.
    Raises ModelError with a one-line reason and the fix.
    """
    from ..models import check_weights as _check

    return _check(model, max(1, int(num_classes)), weights)
