"""`latentspace fit-prior`: a learned prior fitted on a run's codes, kept in the run, drawn by name everywhere."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from latentspace.cli import main
from latentspace.commands.fit_prior import fit_prior
from latentspace.errors import LatentspaceError
from tests.cli import run_cli


@pytest.fixture
def run_dir(tiny_ae_run, tmp_path):
    return shutil.copytree(tiny_ae_run.path, tmp_path / "ae", ignore=shutil.ignore_patterns("samplers"))


def test_fit_prior_keeps_the_flow_and_every_command_draws_from_it(run_dir, tmp_path, capsys):
    assert main(["fit-prior", str(run_dir), "--minutes", "0.02"]) == 0
    out = capsys.readouterr()
    assert "fitted on 512 training codes" in out.out and (run_dir / "samplers" / "flow" / "sampler.json").is_file()
    a, b = tmp_path / "a.npy", tmp_path / "b.npy"
    assert main(["generate", str(run_dir), "--mode", "prior", "--sampler", "flow", "--n", "6", "--out", str(a)]) == 0
    assert main(["generate", str(run_dir), "--mode", "prior", "--sampler", "flow", "--n", "6", "--out", str(b)]) == 0
    assert np.array_equal(np.load(a), np.load(b))  # the kept prior, not a new fit
    gmm = tmp_path / "gmm.npy"
    assert main(["generate", str(run_dir), "--mode", "prior", "--n", "6", "--out", str(gmm)]) == 0
    assert not np.array_equal(np.load(a), np.load(gmm))
    import latentspace as ls

    assert np.array_equal(ls.sample(str(run_dir), 6, seed=0, sampler="flow"), np.load(a))


def test_bad_requests_are_one_line(run_dir, fake_models, tmp_path, capsys):
    from tests.fakes import FakeGAN, fake_run

    code, _, err = run_cli(capsys, "fit-prior", run_dir, "--minutes", "-1")
    assert code == 2 and "--minutes must be" in err and err.count("\n") == 1
    assert main(["fit-prior", str(fake_run(tmp_path / "gan", FakeGAN))]) == 2
    assert "needs an encoder" in capsys.readouterr().err
    with pytest.raises(LatentspaceError, match="nothing to fit"):
        fit_prior(run_dir, "prior")
    assert main(["generate", str(run_dir), "--mode", "traverse", "--sampler", "flow"]) == 2
    assert "samplers draw for --mode prior" in capsys.readouterr().err


@pytest.fixture
def vq_dir(tiny_vqvae_run, tmp_path):
    return shutil.copytree(tiny_vqvae_run.path, tmp_path / "vq", ignore=shutil.ignore_patterns("samplers"))


def test_a_vq_run_gets_its_autoregressive_prior_and_every_command_draws_from_it(vq_dir, tmp_path, capsys):
    import latentspace as ls
    from latentspace.commands.evaluate import evaluate_run

    assert main(["fit-prior", str(vq_dir), "--minutes", "0.02"]) == 0  # the model's own learned prior by default
    out = capsys.readouterr()
    assert "autoregressive prior: fitted" in out.err and "--sampler autoregressive" in out.out
    assert (vq_dir / "samplers" / "autoregressive" / "sampler.json").is_file()
    a, b, cold = tmp_path / "a.npy", tmp_path / "b.npy", tmp_path / "cold.npy"
    for path in (a, b):
        assert main(["generate", str(vq_dir), "--mode", "prior", "--n", "8", "--out", str(path)]) == 0
    assert "fitting" not in capsys.readouterr().err  # the kept prior, not a new fit
    assert np.array_equal(np.load(a), np.load(b)) and np.load(a).shape == (8, 28, 28)
    assert main(["generate", str(vq_dir), "--mode", "prior", "--n", "8", "--temperature", "0.05", "--out",
                 str(cold)]) == 0
    assert not np.array_equal(np.load(a), np.load(cold))
    assert np.array_equal(ls.sample(str(vq_dir), 8, seed=0), np.load(a))
    assert np.array_equal(ls.sample(str(vq_dir), 8, seed=0, temperature=0.05), np.load(cold))
    results = evaluate_run(vq_dir, n=200, floor=False, settings={"temperature": 0.5})
    assert results["test_mse"] > 0 and results["fid@temperature=0.5"] > 0
    assert "temperature 0.5" in results["sampler@temperature=0.5"]


def test_a_class_conditional_prior_draws_the_class_asked_for(vq_dir, tmp_path, capsys):
    assert main(["generate", str(vq_dir), "--mode", "prior", "--class", "Trouser"]) == 2  # fitted on demand...
    assert "--class" in capsys.readouterr().err  # ...unconditional: no class to draw
    assert main(["fit-prior", str(vq_dir), "--minutes", "0.02", "--conditional"]) == 0
    from latentspace.commands.generate import generate_run

    result = generate_run(vq_dir, "prior", n=6, label="Trouser")
    assert result["labels"].tolist() == [1] * 6 and "of class Trouser" in result["title"]
    assert "class-conditional" in result["title"]


def test_refusals_on_a_vq_run_are_one_line(vq_dir, run_dir, capsys):
    assert main(["generate", str(vq_dir), "--mode", "prior", "--sampler", "gmm"]) == 2
    assert "draws real-valued codes" in capsys.readouterr().err
    assert main(["fit-prior", str(vq_dir), "--kind", "flow"]) == 2
    assert "code indices" in capsys.readouterr().err
    assert main(["generate", str(run_dir), "--mode", "prior", "--temperature", "0.5"]) == 2
    err = capsys.readouterr().err
    assert "--temperature: the Gaussian mixture (gmm) has no such setting" in err and "fitting" not in err
    assert main(["fit-prior", str(run_dir), "--conditional", "--minutes", "0.01"]) == 2
    assert "no such fit option" in capsys.readouterr().err
    assert main(["generate", str(vq_dir), "--mode", "traverse"]) == 2
    assert "grid of code indices" in capsys.readouterr().err
    assert main(["generate", str(vq_dir), "--mode", "interpolate", "--temperature", "2"]) == 2
    assert "sampling settings are for --mode prior" in capsys.readouterr().err
