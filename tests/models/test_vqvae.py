"""The VQ-VAE and FSQ: code grids from the data's shape, indices in range, decode(encode(x)), code vectors, the
codebook use it logs, and a tiny training run through its figures, its prior and every command that samples."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from latentspace.errors import LatentspaceError
from latentspace.models import get_spec
from latentspace.models.vqvae import VQVAE, code_use
from latentspace.models.vqvae_config import VQVAEConfig

GRIDS = {16: (8, 8), 28: (7, 7), 32: (8, 8), 64: (8, 8)}  # the code grid at each image size


@pytest.mark.parametrize("quantizer", ["vq", "fsq"])
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("size", sorted(GRIDS))
def test_code_grids_indices_and_reconstructions_of_every_shape(quantizer, channels, size):
    config = VQVAEConfig(quantizer=quantizer, codebook_size=64, levels="5,4,3")
    model = get_spec("vqvae").build(config, (channels, size, size)).eval()
    x = torch.rand(3, channels, size, size)
    z = model.encode(x)
    assert z.shape == (3, *GRIDS[size]) == (3, *model.latent_shape) and z.dtype == torch.long
    assert model.codebook_size == (64 if quantizer == "vq" else 60)
    assert 0 <= int(z.min()) and int(z.max()) < model.codebook_size
    y = model.decode(z).detach()
    assert y.shape == x.shape and 0 <= float(y.min()) and float(y.max()) <= 1
    d = model.code_dim
    assert model.latent_vectors(z).shape == (3, d) and model.codebook_vectors().shape == (model.codebook_size, d)
    assert model.latent_dim == GRIDS[size][0] * GRIDS[size][1]


def test_the_nearest_code_is_the_librarys_and_a_grid_decodes_its_codes():
    torch.manual_seed(0)
    model = VQVAE(VQVAEConfig(codebook_size=32)).eval()
    x = torch.rand(6, 1, 28, 28)
    features = model.encoder(x)
    with torch.no_grad():
        _, library, _ = model.quantizer(features)
    assert torch.equal(model.encode(x), library.long())
    # the mean code vector is the mean of the grid's codebook vectors
    z = model.encode(x)
    expected = model.codebook_vectors()[z].mean(dim=(1, 2))
    assert torch.allclose(model.latent_vectors(z), expected, atol=1e-6)


def test_bad_grids_are_refused_in_one_line():
    model = VQVAE(VQVAEConfig(codebook_size=16)).eval()
    with pytest.raises(LatentspaceError, match="0..15"):
        model.decode(torch.full((1, 7, 7), 16))
    with pytest.raises(LatentspaceError, match="7 x 7 grid"):
        model.decode(torch.zeros(1, 8, 8, dtype=torch.long))
    with pytest.raises(LatentspaceError, match="no prior of its own"):
        model.prior_latents(2)


def test_code_use_is_the_perplexity_and_the_share_used():
    assert code_use(torch.tensor([5, 5, 5, 5])) == pytest.approx((4.0, 1.0))
    assert code_use(torch.tensor([10, 0, 0, 0])) == pytest.approx((1.0, 0.25))
    assert code_use(torch.zeros(4)) == (0.0, 0.0)


def test_continuous_models_have_no_codebook():
    from latentspace.models.autoencoder import Autoencoder
    from latentspace.models.autoencoder_config import AEConfig

    model = Autoencoder(AEConfig())
    assert model.codebook_size is None and model.codebook_vectors() is None


# ---------------------------------------------------------------- a tiny run, end to end


def test_a_tiny_run_logs_its_codebook_use_and_draws_its_figures(tiny_vqvae_run):
    from latentspace.figures.plots import read_metrics
    from latentspace.io import read_json
    from tests.pixels import assert_shows_something

    metrics = read_metrics(tiny_vqvae_run.metrics_file)
    for column in ("train_code_perplexity", "val_code_perplexity", "train_codes_used", "val_codes_used",
                   "train_recon", "val_recon"):
        assert np.isfinite(metrics[column]).all(), column
    assert 1 <= metrics["val_code_perplexity"][-1] <= 64 and 0 < metrics["val_codes_used"][-1] <= 1
    codebook = read_json(tiny_vqvae_run.path / "codebook.json")
    assert codebook["codebook_size"] == 64 and sum(codebook["test_counts"]) == 10000 * 49
    assert codebook["test_codes_used"] == pytest.approx(np.mean(np.array(codebook["test_counts"]) > 0), abs=1e-4)
    summary = tiny_vqvae_run.summary()
    for name in ("loss", "reconstructions", "codebook", "code_grids", "code_swap"):
        assert f"figures/{name}.png" in summary["figures"]
        assert_shows_something(tiny_vqvae_run.path / "figures" / f"{name}.png")


def _codes_in_use_after_steps(threshold: float) -> int:
    torch.manual_seed(0)
    model = VQVAE(VQVAEConfig(codebook_size=32, dead_code_threshold=threshold)).train()
    x = torch.rand(16, 1, 28, 28)
    with torch.no_grad():
        for _ in range(4):
            _, indices, _ = model.quantize(x)
    return len(indices.unique())


def test_dead_codes_are_replaced_so_more_of_the_codebook_is_in_use():
    # measured: 32 of 32 codes in use after 4 steps with replacement, 23 without
    assert _codes_in_use_after_steps(2.0) > _codes_in_use_after_steps(0.0)


@pytest.mark.integration
def test_the_command_line_trains_an_fsq_model_on_its_levels(tmp_path, capsys):
    from latentspace.io import read_json
    from tests.cli import run_cli

    out = tmp_path / "fsq"
    code, _, err = run_cli(capsys, "train", "vqvae", "--quantizer", "fsq", "--levels", "4,3", "--epochs", "1",
                           "--limit-train", "256", "--batch-size", "64", "--no-progress", "--out", out)
    assert code == 0, err
    config = read_json(out / "config.json")
    assert config["model_config"]["quantizer"] == "fsq" and config["model_config"]["levels"] == "4,3"
    assert read_json(out / "codebook.json")["codebook_size"] == 12
    code, _, err = run_cli(capsys, "train", "vqvae", "--levels", "4,2", "--out", tmp_path / "bad")
    assert code == 2 and "at least 3" in err
