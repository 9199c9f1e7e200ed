"""Networks built from the data's shape: exactly the study's at 1 x 28 x 28 (against a record of the code before
shapes), the right outputs from 16 to 128 pixels, grey and colour, and a clear refusal outside that range."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from latentspace.errors import LatentspaceError
from latentspace.models import nets
from latentspace.models.featurenet import FeatureNet, FeatureNetArch
from latentspace.models.nets import Decoder, Discriminator, Encoder, Generator
from latentspace.models.probe import Probe
from latentspace.models.probe_config import ProbeConfig
from tests.models.structure import study_networks

RECORD = Path(__file__).with_name("study_networks.json")  # made from main at c97ef78, before image shapes


def _differences(record: dict, built: dict) -> list[str]:
    out = []
    for name in record.keys() | built.keys():
        if record.get(name) != built.get(name):
            old, new = record.get(name, {}), built.get(name, {})
            out += [f"{name}: {part} {old.get(part)} != {new.get(part)}" for part in ("modules", "tensors",
                    "parameters", "outputs") if old.get(part) != new.get(part)]
    return out


@pytest.mark.parametrize("image_shape", [None, (1, 28, 28)], ids=["default", "given"])
def test_every_network_at_28x28_is_exactly_the_studys(image_shape):
    record = json.loads(RECORD.read_text())
    assert len(record) == 20 and record["Encoder(20)"]["parameters"] == 45492
    assert _differences(record, study_networks(image_shape)) == []


def test_the_record_notices_a_changed_layer():
    """The comparison is not vacuous: one layer's padding changed is a difference."""
    record = json.loads(RECORD.read_text())
    built = study_networks()
    built["Encoder(20)"]["modules"][0] = built["Encoder(20)"]["modules"][0].replace("padding=(1, 1)", "padding=(0, 0)")
    built["Generator(100, 64)"]["parameters"] += 1
    assert len(_differences(record, built)) == 2


SIZES = [16, 17, 28, 32, 45, 64, 100, 128]


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("size", SIZES)
def test_every_network_takes_and_makes_images_of_the_shape(size, channels):
    shape = (channels, size, size)
    x = torch.rand(2, *shape)
    enc, dec = Encoder(6, image_shape=shape), Decoder(6, image_shape=shape)
    assert enc(x).shape == (2, 6) and dec(torch.zeros(2, 6)).shape == (2, *shape)
    assert enc.features(x)["conv3"].shape[1:] == enc.map_shape == dec.map_shape
    assert max(enc.map_shape[1:]) <= 4 or size == 28  # 28's 3 x 3; every other size at most 4 x 4
    assert Generator(16, 8, image_shape=shape)(torch.zeros(2, 16)).shape == (2, *shape)
    for sn in (False, True):
        assert Discriminator(8, sn, image_shape=shape)(x).shape == (2,)
    net = FeatureNet(FeatureNetArch(image_shape=shape)).eval()
    f, logits = net.features_and_logits(x)
    assert f.shape == (2, 128) and logits.shape == (2, 10)
    probe = Probe(Encoder(6, image_shape=shape), ProbeConfig(), num_classes=4)
    assert probe(x).shape == (2, 4)


def test_larger_images_get_deeper_stacks_not_wider_layers():
    def linear_in(net):
        return next(m for m in net.modules() if isinstance(m, torch.nn.Linear)).in_features

    convs = {s: sum(isinstance(m, torch.nn.Conv2d) for m in Encoder(8, image_shape=(3, s, s)).modules())
             for s in (32, 64, 128)}
    assert convs == {32: 3, 64: 4, 128: 5}
    assert [linear_in(Encoder(8, image_shape=(3, s, s))) for s in (32, 64, 128)] == [32 * 16, 64 * 16, 128 * 16]
    # the generator: base 4 x 4 doubled to the size; 4w channels at the base, halved, at least w
    gen = Generator(10, 8, image_shape=(3, 64, 64))
    ups = [m for m in gen.modules() if isinstance(m, torch.nn.ConvTranspose2d)]
    assert ups[0].kernel_size == (4, 4) and [m.out_channels for m in ups] == [32, 16, 8, 8, 3]
    disc = [m for m in Discriminator(8, image_shape=(3, 64, 64)).modules() if isinstance(m, torch.nn.Conv2d)]
    assert [m.out_channels for m in disc] == [8, 16, 32, 32, 1] and disc[-1].kernel_size == (4, 4)
    assert linear_in(FeatureNet(FeatureNetArch(image_shape=(3, 64, 64)))) == 96 * 64


@pytest.mark.parametrize("shape", [(3, 15, 15), (1, 129, 129), (3, 32, 28), (0, 32, 32), (3, 32)])
def test_an_unsupported_shape_is_refused_naming_the_supported_sizes(shape):
    for build in (lambda: Encoder(4, image_shape=shape), lambda: Decoder(4, image_shape=shape),
                  lambda: Generator(4, 4, image_shape=shape), lambda: Discriminator(4, image_shape=shape),
                  lambda: FeatureNet(FeatureNetArch(image_shape=shape))):
        with pytest.raises(LatentspaceError, match=f"{nets.MIN_SIZE} to {nets.MAX_SIZE} pixels|channels, height, width"):
            build()


def test_every_model_builds_for_the_data_shape_and_says_it():
    from latentspace.models import get_spec

    for kind in ("ae", "vae", "gan"):
        spec = get_spec(kind)
        model = spec.build(spec.config_cls(), (3, 64, 64))
        assert model.image_shape == (3, 64, 64)
        z = model.prior_latents(2) if spec.prior else torch.zeros(2, model.latent_dim)
        assert model.decode(z).shape == (2, 3, 64, 64)
        if spec.encoder:
            assert model.encode(torch.rand(2, 3, 64, 64)).shape == (2, model.latent_dim)
    with pytest.raises(LatentspaceError, match="16 to 128"):
        get_spec("ae").build(get_spec("ae").config_cls(), (3, 200, 200))


def test_every_size_from_16_to_128_is_built_exactly():
    """Not only the tested sizes: every square size the data layer accepts gives images of exactly that size."""
    with torch.no_grad():
        for size in range(nets.MIN_SIZE, nets.MAX_SIZE + 1):
            shape = (3, size, size)
            assert Decoder(2, width=0.25, hidden=4, image_shape=shape)(torch.zeros(1, 2)).shape[-2:] == (size, size)
            assert Generator(2, 1, image_shape=shape)(torch.zeros(1, 2)).shape[-2:] == (size, size)
            x = torch.zeros(1, *shape)
            assert Encoder(2, width=0.25, hidden=4, image_shape=shape).eval()(x).shape == (1, 2)
            assert Discriminator(1, image_shape=shape).eval()(x).shape == (1,)
            assert FeatureNet(FeatureNetArch(channels=(2, 2, 2), feature_dim=2, image_shape=shape)).eval()(x).shape \
                == (1, 10)
