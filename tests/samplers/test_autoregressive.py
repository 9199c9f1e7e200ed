"""The autoregressive prior over code grids: it learns a toy grid distribution that chance cannot match, its
temperature sets the diversity, a conditional one draws the class asked for, sampling is seed-deterministic,
its state round-trips through tensors + JSON (weights_only), and bad input is refused in one line."""
from __future__ import annotations

import io
import json

import numpy as np
import pytest
import torch

from latentspace.errors import LatentspaceError
from latentspace.samplers import autoregressive as ar

K = 8
PATTERNS = np.random.default_rng(0).integers(0, K, size=(4, 3, 3))  # four 3 x 3 grids of codes 0..7
TINY = {"width": 32, "depth": 2, "heads": 2, "batch_size": 32, "lr": 1e-2, "warmup_steps": 10, "dropout": 0.0}


def toy_grids(n: int = 1200, noise: float = 0.1, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """n grids, each one of the four patterns (its class) with a share `noise` of cells set to random codes."""
    g = np.random.default_rng(seed)
    classes = g.integers(0, 4, size=n)
    grids = PATTERNS[classes].copy()
    flip = g.random(grids.shape) < noise
    grids[flip] = g.integers(0, K, size=int(flip.sum()))
    return grids, classes


def share_of_patterns(grids: torch.Tensor) -> float:
    """Share of grids equal to one of the four patterns: 0.73 (= 0.9^9) for the data, ~1e-8 by chance."""
    g = grids.numpy()[:, None]
    return float((g == PATTERNS[None]).all(axis=(2, 3)).any(axis=1).mean())


@pytest.fixture(scope="module")
def toy_prior():
    return ar.fit(toy_grids()[0], K, steps=200, **TINY)


@pytest.fixture(scope="module")
def conditional_prior():
    grids, classes = toy_grids()
    return ar.fit(grids, K, labels=classes, steps=200, **TINY)


def test_it_learns_the_toy_distribution(toy_prior):
    grids = toy_prior.sample(400, torch.Generator().manual_seed(0))
    assert grids.shape == (400, 3, 3) and grids.dtype == torch.long
    assert share_of_patterns(grids) > 0.25  # measured 0.44 after 150 steps; an unfitted prior draws none
    untrained = ar.fit(toy_grids()[0], K, steps=1, **TINY)
    assert share_of_patterns(untrained.sample(400, torch.Generator().manual_seed(0))) < 0.05
    assert toy_prior.nll(toy_grids(300, seed=5)[0]) < untrained.nll(toy_grids(300, seed=5)[0]) - 1.0


def test_temperature_sets_the_diversity(toy_prior):
    def distinct(t: float) -> int:
        grids = toy_prior.sample(300, torch.Generator().manual_seed(1), temperature=t)
        return len({tuple(g.reshape(-1).tolist()) for g in grids})

    cold, plain, hot = distinct(0.3), distinct(1.0), distinct(3.0)
    assert cold < plain < hot
    with pytest.raises(LatentspaceError, match="temperature"):
        toy_prior.sample(2, torch.Generator(), temperature=0.0)


def test_a_conditional_prior_draws_the_class_asked_for(conditional_prior):
    for c in range(4):
        grids = conditional_prior.sample(100, torch.Generator().manual_seed(c), torch.full((100,), c))
        exact = (grids.numpy() == PATTERNS[c]).all(axis=(1, 2)).mean()
        assert exact > 0.25, (c, exact)  # its own pattern (0.40-0.46 after 150 steps); by chance ~1e-8
    with pytest.raises(LatentspaceError, match="class-conditional"):
        conditional_prior.sample(3, torch.Generator())
    with pytest.raises(LatentspaceError, match="0..3"):
        conditional_prior.sample(2, torch.Generator(), torch.tensor([0, 4]))


def test_sampling_is_deterministic_and_independent_of_the_chunk(toy_prior, monkeypatch):
    a = toy_prior.sample(50, torch.Generator().manual_seed(7))
    assert torch.equal(a, toy_prior.sample(50, torch.Generator().manual_seed(7)))
    assert not torch.equal(a, toy_prior.sample(50, torch.Generator().manual_seed(8)))
    monkeypatch.setattr(ar, "SAMPLE_CHUNK", 7)  # all uniforms are drawn first: chunks only split the work
    assert torch.equal(a, toy_prior.sample(50, torch.Generator().manual_seed(7)))


def test_a_fit_is_deterministic_for_a_seed_and_steps():
    grids = toy_grids(200)[0]
    a, b = (ar.fit(grids, K, steps=15, seed=2, **TINY).state() for _ in range(2))
    c = ar.fit(grids, K, steps=15, seed=3, **TINY).state()
    assert all(torch.equal(a[k], b[k]) for k in a) and not all(torch.equal(a[k], c[k]) for k in a)


def test_a_budgeted_fit_stops_in_time_and_records_its_plan():
    lines = []
    prior = ar.fit(toy_grids(200)[0], K, minutes=0.003, log=lines.append, **TINY)
    hp = prior.hparams
    assert hp["fit_steps"] >= 1 and hp["fit_seconds"] < 10 and hp["minutes"] == 0.003
    assert hp["grid"] == [3, 3] and hp["codebook_size"] == K and hp["num_classes"] == 0
    assert any("fitted in" in line for line in lines)


def test_the_state_round_trips_through_tensors_and_json(conditional_prior):
    buffer = io.BytesIO()
    torch.save(conditional_prior.state(), buffer)
    buffer.seek(0)
    rebuilt = ar.GridPrior.from_state(torch.load(buffer, weights_only=True),
                                      json.loads(json.dumps(conditional_prior.hparams)))
    labels = torch.arange(20) % 4
    assert torch.equal(conditional_prior.sample(20, torch.Generator().manual_seed(3), labels),
                       rebuilt.sample(20, torch.Generator().manual_seed(3), labels))
    with pytest.raises(LatentspaceError, match="does not fit"):
        ar.GridPrior.from_state(conditional_prior.state(), {**conditional_prior.hparams, "width": 64})
    with pytest.raises(LatentspaceError, match="does not fit"):
        ar.GridPrior.from_state(conditional_prior.state(), {**conditional_prior.hparams, "num_classes": 0})


@pytest.mark.parametrize("grids, match", [
    (np.zeros((10, 9)), "N x h x w"), (np.zeros((1, 3, 3), np.int64), "N x h x w"),
    (np.full((4, 3, 3), 0.5), "integer"), (np.full((4, 3, 3), K), "0..7"),
])
def test_bad_grids_are_refused(grids, match):
    with pytest.raises(LatentspaceError, match=match):
        ar.fit(grids, K, steps=1)


@pytest.mark.parametrize("options, match", [({"width": 30, "heads": 4}, "multiple"), ({"depth": 0}, "depth"),
                                            ({"lr": 0.0}, "lr"), ({"dropout": 1.0}, "dropout"),
                                            ({"colour": 1}, "unknown")])
def test_bad_options_are_refused(options, match):
    with pytest.raises(LatentspaceError, match=match):
        ar.fit(toy_grids(10)[0], K, steps=1, **options)


def test_a_conditional_fit_needs_classes():
    grids = toy_grids(10)[0]
    with pytest.raises(LatentspaceError, match="at least two classes"):
        ar.fit(grids, K, labels=np.zeros(10, np.int64), steps=1)
    with pytest.raises(LatentspaceError, match="one class index"):
        ar.fit(grids, K, labels=np.zeros(3, np.int64), steps=1)
