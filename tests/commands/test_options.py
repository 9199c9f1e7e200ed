"""The commands' torch-free options: the β sweep's defaults and the choices the CLI offers."""
from __future__ import annotations

from latentspace.commands.beta_sweep import parse_betas
from latentspace.commands.options import GENERATE_MODES, SPLITS, BetaSweepConfig


def test_defaults_and_choices():
    c = BetaSweepConfig()
    assert parse_betas(c.betas) and c.top_k == 5 and c.steps >= 2
    assert GENERATE_MODES == ("traverse", "grid", "prior", "interpolate") and SPLITS == ("train", "val", "test")
