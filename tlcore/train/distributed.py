"""Distributed data parallel training: what a rank started by torchrun shares with the others.

A run with ``nproc_per_node * nnodes > 1`` processes is launched by ``tlcore.launch`` under
``torch.distributed.run``; each process (rank) runs the ordinary trainer with a
:class:`DistContext`, which holds everything that differs from a single process:

- the process group: NCCL between GPUs, gloo on CPUs; each rank on its own GPU (its local rank);
- the batch order: every rank draws the same permutation from the same seeded generator and
  takes its share of each *global* batch (``rank::world``), so a run on N processes trains on
  the same global batches as one process with the same seed and batch size (the split that a
  ``DistributedSampler`` makes, applied to our own batch order); the loss of each share is
  weighted so that the averaged gradient is the global batch's mean gradient;
- ``DistributedDataParallel`` around the trained part of the network (rebuilt when the set of
  trained parameters changes);
- validation shared out the same way and gathered, so every rank sees the same metrics;
- a stop check every rank answers together (the run's ``stop`` file, seen by any rank, stops all
  at the same step), except while one rank computes something alone (:meth:`alone`);
- the frozen features computed once per machine (local rank 0) and read by the others from a
  file (:meth:`shared_rows`).

Events, checkpoints and the status file are written by rank 0 only: the other ranks get no
subscriber and no checkpoint path (see ``tlcore.launch.run_rank``). ``SINGLE`` is the context
of an ordinary run: each method is the identity there.
"""
from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from ..errors import StopRequested, TrainingError

#: How long a collective operation may wait for the other ranks before the run fails (seconds).
#: A rank that dies is noticed by torchrun much sooner; this catches one that hangs.
COLLECTIVE_TIMEOUT_S = 600
#: How often a rank waiting for another's file looks for it (seconds).
WAIT_POLL_S = 0.2


