"""Placeholder flow prior (flow matching with a small MLP), replaced by the measured one."""
from __future__ import annotations

import time

import numpy as np
import torch
from torch import nn

from latentspace.errors import LatentspaceError


class LatentFlow(nn.Module):
    def __init__(self, dim: int, hidden: int = 512, steps: int = 50):
        super().__init__()
        self.dim, self.hidden, self.steps = dim, hidden, steps
        self.net = nn.Sequential(nn.Linear(dim + 1, hidden), nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU(),
                                 nn.Linear(hidden, hidden), nn.SiLU(), nn.Linear(hidden, dim))
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("std", torch.ones(dim))
        self.register_buffer("config", torch.tensor([dim, hidden, steps]))

    def velocity(self, x, t):
        return self.net(torch.cat([x, t.expand(len(x), 1)], 1))

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        x = torch.randn(n, self.dim, generator=generator)
        dt = 1.0 / self.steps
        for i in range(self.steps):
            x = x + dt * self.velocity(x, torch.tensor([[i * dt]]))
        return x * self.std + self.mean

    def state(self) -> dict:
        return self.state_dict()

    @classmethod
    def from_state(cls, state: dict) -> "LatentFlow":
        dim, hidden, steps = (int(v) for v in state["config"])
        flow = cls(dim, hidden, steps)
        flow.load_state_dict(state)
        return flow.eval()


def fit(codes: np.ndarray, minutes: float = 3.0, log=None, batch_size: int = 512, lr: float = 1e-3) -> LatentFlow:
    codes = torch.as_tensor(np.asarray(codes, np.float32))
    if codes.ndim != 2 or not torch.isfinite(codes).all():
        raise LatentspaceError("a flow prior is fitted on finite N x D codes")
    if minutes <= 0:
        raise LatentspaceError(f"--minutes must be positive, got {minutes}")
    flow = LatentFlow(codes.shape[1])
    flow.mean.copy_(codes.mean(0))
    flow.std.copy_(codes.std(0).clamp_min(1e-6))
    x1 = (codes - flow.mean) / flow.std
    opt = torch.optim.AdamW(flow.net.parameters(), lr=lr)
    g = torch.Generator().manual_seed(0)
    deadline = time.time() + minutes * 60
    while time.time() < deadline:
        idx = torch.randint(len(x1), (batch_size,), generator=g)
        x0, t = torch.randn(batch_size, codes.shape[1], generator=g), torch.rand(batch_size, 1, generator=g)
        xt = (1 - t) * x0 + t * x1[idx]
        loss = ((flow.net(torch.cat([xt, t], 1)) - (x1[idx] - x0)) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return flow.eval()
