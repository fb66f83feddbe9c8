"""AdamW with a warm-up/cosine schedule, in plain foreach kernels.

Why not ``torch.optim.AdamW``: its ``step`` imports ``torch._dynamo`` on first
use, about 2 s on a laptop CPU, which a class waits through at every run start.
The update is the same decoupled-weight-decay Adam (Loshchilov and Hutter, 2019).
"""
from __future__ import annotations

import math

import torch


class AdamW:
    """AdamW over parameter groups (dicts with ``params``, ``lr``, ``weight_decay``)."""

    def __init__(self, param_groups: list[dict], betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8):
        self.param_groups = []
        for g in param_groups:
            g = dict(g)
            g["params"] = list(g["params"])
            g.setdefault("weight_decay", 0.0)
            g["initial_lr"] = g["lr"]
            self.param_groups.append(g)
        self.betas = betas
        self.eps = eps
        self.state: dict[torch.Tensor, dict] = {}

    def zero_grad(self, set_to_none: bool = True) -> None:
        for g in self.param_groups:
            for p in g["params"]:
                p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        b1, b2 = self.betas
        for g in self.param_groups:
            params = [p for p in g["params"] if p.grad is not None]
            if not params:
                continue
            for p in params:
                if p not in self.state:
                    self.state[p] = {"step": 0, "m": torch.zeros_like(p), "v": torch.zeros_like(p)}
            states = [self.state[p] for p in params]
            # Parameters of one group step together, so one bias correction serves them all.
            for s in states:
                s["step"] += 1
            t = states[0]["step"]
            grads = [p.grad for p in params]
            m = [s["m"] for s in states]
            v = [s["v"] for s in states]
            lr, wd = g["lr"], g["weight_decay"]
            if wd:
                torch._foreach_mul_(params, 1.0 - lr * wd)
            torch._foreach_lerp_(m, grads, 1.0 - b1)
            torch._foreach_mul_(v, b2)
            torch._foreach_addcmul_(v, grads, grads, 1.0 - b2)
            denom = torch._foreach_sqrt(v)
            torch._foreach_div_(denom, math.sqrt(1.0 - b2**t))
            torch._foreach_add_(denom, self.eps)
            torch._foreach_addcdiv_(params, m, denom, -lr / (1.0 - b1**t))


def warmup_cosine(step: int, total: int, warmup_frac: float = 0.15) -> float:
    """Learning-rate factor: linear warm-up from 0.1, then cosine decay to 0.01. Works for any length."""
    total = max(1, total)
    warmup = max(1, int(warmup_frac * total))
    if step < warmup:
        return 0.1 + 0.9 * step / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return max(0.01, 0.5 * (1.0 + math.cos(math.pi * progress)))


class WarmupCosine:
    """Sets each group's lr to ``initial_lr * warmup_cosine(step)``; call ``step()`` after each update."""

    def __init__(self, optimizer: AdamW, total_steps: int):
        self.optimizer = optimizer
        self.total = total_steps
        self.count = 0
        self._apply()

    def _apply(self) -> None:
        f = warmup_cosine(self.count, self.total)
        for g in self.optimizer.param_groups:
            g["lr"] = g["initial_lr"] * f

    def step(self) -> None:
        self.count += 1
        self._apply()


def relative_grad_norms(params: list[torch.Tensor], eps: float = 1e-12) -> list[float]:
    """|grad| / |weight| (Frobenius norms) per tensor; NaN for a tensor without a finite gradient."""
    with torch.no_grad():
        have = [p for p in params if p.grad is not None]
        if not have:
            return [math.nan] * len(params)
        g = torch._foreach_norm([p.grad for p in have])
        w = torch._foreach_norm(have)
        ratios = iter((torch.stack(g).float() / (torch.stack(w).float() + eps)).tolist())
        return [next(ratios) if p.grad is not None else math.nan for p in params]


class RelativeGradNorm:
    """Auto-RGN (Lee et al., ICLR 2023, "Surgical Fine-Tuning Improves Adaptation to Distribution Shifts").

    Each optimizer group holds one tensor. :meth:`observe` (after each backward pass) records
    every tensor's relative gradient norm RGN = |grad| / |weight|; :meth:`epoch_end` sets each
    tensor's rate for the next epoch to its group's base rate times RGN / max RGN (the epoch's
    mean RGN per tensor), so the tensors whose gradients are large for their size learn fastest
    and the others barely move. The first observed batch sets the rates of the first epoch.

    The maximum is taken over matrices and convolution kernels (tensors of 2 or more
    dimensions): a bias or BatchNorm shift near zero has a huge ratio that says little, so 1-D
    tensors are scaled by the same reference and capped at 1. Learning-rate schedules keep
    working: the scale goes into each group's ``initial_lr``.
    """

    def __init__(self, optimizer: AdamW):
        self.optimizer = optimizer
        self.groups = [g for g in optimizer.param_groups if len(g["params"]) == 1]
        for g in self.groups:
            g.setdefault("base_lr", g["initial_lr"])
        self._sum = [0.0] * len(self.groups)
        self._count = [0] * len(self.groups)
        self.scales: list[float] | None = None  # the current RGN / max RGN per group
        self.history: list[dict[str, float]] = []  # per update: tensor name -> the scale it set
        self.measured: list[dict[str, float]] = []  # per update: tensor name -> the mean RGN it was set from

    def observe(self) -> None:
        ratios = relative_grad_norms([g["params"][0] for g in self.groups])
        for i, r in enumerate(ratios):
            if math.isfinite(r):
                self._sum[i] += r
                self._count[i] += 1
        if self.scales is None and any(self._count):
            self._update()

    def epoch_end(self) -> None:
        if any(self._count):
            self._update()

    def mean_rgn(self) -> list[float]:
        return [s / c if c else 0.0 for s, c in zip(self._sum, self._count)]

    def _update(self) -> None:
        rgn = self.mean_rgn()
        ref = max([r for r, g in zip(rgn, self.groups) if g["params"][0].dim() >= 2] or rgn) or 1.0
        self.scales = [min(1.0, r / ref) for r in rgn]
        # The schedule's current factor (lr / initial_lr) carries over to the new rates.
        factor = next((g["lr"] / g["initial_lr"] for g in self.groups if g["initial_lr"] > 0), 1.0)
        for g, s in zip(self.groups, self.scales):
            g["initial_lr"] = g["base_lr"] * s
            g["lr"] = g["initial_lr"] * factor
        names = [g.get("name", str(i)) for i, g in enumerate(self.groups)]
        self.history.append(dict(zip(names, self.scales)))
        self.measured.append(dict(zip(names, rgn)))
        self._sum = [0.0] * len(self.groups)
        self._count = [0] * len(self.groups)
