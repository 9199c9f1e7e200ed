"""The prior sampler draws the model's own N(0, I) latents, seeded."""
from __future__ import annotations

import torch

from latentspace.samplers.prior import PriorSampler
from tests.fakes import FakeGAN


def test_it_draws_the_models_prior(fake_models):
    model = FakeGAN()
    z = PriorSampler(model).sample(5, torch.Generator().manual_seed(3))
    assert torch.equal(z, model.prior_latents(5, torch.Generator().manual_seed(3)))
    assert PriorSampler(model).description == "the model's prior"
