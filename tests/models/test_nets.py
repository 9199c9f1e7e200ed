"""The networks: the study's encoder and decoder, DCGAN's generator and discriminator, the init choices."""
from __future__ import annotations

import pytest
import torch

from latentspace.models.autoencoder import Autoencoder
from latentspace.models.autoencoder_config import AEConfig
from latentspace.models.nets import (
    ConditionalBatchNorm2d,
    Decoder,
    Discriminator,
    Encoder,
    Generator,
    init_weights,
)


def test_encoder_is_the_studys_network():
    enc = Autoencoder(AEConfig()).encoder
    convs = [m for m in enc.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [(c.in_channels, c.out_channels, c.stride[0]) for c in convs] == [(1, 8, 2), (8, 16, 2), (16, 32, 2)]
    linears = [m for m in enc.modules() if isinstance(m, torch.nn.Linear)]
    assert [(l.in_features, l.out_features) for l in linears] == [(288, 128), (128, 20)]
    feats = enc.features(torch.rand(2, 1, 28, 28))
    assert feats["conv3"].shape == (2, 32, 3, 3) and feats["hidden"].shape == (2, 128)


def _params(module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_the_studys_parameter_counts():
    # conv 1->8 (80), 8->16 (1168) + BN (32), 16->32 (4640), Linear 288->128 (36992), 128->20 (2580)
    assert _params(Encoder(20)) == 80 + 1168 + 32 + 4640 + 36992 + 2580
    # Linear 20->128 (2688), 128->288 (37152), ConvT 32->16 (4624) + BN, 16->8 (1160) + BN, 8->1 (73)
    assert _params(Decoder(20)) == 2688 + 37152 + 4624 + 32 + 1160 + 16 + 73
    assert _params(Generator(100, 64)) == 100 * 256 * 49 + 512 + 256 * 128 * 16 + 256 + 128 * 16
    assert _params(Discriminator(64)) == 16 * 64 + 64 * 128 * 16 + 256 + 128 * 256 * 9 + 512 + 256 * 16


def test_shapes_of_every_network():
    x = torch.rand(3, 1, 28, 28)
    assert Encoder(5)(x).shape == (3, 5) and Decoder(5)(torch.zeros(3, 5)).shape == (3, 1, 28, 28)
    assert Generator(16, 8)(torch.zeros(3, 16)).shape == (3, 1, 28, 28)
    assert Discriminator(8)(x).shape == (3,)
    sn = Discriminator(8, spectral_norm=True)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in sn.modules()) and sn(x).shape == (3,)


@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 32, 32)])
@pytest.mark.parametrize("spectral_norm", [False, True])
def test_conditional_networks_take_labels_and_the_labels_change_their_output(shape, spectral_norm):
    torch.manual_seed(0)
    g = Generator(16, 8, image_shape=shape, num_classes=10).eval()
    cbn = [m for m in g.modules() if isinstance(m, ConditionalBatchNorm2d)]
    assert cbn and not any(isinstance(m, torch.nn.BatchNorm2d) and m.affine for m in g.modules())
    z = torch.randn(4, 16)
    with torch.no_grad():  # a class's own scale and shift, away from their start (1, 0), as after training
        for m in cbn:
            m.gamma.weight.normal_(1, 0.3)
            m.beta.weight.normal_(0, 0.3)
    a, b = g(z, torch.tensor([0, 0, 0, 0])), g(z, torch.tensor([1, 2, 3, 4]))
    assert a.shape == b.shape == (4, *shape) and (a - b).abs().mean() > 1e-3
    d = Discriminator(8, spectral_norm, image_shape=shape, num_classes=10).eval()
    x = torch.rand(4, *shape)
    ya, yb = d(x, torch.tensor([0, 0, 0, 0])), d(x, torch.tensor([1, 2, 3, 4]))
    assert ya.shape == yb.shape == (4,) and not torch.allclose(ya, yb)
    # the projection: the unconditional head plus <embed(y), features summed over positions>
    h = d.net[:-1](x)
    assert torch.allclose(ya, d.net[-1](h).view(-1) + (d.embed(torch.zeros(4, dtype=torch.long)) * h.sum((2, 3))).sum(1))
    assert ("parametrizations" in dict(d.embed.named_children())) == spectral_norm


def test_unconditional_networks_have_no_class_parts():
    assert not hasattr(Discriminator(8), "embed")
    assert not any(isinstance(m, ConditionalBatchNorm2d) for m in Generator(16, 8).modules())


@pytest.mark.parametrize("scheme", ["xavier", "kaiming"])
def test_init_weights_reinitialises_and_zeroes_biases(scheme):
    torch.manual_seed(0)
    net = Encoder(4)
    before = net.conv1[0].weight.clone()
    init_weights(net, scheme)
    assert not torch.equal(before, net.conv1[0].weight) and torch.count_nonzero(net.head.bias) == 0
    same = Encoder(4)
    weights = same.conv1[0].weight.clone()
    init_weights(same, "none")
    assert torch.equal(weights, same.conv1[0].weight)
