"""The model contract as data: what a spec may declare, and what it derives."""
from __future__ import annotations

import pytest

from latentspace.models.spec import FIGURE_NAMES, ModelSpec
from tests.fakes import FakeConfig, FakeVAE


def spec(**kw) -> ModelSpec:
    return ModelSpec(**{"kind": "k", "title": "K", "summary": "s", "config_cls": FakeConfig, "module": FakeVAE,
                        "encoder": True, "prior": None, **kw})


def test_capabilities_and_building(fake_models):
    assert spec().can_sample and spec(encoder=False, prior="normal").can_sample
    assert not spec(encoder=False, prior=None).can_sample
    assert spec().model_class() is FakeVAE and spec().run_name(FakeConfig(latent_dim=7)) == "k-z7"
    assert spec(latent_field=None).run_name(FakeConfig()) == "k"
    assert spec().default_sampler == "gmm" and spec(prior="normal").default_sampler == "prior"
    assert spec(prior="learned", prior_sampler="flow").default_sampler == "flow"
    assert spec(encoder=False).default_sampler is None
    lazy = spec(module="tests.fakes:FakeGAN")  # named by import path, imported when built
    assert lazy.model_class().__name__ == "FakeGAN"
    assert isinstance(spec().build(FakeConfig(4)), FakeVAE)


@pytest.mark.parametrize("bad, message", [
    ({"figures": ("loss", "histogram")}, "unknown figures"),
    ({"objective": "accuracy"}, "objective must be one of"),
    ({"prior": "laplace"}, "prior one of"),
    ({"encoder": False, "gaussian_posterior": True}, "needs an encoder"),
    ({"prior": "learned"}, "names its sampler"),
    ({"prior_sampler": "flow"}, "names its sampler"),
    ({"sampling_options": ("steps",)}, "not fields of"),
    ({"encoder": False, "prior": "normal", "invertible": True}, "describe an encoder"),
    ({"encoder": False, "prior": "normal", "encode_limit": 100}, "describe an encoder"),
    ({"encode_limit": 1}, "at least 2"),
])
def test_a_spec_that_cannot_hold_is_refused(bad, message):
    with pytest.raises(ValueError, match=message):
        spec(**bad)


def test_figure_names_are_the_training_layers():
    from latentspace.training.figures import FIGURES

    assert set(FIGURES) == set(FIGURE_NAMES)
