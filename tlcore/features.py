"""Frozen-backbone features computed once and kept on disk, shared by "Measure it", head runs and Compare.

A frozen backbone maps an image to the same feature vector every time, so the vectors are
kept per image under a key of everything they depend on: the backbone, its weights (the
file's path, size and modification time), the image size and preprocessing (eval crop,
mean, std, the resize code's version), the numeric precision, and the layer (the head's
input). Whichever comes first (measuring similarity, a ``head`` run in Train or Compare)
pays the forward passes; the others read the vectors back.

Layout: ``paths.cache_dir()/features/<backbone>-<key hash>/`` holds ``key.json`` (the key,
for people) and shards ``<random>.pt``, each ``{"ids": [...], "features": float32 (n, D)}``
for some images. An image is known by its real path, size and modification time, so an
edited file is computed afresh. Shards are written aside and renamed (never half-written),
each under a new name, so two processes computing at once never clobber each other (at
worst both compute the same images; readers take either copy). Unreadable shards are
ignored. Old keys are pruned when the folder grows past :data:`MAX_BYTES`.

``TLCORE_FEATURE_CACHE=0`` turns the disk cache off (the benchmark does, to time the
in-memory path alone). A cache that cannot be written never fails a run: it just computes.
"""
from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Sequence

import torch

from .fsutil import atomic_write, write_json_atomic
from .paths import cache_dir

#: Bumped when anything that changes a feature vector without changing the key changes
#: (the decoder, the resize, the normalization code).
FORMAT_VERSION = 1
#: The environment variable that turns the disk cache off ("0", "off", "false", "no").
ENV = "TLCORE_FEATURE_CACHE"
#: The folder is pruned (oldest keys first) when it grows past this.
MAX_BYTES = 1 << 30


@dataclass(frozen=True)
class FeatureKey:
    """Everything a frozen feature vector depends on, besides the image."""

    model: str
    weights: str  # a fingerprint of the weights (see tlcore.models.weights_fingerprint)
    image_size: int
    crop_pct: float
    mean: tuple
    std: tuple
    precision: str = "fp32"  # fp32 | bf16 | fp16: the dtype the backbone ran in
    layer: str = "head"  # the features are this group's input
    version: int = FORMAT_VERSION

    def digest(self) -> str:
        text = json.dumps(asdict(self), sort_keys=True, default=list)
        return hashlib.sha1(text.encode()).hexdigest()[:16]

    @property
    def folder_name(self) -> str:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in self.model)[:40]
        return f"{safe}-{self.digest()}"


def key_for(model: str, weights: str, image_size: int = 0, precision: str = "fp32") -> FeatureKey | None:
    """The key of ``model``'s head features under ``weights`` at ``image_size`` (0: the backbone's own).

    None when the weights have no stable identity (random init, or not on this machine yet).
    """
    from .models import get_spec, weights_fingerprint

    fingerprint = weights_fingerprint(model, weights)
    if fingerprint is None:
        return None
    spec = get_spec(model)
    return FeatureKey(model, fingerprint, int(image_size or spec.input_size), float(spec.crop_pct),
                      tuple(spec.mean), tuple(spec.std), precision)


def enabled() -> bool:
    return os.environ.get(ENV, "1").strip().lower() not in ("0", "off", "false", "no")


def image_id(path: str) -> str:
    """An image's identity: its real path, size and modification time (an edited file is a new image)."""
    real = os.path.realpath(path)
    st = os.stat(real)
    return hashlib.sha1(f"{real}\0{st.st_size}\0{st.st_mtime_ns}".encode("utf-8", "surrogateescape")).hexdigest()[:20]


