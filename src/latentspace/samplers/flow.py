"""A learned prior over a model's codes: a flow fitted on its training codes (the two-stage VAE's second stage,
RAE's ex-post density estimation), drawn by integrating its ODE from N(0, I).

The network and its fit are in `samplers.latent_flow` (measured choices in its docstring and in
benchmarks/latent_prior.py); this module binds them to a model and its run. Its hyperparameters and what the
fit did (`LatentFlow.hparams`) are kept in sampler.json's "fit" record ("hparams"), its weights in state.pt.
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
        self.fit_info = {"hparams": dict(self.flow.hparams), "steps": self.flow.hparams["fit_steps"]}

    def state(self) -> dict[str, torch.Tensor]:
        return self.flow.state()

    def load_state(self, state) -> None:
        self.flow = latent_flow.LatentFlow.from_state(state, self.fit_info.get("hparams", {}))

    def sample(self, n: int, generator: torch.Generator, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.flow.sample(n, generator)  # unconditional: a conditional model's class goes to its decoder
