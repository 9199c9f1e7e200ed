"""The β sweep: its pure analyses, and a small sweep end to end (figure, table, reuse on re-run)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from latentspace.analysis.betasweep import (active_units, kl_per_dimension, top_k_dims, traversal_codes,
                                            traversal_values, traverse)
from latentspace.betasweep import BetaSweepConfig, parse_betas, run_beta_sweep
from latentspace.errors import LatentspaceError
from latentspace.models.vae import VAEConfig
from latentspace.train import TrainConfig

# ------------------------------------------------------------------ pure functions


def test_kl_per_dimension_is_the_mean_closed_form():
    mu = np.array([[1.0, 0.0], [-1.0, 0.0]])
    logvar = np.array([[0.0, np.log(4.0)], [0.0, np.log(4.0)]])
    np.testing.assert_allclose(kl_per_dimension(mu, logvar), [0.5, 0.5 * (4 - 1 - np.log(4))])
    with pytest.raises(ValueError):
        kl_per_dimension(np.zeros((2, 3)), np.zeros((2, 2)))


def test_active_units_counts_dimensions_above_the_threshold():
    kl = np.array([0.5, 0.0, 0.011, 0.009, 2.0])
    assert active_units(kl) == 3
    assert active_units(kl, threshold=1.0) == 1
    assert active_units(np.zeros(4)) == 0


def test_top_k_dims_orders_by_kl():
    kl = np.array([0.1, 3.0, 0.1, 2.0, 0.0])
    assert top_k_dims(kl, 2) == [1, 3]
    assert top_k_dims(kl, 4) == [1, 3, 0, 2]  # ties: lower index first
    assert top_k_dims(kl, 10) == [1, 3, 0, 2, 4]  # capped at the number of dimensions


def test_traversal_values_span_the_range():
    np.testing.assert_allclose(traversal_values(3.0, 7), [-3, -2, -1, 0, 1, 2, 3])
    assert len(traversal_values(2.0, 1)) == 1
    with pytest.raises(ValueError):
        traversal_values(3.0, 0)


def test_traversal_codes_vary_one_dimension_per_row():
    code = np.array([0.5, -1.0, 2.0, 0.0])
    values = np.array([-1.0, 0.0, 1.0])
    codes = traversal_codes(code, [2, 0], values)
    assert codes.shape == (2, 3, 4)
    np.testing.assert_allclose(codes[0, :, 2], values)
    np.testing.assert_allclose(codes[1, :, 0], values)
    np.testing.assert_allclose(codes[0][:, [0, 1, 3]], np.tile(code[[0, 1, 3]], (3, 1)))  # the rest kept
    np.testing.assert_allclose(codes[1][:, [1, 2, 3]], np.tile(code[[1, 2, 3]], (3, 1)))
    with pytest.raises(ValueError):
        traversal_codes(code, [4], values)


def test_traverse_decodes_every_code_in_place():
    def decode(codes):  # an "image" whose pixels all hold the code's dimension 1
        return np.repeat(codes[:, 1:2, None], 3, axis=1).repeat(2, axis=2)

    images = traverse(decode, np.zeros(3), [1, 0], np.array([-2.0, 5.0]))
    assert images.shape == (2, 2, 3, 2)
    assert np.all(images[0, 0] == -2) and np.all(images[0, 1] == 5)  # row 0 varies dimension 1
    assert np.all(images[1] == 0)  # row 1 varies dimension 0, which this decoder ignores


@pytest.mark.parametrize("text", ["", "a,b", "1,-1", "1,1", "nan"])
def test_parse_betas_rejects_bad_lists(text):
    with pytest.raises(LatentspaceError):
        parse_betas(text)


def test_parse_betas():
    assert parse_betas("1, 10,100") == [1.0, 10.0, 100.0]
    assert parse_betas("0.5") == [0.5]


# ------------------------------------------------------------------ a small sweep

SWEEP_ARGS = ["--betas", "1,50", "--latent-dim", "4", "--epochs", "1", "--limit-train", "256", "--batch-size", "128",
              "--top-k", "3", "--steps", "5", "--image", "3"]


@pytest.fixture(scope="module", autouse=True)
def first_test_images():
    """The first 1000 test images only: the per-β analysis (and each run's figures) stay quick."""
    from latentspace import data as D

    load_splits = D.load_splits

    def head_of_test(*args, **kwargs):
        splits = load_splits(*args, **kwargs)
        splits.test = splits.test.head(1000)
        return splits

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(D, "load_splits", head_of_test)
        yield


@pytest.fixture(scope="module")
def small_sweep(tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep") / "beta"
    result = run_beta_sweep(BetaSweepConfig(betas="1,50", top_k=3, steps=5, image=3), VAEConfig(latent_dim=4),
                            TrainConfig(epochs=1, limit_train=256, batch_size=128), out=out, progress=False)
    return out, result


def test_sweep_trains_one_vae_per_beta(small_sweep):
    out, result = small_sweep
    assert result["runs"] == {"1": "trained", "50": "trained"}
    for beta in (1.0, 50.0):
        cfg = json.loads((out / f"beta-{beta:g}" / "config.json").read_text())
        assert cfg["model"] == "vae" and cfg["model_config"]["beta"] == beta and cfg["seed"] == 0
        assert (out / f"beta-{beta:g}" / "summary.json").is_file()


def test_sweep_writes_figure_and_table(small_sweep):
    out, result = small_sweep
    assert (out / "traversals.png").stat().st_size > 10_000
    table = json.loads((out / "table.json").read_text())
    assert [r["beta"] for r in table["rows"]] == [1.0, 50.0]
    for r in table["rows"]:
        assert len(r["kl_per_dim"]) == 4 and len(r["top_dims"]) == 3
        assert r["total_kl"] == pytest.approx(sum(r["kl_per_dim"]))
        assert r["active_units"] == sum(k > 0.01 for k in r["kl_per_dim"])
        assert r["top_dims_kl"] == sorted(r["top_dims_kl"], reverse=True)
        assert 0 < r["test_mse"] < 0.3
    md = (out / "table.md").read_text().splitlines()
    assert len(md) == 4 and md[2].startswith("| 1 |") and md[3].startswith("| 50 |")


def test_rerun_reuses_finished_runs(small_sweep, capsys):
    from latentspace.cli import main

    out, _ = small_sweep
    ckpts = {b: (out / f"beta-{b}" / "checkpoints" / "last.ckpt").stat().st_mtime_ns for b in ("1", "50")}
    assert main(["beta-sweep", *SWEEP_ARGS, "--out", str(out), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "β=1: reused" in printed and "β=50: reused" in printed and "| 50 |" in printed
    assert ckpts == {b: (out / f"beta-{b}" / "checkpoints" / "last.ckpt").stat().st_mtime_ns for b in ("1", "50")}


def test_rerun_finishes_an_unfinished_run(small_sweep):
    out, _ = small_sweep
    (out / "beta-50" / "summary.json").unlink()  # as if stopped after its last checkpoint
    result = run_beta_sweep(BetaSweepConfig(betas="1,50", top_k=3, steps=5, image=3), VAEConfig(latent_dim=4),
                            TrainConfig(epochs=1, limit_train=256, batch_size=128), out=out, progress=False)
    assert result["runs"] == {"1": "reused", "50": "resumed"}
    assert (out / "beta-50" / "summary.json").is_file()


def test_rerun_with_other_settings_is_refused(small_sweep, capsys):
    from latentspace.cli import main

    out, _ = small_sweep
    assert main(["beta-sweep", *SWEEP_ARGS, "--lr", "0.01", "--out", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "other settings" in err


def test_sweep_rejects_an_image_outside_the_test_set(tmp_path, capsys):
    from latentspace.cli import main

    args = [a if a != "3" else "1000" for a in SWEEP_ARGS]
    assert main(["beta-sweep", *args, "--out", str(tmp_path / "s"), "--no-progress"]) == 2
    assert "--image must be below 1000" in capsys.readouterr().err
    assert not (tmp_path / "s").exists()
