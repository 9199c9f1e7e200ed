"""A record of a network's structure: every module with parameters or a shape-defining setting (its repr),
every parameter and buffer with its shape, the parameter count and the output shapes on a batch of two.

`study_networks()` builds each of the study's networks at 1 x 28 x 28; `tests/models/study_networks.json` is
this record taken from the code as it was before networks were built from the data's shape (main at
c97ef78), so a test fails if any layer of the study's networks changes. Regenerate it only on purpose:
`python -m tests.models.structure > tests/models/study_networks.json`.
"""
from __future__ import annotations

import json

import torch


def _shape(t: torch.Tensor) -> str:
    return "x".join(map(str, t.shape)) or "scalar"


def describe(module: torch.nn.Module, inputs: dict) -> dict:
    """{"modules": [name: repr of each leaf], "tensors": {name: shape}, "parameters": n, "outputs": {...}}."""
    leaves = [f"{name}: {m!r}" for name, m in module.named_modules()
              if name and not list(m.children())]
    tensors = {k: _shape(v) for k, v in module.state_dict().items()}
    outputs = {}
    module.eval()
    with torch.no_grad():
        for what, fn in inputs.items():
            out = fn(module)
            if isinstance(out, dict):
                outputs.update({f"{what}.{k}": _shape(v) for k, v in out.items()})
            elif isinstance(out, tuple):
                outputs.update({f"{what}.{i}": _shape(v) for i, v in enumerate(out)})
            else:
                outputs[what] = _shape(out)
    return {"modules": leaves, "tensors": tensors, "parameters": sum(p.numel() for p in module.parameters()),
            "outputs": outputs}


def study_networks(image_shape=None) -> dict:
    """Every network of the study at 1 x 28 x 28, with the settings the study and the tests use; with
    `image_shape`, that shape is passed to every constructor (the record was made without it)."""
    from latentspace.models.autoencoder import Autoencoder
    from latentspace.models.autoencoder_config import AEConfig
    from latentspace.models.featurenet import FeatureNet, FeatureNetArch
    from latentspace.models.gan import GAN
    from latentspace.models.gan_config import GANConfig
    from latentspace.models.nets import Decoder, Discriminator, Encoder, Generator
    from latentspace.models.probe import Probe
    from latentspace.models.probe_config import ProbeConfig
    from latentspace.models.vae import VAE
    from latentspace.models.vae_config import VAEConfig

    kw = {} if image_shape is None else {"image_shape": tuple(image_shape)}
    x = torch.rand(2, *(image_shape or (1, 28, 28)), generator=torch.Generator().manual_seed(0))
    image = {"forward": lambda m: m(x)}
    encoder = {"forward": lambda m: m(x), "features": lambda m: m.features(x)}

    def latent(d):
        return {"forward": lambda m: m(torch.zeros(2, d))}

    nets = {
        "Encoder(20)": (Encoder(20, **kw), encoder),
        "Encoder(2)": (Encoder(2, **kw), encoder),
        "Encoder(8, width=2.0, hidden=256)": (Encoder(8, width=2.0, hidden=256, **kw), encoder),
        "Encoder(8, width=0.5)": (Encoder(8, width=0.5, **kw), encoder),
        "Decoder(20)": (Decoder(20, **kw), latent(20)),
        "Decoder(2)": (Decoder(2, **kw), latent(2)),
        "Decoder(8, width=2.0, hidden=256)": (Decoder(8, width=2.0, hidden=256, **kw), latent(8)),
        "Decoder(8, width=0.5)": (Decoder(8, width=0.5, **kw), latent(8)),
        "Generator(100, 64)": (Generator(100, 64, **kw), latent(100)),
        "Generator(16, 8)": (Generator(16, 8, **kw), latent(16)),
        "Discriminator(64)": (Discriminator(64, **kw), image),
        "Discriminator(8)": (Discriminator(8, **kw), image),
        "Discriminator(64, spectral_norm=True)": (Discriminator(64, spectral_norm=True, **kw), image),
        "FeatureNet()": (FeatureNet(FeatureNetArch(**kw)), {"forward": lambda m: m(x), "features": lambda m: m.features(x)}),
        "Autoencoder(AEConfig())": (Autoencoder(AEConfig(), **kw), image),
        "VAE(VAEConfig())": (VAE(VAEConfig(), **kw), {"encode_distribution": lambda m: m.encode_distribution(x),
                                                 "decode": lambda m: m.decode(torch.zeros(2, m.latent_dim))}),
        "GAN(GANConfig())": (GAN(GANConfig(), **kw), {"decode": lambda m: m.decode(torch.zeros(2, 100))}),
        "GAN(GANConfig(ema=True, spectral_norm=True))": (GAN(GANConfig(ema=True, spectral_norm=True), **kw),
                                                         {"decode": lambda m: m.decode(torch.zeros(2, 100))}),
        "Probe(Encoder(20), ProbeConfig())": (Probe(Encoder(20, **kw), ProbeConfig()), image),
        "Probe(Encoder(20), ProbeConfig(pool=2, features='conv1,latent'))": (
            Probe(Encoder(20, **kw), ProbeConfig(pool=2, features="conv1,latent")), image),
    }
    return {name: describe(net, inputs) for name, (net, inputs) in nets.items()}


if __name__ == "__main__":
    print(json.dumps(study_networks(), indent=1))