class _TrainedPart(nn.Module):
    """``net.forward_from(x, start)`` as a module, so that DDP wraps exactly the part that trains."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor, start: str) -> torch.Tensor:
        return self.net.forward_from(x, start)


@dataclass
class DistContext:
    """One rank's view of a distributed run (``SINGLE``: an ordinary run in one process)."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0
    backend: str = ""  # "nccl" | "gloo" ("" for a single process)
    device: torch.device | None = None  # this rank's device (None: the trainer picks)
    scratch: Path | None = None  # a folder every rank on this machine sees (shared files)
    shared: dict = field(default_factory=lambda: {"written": [], "read": []})  # names of shared files, by what we did
    _ddp: nn.Module | None = field(default=None, repr=False)
    _ddp_key: tuple = field(default=(), repr=False)
    _collective_stops: bool = field(default=True, repr=False)

    @property
    def enabled(self) -> bool:
        return self.world > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def describe(self, device: torch.device) -> str:
        """The device as the run reports it: ``cpu``, or ``2 x cpu (gloo)`` for a distributed run."""
        return str(device) if not self.enabled else f"{self.world} x {device.type} ({self.backend})"

    # -- batches -------------------------------------------------------------------
    def shard(self, perm: torch.Tensor, slices: list[slice]) -> list[tuple[torch.Tensor, int]]:
        """This rank's part of each global batch: ``(indices, global batch size)`` per step.

        With several ranks a last global batch too small to give each rank two images joins the one
        before (BatchNorm cannot normalize a single image), so every rank runs the same steps.
        """
        if not self.enabled:
            return [(perm[sl], sl.stop - sl.start) for sl in slices]
        slices = list(slices)
        if len(slices) > 1 and slices[-1].stop - slices[-1].start < 2 * self.world:
            slices[-2:] = [slice(slices[-2].start, slices[-1].stop)]
        return [(perm[sl][self.rank::self.world], sl.stop - sl.start) for sl in slices]

    def augment_generator(self, gen: torch.Generator, seed: int) -> torch.Generator:
        """The generator augmentation draws from: the trainer's own in one process; one per rank otherwise.

        Ranks must not draw augmentation from the batch-order generator: their shares differ in
        size, and the next epoch's permutation would differ from rank to rank.
        """
        if not self.enabled:
            return gen
        return torch.Generator().manual_seed(seed * 1_000_003 + 7919 * (self.rank + 1))

    def scale_loss(self, loss: torch.Tensor, rows: int, global_rows: int) -> torch.Tensor:
        """Weight a share's mean loss so that DDP's average of the ranks' gradients is the global batch's mean."""
        if not self.enabled:
            return loss
        return loss * (rows * self.world / max(1, global_rows))

    def trained_part(self, net) -> Callable[[torch.Tensor, str], torch.Tensor]:
        """``forward(x, start)`` for training: ``net.forward_from``, under DDP when distributed."""
        if not self.enabled:
            return net.forward_from
        key = tuple(name for name, p in net.named_parameters() if p.requires_grad)
        if self._ddp is None or key != self._ddp_key:
            from torch.nn.parallel import DistributedDataParallel

            ids = [self.device.index] if self.device is not None and self.device.type == "cuda" else None
            self._ddp = DistributedDataParallel(_TrainedPart(net), device_ids=ids, gradient_as_bucket_view=True)
            self._ddp_key = key
        return self._ddp

    def eval_batches(self, n: int, batch_size: int) -> list[range]:
        """This rank's validation positions in batches; every rank gets the same number of batches (some empty)."""
        if not self.enabled:
            return [range(i, min(n, i + batch_size)) for i in range(0, n, batch_size)]
        mine = range(self.rank, n, self.world)
        per_rank = -(-n // self.world)
        steps = -(-per_rank // batch_size)
        return [mine[k * batch_size:(k + 1) * batch_size] for k in range(steps)]

    # -- collectives ---------------------------------------------------------------
    def _comm_device(self) -> torch.device:
        return self.device if self.backend == "nccl" and self.device is not None else torch.device("cpu")

    def sum(self, *values: float) -> list[float]:
        """Each value summed over the ranks."""
        if not self.enabled:
            return list(values)
        import torch.distributed as dist

        t = torch.tensor(values, dtype=torch.float64, device=self._comm_device())
        dist.all_reduce(t)
        return t.tolist()

    def gather(self, obj) -> list:
        """Every rank's ``obj`` (picklable), in rank order."""
        if not self.enabled:
            return [obj]
        import torch.distributed as dist

        out = [None] * self.world
        dist.all_gather_object(out, obj)
        return out

    def barrier(self) -> None:
        if self.enabled:
            import torch.distributed as dist

            dist.barrier()

    def collective_stop(self, local: Callable[[], bool]) -> Callable[[], bool]:
        """A stop check that all ranks answer together: True on every rank when any rank's ``local()`` is.

        Inside :meth:`alone` it is ``local()`` only (the other ranks are not checking then).
        """
        if not self.enabled:
            return local

        def stop() -> bool:
            import torch.distributed as dist

            flag = bool(local())
            if not self._collective_stops:
                return flag
            t = torch.tensor([1 if flag else 0], dtype=torch.int32, device=self._comm_device())
            dist.all_reduce(t, op=dist.ReduceOp.MAX)
            return bool(t.item())

        return stop

    @contextlib.contextmanager
    def alone(self):
        """While ranks work apart (one computes, the others wait for its file), stop checks stay local."""
        saved = self._collective_stops
        self._collective_stops = False
        try:
            yield
        finally:
            self._collective_stops = saved

    # -- files shared between the ranks of a machine -----------------------------------
    def shared_rows(self, name: str, write: Callable[[Path], None], stop: Callable[[], bool]) -> Path:
        """The file ``name`` in the scratch folder, written once per machine by ``write(path)`` (local rank 0).

        The other ranks wait for it (``tlcore.data.stream.rows_ready``), checking ``stop`` as they
        wait. A rank whose writer dies is ended by torchrun, never left waiting.
        """
        from ..data.stream import rows_ready

        path = Path(self.scratch or ".") / f"{name}.npy"
        with self.alone():
            if self.local_rank == 0:
                write(path)
                self.shared["written"].append(name)
            else:
                while not rows_ready(path):
                    if stop():
                        raise StopRequested()
                    time.sleep(WAIT_POLL_S)
                self.shared["read"].append(name)
        self.barrier()
        return path

    def close(self) -> None:
        if self.enabled:
            import torch.distributed as dist

            if dist.is_initialized():
                dist.destroy_process_group()


#: The context of an ordinary run in one process.
SINGLE = DistContext()


def init_from_env(device: str, scratch: Path | None = None) -> DistContext:
    """Join the process group torchrun set up (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_*``).

    ``device`` is the run's setting: ``auto`` or ``cuda`` use NCCL with one GPU per local rank when
    CUDA is there, else gloo on the CPU. Raises TrainingError when there are fewer GPUs than
    processes on this machine.
    """
    import torch.distributed as dist

    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    local_world = int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
    cuda = device in ("auto", "cuda") and torch.cuda.is_available()
    if device == "cuda" and not torch.cuda.is_available():
        raise TrainingError("CUDA was asked for but no CUDA GPU is available.", "Use --device auto or cpu.")
    if cuda and torch.cuda.device_count() < local_world:
        raise TrainingError(
            f"{local_world} processes on this machine need {local_world} GPUs; {torch.cuda.device_count()} are visible.",
            f"Use --nproc-per-node {torch.cuda.device_count()} (or fewer), or check CUDA_VISIBLE_DEVICES.",
            code="not_enough_gpus")
    backend = "nccl" if cuda else "gloo"
    dev = torch.device("cuda", local_rank) if cuda else torch.device("cpu")
    if cuda:
        torch.cuda.set_device(dev)
    dist.init_process_group(backend, timeout=timedelta(seconds=COLLECTIVE_TIMEOUT_S),
                            **({"device_id": dev} if cuda else {}))
    return DistContext(rank=rank, world=world, local_rank=local_rank, backend=backend, device=dev, scratch=scratch)
