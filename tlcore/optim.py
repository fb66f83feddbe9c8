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
