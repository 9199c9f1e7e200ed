"""The model registry: the built-in kinds, adding one, and finding a built model's spec."""
from __future__ import annotations

import pytest

from latentspace.errors import LatentspaceError
from latentspace.models import MODELS, get_spec, register, spec_of
from latentspace.models.spec import ModelSpec
from tests.fakes import FakeConfig, FakeGAN


def test_the_built_in_models():
    assert list(MODELS) == ["ae", "vae", "gan", "flow", "vqvae"]
    assert all(spec.kind == kind for kind, spec in MODELS.items())
    with pytest.raises(LatentspaceError, match="unknown model 'transformer'; choose one of ae, vae, gan, flow, vqvae"):
        get_spec("transformer")


def test_register_adds_a_kind_and_spec_of_finds_it(monkeypatch):
    import latentspace.models

    monkeypatch.setattr(latentspace.models, "MODELS", dict(MODELS))  # a copy: the real registry stays as it is
    spec = ModelSpec(kind="other", title="Other", summary="s", config_cls=FakeConfig, module=FakeGAN, encoder=False,
                     prior="normal")
    monkeypatch.setattr(FakeGAN, "kind", "other")
    assert register(spec) is spec and get_spec("other") is spec
    assert spec_of(FakeGAN()) is spec and "other" not in MODELS


PLUGIN_CONFIG = '''
from dataclasses import dataclass
from latentspace.config import option
from latentspace.models.spec import ModelSpec

@dataclass
class TinyConfig:
    latent_dim: int = option(3, "code size", minimum=1)
    optimizer: str = option("adam", "optimizer")
    lr: float = option(1e-2, "learning rate")
    weight_decay: float = option(0.0, "weight decay")

SPEC = ModelSpec(kind="tiny-plugin", title="Tiny plugin model", summary="a model from another package",
                 config_cls=TinyConfig, module="tinyplugin.model:Tiny", encoder=True, prior="normal",
                 figures=("loss",), loss_curves=(("train_loss", "val_loss"),))
'''

PLUGIN_MODEL = '''
import torch
import torch.nn.functional as F
from latentspace.models.base import LatentModel

class Tiny(LatentModel):
    kind = "tiny-plugin"

    def __init__(self, config, image_shape=(1, 28, 28), num_classes=0):
        super().__init__(config, image_shape, num_classes)
        size = image_shape[0] * image_shape[1] * image_shape[2]
        self.enc, self.dec = torch.nn.Linear(size, config.latent_dim), torch.nn.Linear(config.latent_dim, size)

    def encode(self, x, labels=None):
        return self.enc(x.flatten(1))

    def decode(self, z, labels=None):
        return torch.sigmoid(self.dec(z)).view(-1, *self.image_shape)

    def training_step(self, batch, batch_idx):
        loss = F.mse_loss(self.decode(self.encode(batch[0])), batch[0])
        self.log("train_loss", loss, on_step=False, on_epoch=True, batch_size=len(batch[0]))
        return loss

    def validation_step(self, batch, batch_idx):
        self.log("val_loss", F.mse_loss(self.decode(self.encode(batch[0])), batch[0]), batch_size=len(batch[0]))
'''


@pytest.mark.integration
def test_a_model_installed_from_another_package_registers_and_every_command_opens_its_runs(tmp_path):
    """A package installed beside latentspace (its files and a dist-info with the entry point, as pip leaves
    them) adds its kind: train, generate, evaluate and embed work on its runs in fresh processes."""
    import json
    import os
    import subprocess
    import sys

    site = tmp_path / "site"
    (site / "tinyplugin").mkdir(parents=True)
    (site / "tinyplugin" / "__init__.py").write_text(PLUGIN_CONFIG)
    (site / "tinyplugin" / "model.py").write_text(PLUGIN_MODEL)
    info = site / "tinyplugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: tinyplugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[latentspace.models]\ntiny-plugin = tinyplugin:SPEC\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    run = tmp_path / "run"

    def cli(*argv):
        p = subprocess.run([sys.executable, "-m", "latentspace.cli", *argv], capture_output=True, text=True,
                           env=env, timeout=300)
        assert p.returncode == 0, p.stderr
        return p.stdout

    assert "tiny-plugin" in cli("train", "--help")
    cli("train", "tiny-plugin", "--epochs", "1", "--limit-train", "256", "--out", str(run), "--no-progress")
    cli("generate", str(run), "--mode", "prior", "--n", "4", "--out", str(tmp_path / "s.npy"))
    cli("embed", str(run), "--method", "pca", "--n", "50")
    metrics = json.loads(cli("evaluate", str(run), "--n", "100", "--json"))
    assert {"test_mse", "fid"} <= set(metrics)
    # without the package, its runs are refused in one line that says why
    p = subprocess.run([sys.executable, "-m", "latentspace.cli", "evaluate", str(run)], capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 2 and "unknown model kind 'tiny-plugin'" in p.stderr and "entry points" in p.stderr


def test_a_broken_plugin_is_skipped_with_a_warning(monkeypatch):
    import importlib.metadata

    import latentspace.models

    class _EP:
        name, value = "broken", "nowhere:SPEC"

        def load(self):
            raise ImportError("no module named nowhere")

    monkeypatch.setattr(importlib.metadata, "entry_points", lambda group: [_EP()])
    with pytest.warns(UserWarning, match="model plugin 'broken'"):
        assert latentspace.models.register_plugins() == []
