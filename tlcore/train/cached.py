"""Cached frozen features: the outputs of a fit's frozen groups, computed once instead of every batch.

A frozen backbone's (``head``) features, or a frozen prefix's outputs at its boundary, are computed
once per split: head features through the disk cache of tlcore.features and, for the fits of one
learning curve, once per process; streamed images part by part into a memory-mapped file; in a
distributed run by one process per machine, the others reading its file.
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch

from .. import events as ev
from .split import Split

#: Streaming data: frozen outputs are computed this many images at a time into their file on disk.
CACHE_PART_IMAGES = 8192


@dataclass(frozen=True)
class SharedFeatures:
    """A whole split's frozen features in a learning curve's memo: one row per image (a file that failed to
    decode has a placeholder row) and the failures by position, so that every fit leaves out the same files."""

    features: torch.Tensor
    failed: dict

    @property
    def shape(self) -> torch.Size:
        return self.features.shape


class FeatureCache:
    """The :class:`~tlcore.train.trainer.Trainer`'s frozen-feature caching (a base class of the Trainer).

    Its methods use the trainer's set-up: ``config``, ``spec``, ``plan``, ``net``, ``normalize``,
    ``precision``, ``device``, ``dataset``, ``train_index``, ``dist``, ``stop``, ``emit``,
    ``cache_start``, ``feature_memo`` and ``_scratch``, and its ``image_size``, ``augment``,
    ``_fetch``, ``_check_stop`` and ``_leave_out_failed``.
    """

    def _cache_start(self) -> str | None:
        """The first group whose inputs are cached, or None to compute every batch afresh.

        A frozen backbone (``head``) is computed once: its features are cached. A frozen prefix
        (``top``) is cached at its boundary too, when the images are not augmented and its
        outputs fit the memory budget (the same results as recomputing it).
        """
        if not self.config.cache_features or self.augment:
            return None
        first = self.net.first_trainable_group() or "head"
        if first == "head":
            return "head"
        if first != self.net.group_names[0] and self.net.splittable and self._prefix_fits_budget(first):
            return first
        return None

    @torch.no_grad()
    def _compute_cached(self, split: Split, phase: str) -> torch.Tensor:
        """Outputs of the frozen groups before ``cache_start`` for every image of ``split`` (BatchNorm in eval).

        Head features go through the disk cache (tlcore.features): whichever of "Measure it", a
        head run or Compare comes first computes them, the others read them back.
        """
        if self.cache_start != "head":
            return self._compute_rows(split, list(range(len(split))), phase)
        from ..features import cached_features, key_for

        weights = self.config.weights if self.plan.pretrained else "none"
        precision = str(self.precision.amp_dtype).replace("torch.", "") if self.precision.amp else "fp32"
        key = key_for(self.config.model, weights, self.image_size, precision)
        feats = cached_features(key, [p for p, _ in split.items], lambda idx: self._compute_rows(split, idx, phase),
                                unusable=lambda: getattr(split.store, "failed", {}))
        return feats.to(self.device)

    @torch.no_grad()
    def _compute_rows(self, split: Split, indices: list[int], phase: str) -> torch.Tensor:
        self.net.eval()
        out = []
        n = len(indices)
        bs = max(self.config.batch_size, 64)
        for i in range(0, n, bs):
            self._check_stop()
            x = self._fetch(split, indices[i:i + bs])
            with self.precision.autocast():
                y = self.net.forward_until(x, self.cache_start)
                # Head features are kept in float32; a prefix keeps the dtype the next group would get.
                out.append(y.float() if self.cache_start == "head" else y)
            self.emit(ev.Status(phase="features", message=f"Computing frozen features ({phase})",
                                fraction=min(1.0, (i + bs) / n)))
        return torch.cat(out) if out else torch.empty(0)

    def _shared_cached(self, split: Split, phase: str) -> torch.Tensor:
        """``_compute_cached``, once per process for a whole split when fits share a ``feature_memo``.

        With a memo and a frozen backbone (``head``), the features of the whole split (the whole
        training split, not just this fit's subset) are computed by the first fit and kept; a fit
        on a training subset indexes into them, so a learning curve computes them once.
        """
        if (self.feature_memo is None or self.cache_start != "head" or self.dist.enabled
                or not split.store.fits_in_memory):
            return self._cached_outputs(split, phase)
        from ..data import ImageStore

        cfg = self.config
        whole = list(self.dataset.train) if phase == "train" else list(self.dataset.val)
        index = self.train_index if phase == "train" else None
        backbone = (cfg.model, cfg.weights, cfg.seed if cfg.weights == "none" else None, self.image_size)
        key = (phase, backbone, tuple(p for p, _ in whole))
        if key not in self.feature_memo:
            source = split
            if index is not None:
                budget = cfg.memory_budget_mb * 2**20 * len(whole) // max(1, self.dataset.num_images)
                source = Split(whole, torch.tensor([y for _, y in whole], dtype=torch.long),
                               ImageStore([p for p, _ in whole], self.image_size, budget, crop_pct=self.spec.crop_pct))
                source.store.skip_failures = True  # as the fit's own stores: a bad file is left out, not fatal
            # One row per image of the whole split (a file that failed has a placeholder row), and the failures
            # by position, so that every fit leaves out the same files, not only the first.
            self.feature_memo[key] = SharedFeatures(self._compute_cached(source, phase), dict(source.store.failed))
        feats, failed_whole = self.feature_memo[key].features, self.feature_memo[key].failed
        positions = list(range(len(whole))) if index is None else list(index)
        failed = {j: failed_whole[i] for j, i in enumerate(positions) if i in failed_whole}
        keep = torch.tensor([i for i in positions if i not in failed_whole], dtype=torch.long, device=feats.device)
        self._leave_out_failed(split, phase, failed)
        return feats.index_select(0, keep)

    @torch.no_grad()
    def _prefix_fits_budget(self, first_trainable: str) -> bool:
        """Would the frozen prefix's outputs for every image fit the memory budget?"""
        self.net.eval()
        probe = torch.zeros(1, 3, self.image_size, self.image_size, dtype=torch.uint8, device=self.device)
        with self.precision.autocast():
            out = self.net.forward_until(self.normalize(probe), first_trainable)
        need = out.numel() * out.element_size() * self.dataset.num_images
        return need <= self.config.memory_budget_mb * 2**20

    def _scratch_dir(self) -> Path:
        """A folder for this fit's files (removed when it ends); a distributed run's shared folder."""
        if self.dist.scratch is not None:
            return self.dist.scratch
        if self._scratch is None:
            from ..paths import cache_dir

            root = cache_dir() / "scratch"
            root.mkdir(parents=True, exist_ok=True)
            self._scratch = Path(tempfile.mkdtemp(prefix="fit-", dir=root))
        return self._scratch

    def _cached_outputs(self, split: Split, phase: str) -> torch.Tensor:
        """:meth:`_compute_cached` for a split, kept where it belongs; failed files leave the split.

        An ordinary run whose images fit the budget keeps the outputs in memory, as computed.
        Streamed images: the outputs are computed part by part into a file and used memory-mapped,
        never whole in memory. A distributed run: one process per machine computes them, the
        others read its file.
        """
        from ..data.stream import RowWriter, read_rows

        streaming = not split.store.fits_in_memory
        if not streaming and not self.dist.enabled:
            out = self._compute_cached(split, phase)
            failed = dict(split.store.failed)
            if failed:
                keep = torch.tensor([i for i in range(len(split)) if i not in failed], device=out.device)
                out = out.index_select(0, keep)
            self._leave_out_failed(split, phase, failed)
            return out

        def write(path: Path) -> None:
            writer = RowWriter(path, len(split))
            failed: dict[str, tuple[str, str]] = {}
            step = CACHE_PART_IMAGES if streaming else max(1, len(split))
            try:
                for start in range(0, len(split), step):
                    part = split.part(start, start + step) if streaming else split
                    label = phase if len(split) <= step else f"{phase}, part {start // step + 1}/{-(-len(split) // step)}"
                    out = self._compute_cached(part, label)
                    bad = part.store.failed
                    if bad:
                        out = out.index_select(0, torch.tensor([i for i in range(len(part)) if i not in bad],
                                                               device=out.device))
                        failed.update({str(start + i): f for i, f in bad.items()})
                    writer.append(out)
                    if part is not split:
                        part.store.close()
                writer.finish({"failed": failed})
            except BaseException:
                writer.abandon()
                raise

        name = f"{phase}-{self.cache_start}"
        if self.dist.enabled:
            path = self.dist.shared_rows(name, write, self.stop)
        else:
            path = self._scratch_dir() / f"{name}.npy"
            write(path)
        rows, extra = read_rows(path, mmap=streaming)
        self._leave_out_failed(split, phase, {int(k): tuple(v) for k, v in extra.get("failed", {}).items()})
        return rows if streaming else rows.to(self.device)
