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
