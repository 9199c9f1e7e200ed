"""The flow model's hyperparameters and contract (torch-free): the measured defaults, what the CLI offers, refusals."""
from __future__ import annotations

import dataclasses

import pytest

from latentspace.config import validate_config
from latentspace.errors import LatentspaceError
from latentspace.models.flow_config import DEFAULT_SOLVER, DEFAULT_TIME_SAMPLING, SPEC, FlowConfig


def test_the_measured_defaults_and_the_contract():
    c = FlowConfig()
    assert (c.objective, c.width, c.attention) == ("flow", 16, False)
    # None: the objective's own
    assert c.solver is None and DEFAULT_SOLVER == {"flow": "heun", "ddpm": "ddim"}
    assert c.time_sampling is None and DEFAULT_TIME_SAMPLING == {"flow": "logit-normal", "ddpm": "uniform"}
    assert c.sample_steps == 6 and c.ema_decay == 0.999 and c.grad_clip == 1.0
    assert SPEC.encoder and SPEC.prior == "normal" and SPEC.objective == "fid" and SPEC.monitor is None
    assert SPEC.latent_field is None  # the latent is a noise image of the data's shape
    assert SPEC.figures == ("step_losses", "progress", "trajectory", "samples")
    assert set(SPEC.search_space) <= {f.name for f in dataclasses.fields(FlowConfig)}


@pytest.mark.parametrize("field, value, message", [
    ("sample_steps", 0, "--sample-steps must be at least 1, got 0"),
    ("objective", "score", "--objective must be one of flow, ddpm"),
    ("solver", "rk4", "--solver must be one of euler, heun, ddim"),
    ("width", 4, "--width must be at least 8"),
])
def test_bad_settings_are_refused_by_name(field, value, message):
    with pytest.raises(LatentspaceError, match=message):
        validate_config(FlowConfig(**{field: value}))


def test_train_flow_offers_every_field_as_a_flag():
    from latentspace.cli import build_parser

    parser = build_parser()
    args = parser.parse_args(["train", "flow", "--sample-steps", "4", "--solver", "heun", "--objective", "ddpm",
                              "--attention"])
    assert (args.sample_steps, args.solver, args.objective, args.attention) == (4, "heun", "ddpm", True)