class FeatureCache:
    """The stored feature vectors of one key (see the module's docstring)."""

    def __init__(self, key: FeatureKey, root: str | Path | None = None):
        self.key = key
        self.root = Path(root) if root is not None else cache_dir() / "features"
        self.folder = self.root / key.folder_name

    def load(self, wanted: "set[str] | None" = None) -> dict[str, torch.Tensor]:
        """Image id -> feature vector, for every image stored under this key (only ``wanted`` ids when given:
        a streamed part holds its own rows, not the whole cache)."""
        out: dict[str, torch.Tensor] = {}
        if not self.folder.is_dir():
            return out
        for shard in sorted(self.folder.glob("*.pt")):
            try:
                obj = torch.load(shard, map_location="cpu", weights_only=True)
                ids, feats = obj["ids"], obj["features"]
                if len(ids) != len(feats):
                    continue
            except Exception:  # noqa: BLE001 - a damaged or vanished shard is a cache miss, never an error
                continue
            for i, row in zip(ids, feats):
                if wanted is None or i in wanted:
                    out.setdefault(i, row.clone() if wanted is not None else row)
        return out

    def add(self, ids: Sequence[str], features: torch.Tensor) -> bool:
        """Store the vectors of ``ids`` (float32 (n, D) on any device) as one new shard; False if it could not."""
        if not len(ids):
            return True
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            key_file = self.folder / "key.json"
            if not key_file.exists():
                write_json_atomic(key_file, asdict(self.key))
            obj = {"ids": list(ids), "features": features.detach().float().cpu().contiguous()}
            name = f"{time.strftime('%Y%m%d%H%M%S')}-{secrets.token_hex(4)}.pt"
            atomic_write(self.folder / name, lambda tmp: torch.save(obj, tmp))
            os.utime(self.folder)  # the folder's time is its last use (pruning goes by it)
        except OSError:
            return False
        prune(self.root, keep=self.folder)
        return True


def prune(root: Path, max_bytes: int = MAX_BYTES, keep: Path | None = None) -> None:
    """Delete whole key folders, least recently written first, until the cache is under ``max_bytes``."""
    try:
        folders = [d for d in root.iterdir() if d.is_dir() and not d.name.startswith(".")]  # not .trash-* folders
        sizes = {d: sum(f.stat().st_size for f in d.glob("*") if f.is_file()) for d in folders}
    except OSError:
        return
    total = sum(sizes.values())
    def last_used(d: Path) -> float:
        try:
            return d.stat().st_mtime
        except OSError:  # another process removed it meanwhile
            return 0.0

    for d in sorted(folders, key=last_used):
        if total <= max_bytes:
            break
        if d == keep:
            continue
        shutil.rmtree(d, ignore_errors=True)
        total -= sizes[d]


def cached_features(key: FeatureKey | None, paths: Sequence[str],
                    compute: Callable[[list[int]], torch.Tensor],
                    on_hits: Callable[[int], None] | None = None,
                    unusable: Callable[[], "set[int] | dict"] | None = None) -> torch.Tensor:
    """The feature vectors of ``paths`` (float32 (N, D), on the CPU), computing only those not stored.

    ``compute(indices)`` returns the vectors of ``paths[i]`` for those indices, in order.
    With ``key`` None or the cache off, everything is computed and nothing stored.
    ``on_hits(n)`` is told how many came from the cache. ``unusable()``, asked after computing,
    names the indices whose files failed to decode meanwhile: their vectors are never stored.
    """
    n = len(paths)
    if key is None or not enabled() or n == 0:
        return compute(list(range(n))).float().cpu()
    cache = FeatureCache(key)
    try:
        ids = [image_id(p) for p in paths]
    except OSError:  # a file vanished: no identity, no cache
        return compute(list(range(n))).float().cpu()
    stored = cache.load(set(ids))
    missing = [i for i, k in enumerate(ids) if k not in stored]
    if on_hits:
        on_hits(n - len(missing))
    fresh = compute(missing).float().cpu() if missing else None
    if fresh is not None:
        bad = set(unusable() if unusable else ())
        keep = [j for j, i in enumerate(missing) if i not in bad]
        if keep:
            cache.add([ids[missing[j]] for j in keep], fresh[keep])
    rows: list[torch.Tensor | None] = [stored.get(k) for k in ids]
    for j, i in enumerate(missing):
        rows[i] = fresh[j]
    return torch.stack(rows) if rows else torch.empty(0)
