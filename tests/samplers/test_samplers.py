"""The sampler registry: which samplers can draw for which models, by their specs alone (torch-free)."""
from __future__ import annotations

import pytest

from latentspace.errors import LatentspaceError
from latentspace.models import get_spec
from latentspace.samplers import SAMPLERS, SamplerSpec, check_sampler, get_sampler_spec, samplers_for


def test_each_model_gets_the_samplers_its_latents_allow_its_default_first():
    assert samplers_for(get_spec("ae")) == ["gmm", "flow"]  # no prior of its own
    assert samplers_for(get_spec("vae")) == ["prior", "gmm", "flow"]
    assert samplers_for(get_spec("gan")) == ["prior"]  # no encoder: nothing to fit on
    assert check_sampler(get_spec("ae"), None) == "gmm" and check_sampler(get_spec("vae"), "flow") == "flow"


def test_a_sampler_that_cannot_draw_for_a_model_is_one_line_naming_the_ones_that_can():
    with pytest.raises(LatentspaceError, match=r"--sampler prior: .*no N\(0, I\) prior.*choose one of gmm, flow"):
        check_sampler(get_spec("ae"), "prior")
    with pytest.raises(LatentspaceError, match="--sampler gmm: .*no encoder.*choose one of prior"):
        check_sampler(get_spec("gan"), "gmm")
    with pytest.raises(LatentspaceError, match="unknown sampler 'pixelcnn'; choose one of prior, gmm, flow"):
        get_sampler_spec("pixelcnn")


def test_discrete_latents_take_only_discrete_samplers():
    import dataclasses

    grid = dataclasses.replace(get_spec("ae"), discrete=True)
    assert "gmm" not in samplers_for(grid) and "flow" not in samplers_for(grid)
    with pytest.raises(LatentspaceError, match="code indices"):
        check_sampler(grid, "gmm")
    ar = SamplerSpec("ar", "t", "s", "x:Y", latents="discrete")
    assert ar.refusal(grid) is None and ar.refusal(get_spec("ae")) is not None


def test_registered_samplers_load_their_classes_lazily():
    for name, spec in SAMPLERS.items():
        assert spec.sampler_class().name == name
    with pytest.raises(ValueError):
        SamplerSpec("x", "t", "s", "m:C", latents="pixels")


def test_a_spec_can_sample_exactly_when_some_sampler_can_draw_for_it():
    """One rule: `ModelSpec.can_sample` (its default sampler) agrees with the registry for every model, and the
    explorer's `can_sample` without training codes keeps only the samplers that need no fitting."""
    from latentspace.models import MODELS

    for spec in MODELS.values():
        assert spec.can_sample == bool(samplers_for(spec)), spec.kind
        assert spec.default_sampler in (samplers_for(spec) or [None]), spec.kind
    assert samplers_for(get_spec("vae"), codes=False) == ["prior"] and samplers_for(get_spec("ae"), codes=False) == []
