"""The networks: the study's encoder and decoder, DCGAN's generator and discriminator, the init choices."""
from __future__ import annotations

import pytest
import torch

from latentspace.models.autoencoder import Autoencoder
from latentspace.models.autoencoder_config import AEConfig
from latentspace.models.nets import Decoder, Discriminator, Encoder, Generator, init_weights


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


def _layers(module) -> list:
    """Every sub-module's name, type, own parameter count and (for leaves) its repr: the network's blueprint."""
    return [[name, type(m).__name__, sum(p.numel() for p in m.parameters(recurse=False)),
             repr(m) if not list(m.children()) else ""] for name, m in module.named_modules() if name]


def test_at_the_studys_shape_every_network_is_exactly_the_one_recorded_before_shapes_were_general():
    """tests/golden/study-networks.json was recorded from the 28 x 28 grey networks before they were built
    from the image shape: same layers, same hyperparameters, same parameter counts."""
    import json
    from pathlib import Path

    from latentspace.models.featurenet import FeatureNet
    from latentspace.models.probe import Probe
    from latentspace.models.probe_config import ProbeConfig

    golden = json.loads((Path(__file__).parents[1] / "golden" / "study-networks.json").read_text())
    nets = {"encoder": Encoder(20), "encoder_w2": Encoder(20, 2.0), "decoder": Decoder(20),
            "decoder_w2": Decoder(20, 2.0), "generator": Generator(100, 64), "generator_32": Generator(100, 32),
            "discriminator": Discriminator(64), "discriminator_sn": Discriminator(64, spectral_norm=True),
            "featurenet": FeatureNet(), "probe": Probe(Encoder(20), ProbeConfig(), "frozen", 10)}
    assert set(nets) == set(golden)
    for name, net in nets.items():
        assert _params(net) == golden[name]["parameters"], name
        assert _layers(net) == golden[name]["layers"], name


@pytest.mark.parametrize("size", [16, 28, 30, 32, 48, 64, 100, 128])
@pytest.mark.parametrize("channels", [1, 3])
def test_every_network_is_built_for_the_images_shape(size, channels):
    shape = (channels, size, size)
    x = torch.rand(2, *shape)
    assert Encoder(6, image_shape=shape)(x).shape == (2, 6)
    assert Decoder(6, image_shape=shape)(torch.zeros(2, 6)).shape == (2, *shape)
    g = Generator(16, 8, image_shape=shape)(torch.zeros(2, 16))
    assert g.shape == (2, *shape) and g.abs().max() <= 1
    assert Discriminator(8, image_shape=shape)(x).shape == (2,)
    assert Discriminator(8, spectral_norm=True, image_shape=shape)(x).shape == (2,)


def test_a_larger_image_gets_a_deeper_gan_and_the_same_encoder_depth():
    def convs(net, kind):
        return [m for m in net.modules() if isinstance(m, kind)]

    assert len(convs(Generator(100, 64), torch.nn.ConvTranspose2d)) == 3
    assert len(convs(Generator(100, 64, image_shape=(3, 64, 64)), torch.nn.ConvTranspose2d)) == 5
    assert len(convs(Discriminator(64, image_shape=(3, 64, 64)), torch.nn.Conv2d)) == 5
    assert len(convs(Encoder(20, image_shape=(3, 64, 64)), torch.nn.Conv2d)) == 3
    # the widest layer is capped at 8 x width
    assert max(c.out_channels for c in convs(Discriminator(8, image_shape=(1, 128, 128)), torch.nn.Conv2d)) == 64


@pytest.mark.parametrize("shape", [(2, 28, 28), (1, 32, 28), (3, 8, 8), (3, 256, 256)])
def test_a_shape_the_networks_are_not_built_for_is_refused_in_one_line(shape):
    from latentspace.errors import LatentspaceError

    with pytest.raises(LatentspaceError, match="16 to 128 pixels"):
        Encoder(4, image_shape=shape)
