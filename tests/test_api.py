"""The Python API's functions, and docs/api.md, whose code is run here as written."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import latentspace as ls
from latentspace.errors import LatentspaceError

DOC = Path(__file__).resolve().parents[1] / "docs" / "api.md"


def test_unknown_training_options_are_one_clear_error():
    with pytest.raises(LatentspaceError, match="unknown option.*lattent_dim for ae; model options: .*latent_dim"):
        ls.train("ae", lattent_dim=2)


@pytest.mark.integration
def test_the_api_page_runs_as_written(tmp_path):
    code = "\n".join(re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S))
    assert "ls.train(" in code and "ls.sample(" in code and "ls.evaluate(" in code
    p = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=900)
    assert p.returncode == 0, p.stderr[-3000:]
    lines = p.stdout.splitlines()
    assert lines[0] == "['ae', 'vae', 'gan', 'flow', 'vqvae']" and lines[1] == "['fashion-mnist', 'mnist', 'kmnist', 'cifar10', 'svhn']"
    assert lines[2].startswith("54000 6000 10000")
    assert "torch.Size([8, 2]) torch.Size([8, 1, 28, 28]) VAE (latent 2, β=1)" in p.stdout
    assert "True normal True ('loss', 'reconstructions', 'kl_per_dim')" in p.stdout
    assert "(500, 2)" in p.stdout and "the model's prior" in p.stdout
    assert (tmp_path / "runs" / "api-vae" / "evaluation.json").is_file()


@pytest.mark.integration
def test_sample_takes_a_model_or_its_run_directory(tiny_ae_run):
    model = ls.load_run(tiny_ae_run.path)
    assert model.run.path == tiny_ae_run.path and not model.training
    a, b = ls.sample(model, 6, seed=2), ls.sample(tiny_ae_run.path, 6, seed=2)
    assert a.shape == (6, 28, 28) and a.dtype == np.uint8 and np.array_equal(a, b)


def test_train_takes_the_fast_recipe_by_default_and_the_studys_by_name(monkeypatch):
    import latentspace as ls
    import latentspace.training.trainer as trainer

    seen = []
    monkeypatch.setattr(trainer, "fit", lambda kind, m, t, **kw: seen.append((m, t)))
    ls.train("ae")
    ls.train("ae", recipe="study", epochs=2)  # an explicit option wins over the recipe
    (fast, fast_train), (study, study_train) = seen
    assert (fast.lr, fast.schedule, fast_train.epochs, fast_train.batch_size) == (8e-3, "onecycle", 2, 96)
    assert (study.lr, study.schedule, study.beta2, study_train.epochs, study_train.batch_size) == \
        (1e-3, "constant", 0.999, 2, 256)
    with pytest.raises(LatentspaceError, match="unknown recipe"):
        ls.train("ae", recipe="slow")


def test_evaluate_sends_a_samplers_settings_to_the_sampler_and_the_rest_to_the_model(monkeypatch):
    from latentspace.commands import evaluate as E

    seen = {}
    monkeypatch.setattr(E, "evaluate_run", lambda path, **kw: seen.update(kw) or {})
    ls.evaluate("RUN", n=10, sampler="autoregressive", temperature=0.8, sample_steps=4)
    assert seen["settings"] == {"temperature": 0.8} and seen["sampling"] == {"sample_steps": 4}
    assert seen["sampler"] == "autoregressive" and seen["n"] == 10
