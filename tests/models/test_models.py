"""The model registry: the built-in kinds, adding one, and finding a built model's spec."""
from __future__ import annotations

import pytest

from latentspace.errors import LatentspaceError
from latentspace.models import MODELS, get_spec, register, spec_of
from latentspace.models.spec import ModelSpec
from tests.fakes import FakeConfig, FakeGAN


def test_the_built_in_models():
    assert list(MODELS) == ["ae", "vae", "gan", "flow"]
    assert all(spec.kind == kind for kind, spec in MODELS.items())
    with pytest.raises(LatentspaceError, match="unknown model 'transformer'; choose one of ae, vae, gan, flow"):
        get_spec("transformer")


def test_register_adds_a_kind_and_spec_of_finds_it(monkeypatch):
    import latentspace.models

    monkeypatch.setattr(latentspace.models, "MODELS", dict(MODELS))  # a copy: the real registry stays as it is
    spec = ModelSpec(kind="other", title="Other", summary="s", config_cls=FakeConfig, module=FakeGAN, encoder=False,
                     prior="normal")
    monkeypatch.setattr(FakeGAN, "kind", "other")
    assert register(spec) is spec and get_spec("other") is spec
    assert spec_of(FakeGAN()) is spec and "other" not in MODELS
