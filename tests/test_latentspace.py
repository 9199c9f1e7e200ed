"""`import latentspace as ls`: a small, documented surface, imported lazily."""
from __future__ import annotations

from pathlib import Path

import pytest

import latentspace as ls

DOC = Path(__file__).resolve().parents[1] / "docs" / "api.md"


def test_the_surface_is_small_and_documented():
    assert sorted(ls.__all__) == ["datasets", "embed", "evaluate", "load_run", "sample", "train"]
    for name in ls.__all__:
        assert getattr(ls, name).__doc__, name
    assert list(ls.models.MODELS) == ["ae", "vae", "gan", "flow", "vqvae"] and ls.datasets.names()[0] == "fashion-mnist"
    with pytest.raises(AttributeError):
        ls.not_a_function  # noqa: B018
