"""The study's autoencoder: shapes, protocol, optimizer and init choices."""
from __future__ import annotations

import pytest
import torch

from latentspace.config import validate_config
from latentspace.errors import LatentspaceError
from latentspace.models import MODELS
from latentspace.models.autoencoder import Autoencoder
from latentspace.models.autoencoder_config import AEConfig


@pytest.mark.parametrize("latent_dim", [1, 2, 20, 64])
@pytest.mark.parametrize("width", [0.5, 1.0, 2.0])
def test_shapes_for_several_latent_sizes(latent_dim, width):
    model = Autoencoder(AEConfig(latent_dim=latent_dim, width=width)).eval()
    x = torch.rand(5, 1, 28, 28)
    z = model.encode(x)
    assert z.shape == (5, latent_dim) and model.latent_dim == latent_dim
    y = model.decode(z)
    assert y.shape == (5, 1, 28, 28) and 0 <= y.min() and y.max() <= 1


@pytest.mark.parametrize("optimizer", ["adam", "adamw", "sgd", "rmsprop"])
def test_optimizer_choices(optimizer):
    opt = Autoencoder(AEConfig(optimizer=optimizer, lr=0.01, weight_decay=0.001,
                               schedule="constant")).configure_optimizers()
    assert type(opt).__name__.lower() == optimizer
    scheduled = Autoencoder(AEConfig(optimizer=optimizer, lr=0.01)).configure_optimizers()  # the default one-cycle
    assert type(scheduled["optimizer"]).__name__.lower() == optimizer
    assert scheduled["lr_scheduler"]["interval"] == "step"
    assert opt.param_groups[0]["lr"] == 0.01 and opt.param_groups[0]["weight_decay"] == 0.001


@pytest.mark.parametrize("init", ["xavier", "kaiming"])
def test_init_changes_weights_and_zeroes_biases(init):
    torch.manual_seed(0)
    default = Autoencoder(AEConfig())
    torch.manual_seed(0)
    other = Autoencoder(AEConfig(init=init))
    assert not torch.equal(default.encoder.conv1[0].weight, other.encoder.conv1[0].weight)
    assert torch.count_nonzero(other.encoder.head.bias) == 0


def test_registry_and_contract():
    spec = MODELS["ae"]
    assert spec.model_class() is Autoencoder and spec.build(AEConfig()).kind == "ae"
    assert spec.encoder and spec.prior is None and not spec.gaussian_posterior and spec.can_sample
    model = Autoencoder(AEConfig())
    assert model.classifier_encoder() is model.encoder and model.title() == "Autoencoder (latent 20)"
    with pytest.raises(LatentspaceError, match="has no prior of its own"):
        model.sample(4)


@pytest.mark.parametrize("bad, match", [
    (dict(latent_dim=0), "--latent-dim must be at least 1"),
    (dict(optimizer="lbfgs"), "--optimizer must be one of"),
    (dict(init="orthogonal"), "--init must be one of"),
    (dict(lr=-1.0), "--lr must be more than 0"),
])
def test_bad_configs_are_user_errors(bad, match):
    with pytest.raises(LatentspaceError, match=match):
        validate_config(AEConfig(**bad))
