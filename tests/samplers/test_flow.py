"""The learned flow prior as a sampler: fitted on a model's codes, drawn in its latent shape, saved and reloaded."""
from __future__ import annotations

import torch

from latentspace.samplers.flow import FlowPrior
from tests.fakes import FakeVAE, fake_test_set


def test_it_fits_draws_and_round_trips(fake_models, tmp_path):
    model = FakeVAE()
    s = FlowPrior(model).fit(fake_test_set(200), minutes=0.02)
    z = s.sample(6, torch.Generator().manual_seed(0))
    assert z.shape == (6, 5) and torch.isfinite(z).all()
    assert s.fit_info["n_codes"] == 200 and s.fit_info["minutes"] == 0.02
    s.save(tmp_path)
    again = FlowPrior.load(tmp_path, model)
    assert torch.allclose(again.sample(6, torch.Generator().manual_seed(0)), z)
