"""A sampler's files: options and fit in sampler.json, its state as tensors; never code from a file."""
from __future__ import annotations

import json
import pickle

import pytest
import torch

from latentspace.errors import LatentspaceError
from latentspace.samplers.base import META_FILE, STATE_FILE, read_meta
from latentspace.samplers.gmm import GaussianMixtureSampler
from tests.fakes import FakeVAE, fake_test_set


@pytest.fixture
def saved(fake_models, tmp_path):
    model = FakeVAE()
    s = GaussianMixtureSampler(model, n_components=3).fit(fake_test_set(120))
    s.save(tmp_path, checkpoint_sha256="abc")
    return model, s, tmp_path


def test_it_saves_and_loads_the_same_sampler(saved):
    model, s, d = saved
    meta = read_meta(d)
    assert meta["sampler"] == "gmm" and meta["options"] == {"n_components": 3} and meta["checkpoint_sha256"] == "abc"
    assert meta["fit"]["n_codes"] == 120 and set(torch.load(d / STATE_FILE, weights_only=True)) == {"weights", "means",
                                                                                                      "chol"}
    loaded = GaussianMixtureSampler.load(d, model)
    g = lambda: torch.Generator().manual_seed(4)  # noqa: E731
    assert torch.equal(loaded.sample(9, g()), s.sample(9, g()))


class _Payload:
    """Unpickling this would create a file: what a tampered sampler file could do if it were unpickled."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_a_tampered_state_file_is_refused_in_one_line_and_runs_nothing(saved, tmp_path_factory):
    model, _, d = saved
    marker = tmp_path_factory.mktemp("m") / "ran"
    (d / STATE_FILE).write_bytes(pickle.dumps({"weights": _Payload(marker)}))
    with pytest.raises(LatentspaceError, match="not the file this sampler was saved with") as e:
        GaussianMixtureSampler.load(d, model)
    assert "\n" not in str(e.value)
    meta = json.loads((d / META_FILE).read_text())  # the record made to match: weights_only still refuses it
    from latentspace.io import file_hash

    meta["state_sha256"] = file_hash(d / STATE_FILE)
    (d / META_FILE).write_text(json.dumps(meta))
    with pytest.raises(LatentspaceError, match="cannot load sampler state"):
        GaussianMixtureSampler.load(d, model)
    assert not marker.exists()


def test_a_damaged_record_is_one_line(saved):
    model, _, d = saved
    (d / META_FILE).write_text("{nope")
    with pytest.raises(LatentspaceError, match="unreadable sampler record"):
        GaussianMixtureSampler.load(d, model)
    (d / META_FILE).write_text(json.dumps(["a", "list"]))
    with pytest.raises(LatentspaceError, match="not a sampler record"):
        GaussianMixtureSampler.load(d, model)
