"""The flow prior's network: fitted on codes within a budget, seeded, rebuilt from its state."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from latentspace.errors import LatentspaceError
from latentspace.samplers import latent_flow


def test_it_fits_a_bimodal_set_and_rebuilds_from_its_state():
    rng = np.random.default_rng(0)
    codes = np.concatenate([rng.normal(-3, 0.3, (500, 2)), rng.normal(3, 0.3, (500, 2))]).astype(np.float32)
    flow = latent_flow.fit(codes, minutes=0.1)
    z = flow.sample(2000, torch.Generator().manual_seed(0)).numpy()
    assert (np.abs(z[:, 0]) > 1.5).mean() > 0.8  # mass where the codes are, little between the modes
    again = latent_flow.LatentFlow.from_state(flow.state())
    assert torch.equal(again.sample(5, torch.Generator().manual_seed(1)), flow.sample(5, torch.Generator().manual_seed(1)))


def test_bad_codes_are_refused():
    with pytest.raises(LatentspaceError):
        latent_flow.fit(np.full((10, 2), np.nan, np.float32), minutes=0.01)
    with pytest.raises(LatentspaceError):
        latent_flow.fit(np.zeros((10, 2), np.float32), minutes=0)
