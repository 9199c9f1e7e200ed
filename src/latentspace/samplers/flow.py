"""A learned prior over a model's codes: a flow fitted on its training codes (the two-stage VAE's second stage,
RAE's ex-post density estimation), drawn by integrating its ODE from N(0, I).

The network and its fit are in `samplers.latent_flow`; this module binds them to a model and its run.
"""
from __future__ import annotations

import torch

from latentspace.samplers.base import LatentSampler
from latentspace.samplers import latent_flow

DEFAULT_MINUTES = 3.0


class FlowPrior(LatentSampler):
    name = "flow"

    def __init__(self, model, **options):
        super().__init__(model, **options)
        self.flow = None

    @property
    def description(self) -> str:
        return "a learned flow prior on training codes"

    def fit_codes(self, codes, labels, minutes, log) -> None:
        self.flow = latent_flow.fit(codes.reshape(len(codes), -1), minutes=minutes or DEFAULT_MINUTES, log=log,
                                    **self.options)

    def state(self) -> dict[str, torch.Tensor]:
        return self.flow.state()

    def load_state(self, state) -> None:
        self.flow = latent_flow.LatentFlow.from_state(state)

    def sample(self, n: int, generator: torch.Generator, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.flow.sample(n, generator)
