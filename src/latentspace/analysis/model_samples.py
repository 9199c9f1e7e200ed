"""New images from a trained model, for sample-quality metrics: uint8 N x 28 x 28, seeded, batched.

A model that can sample (`model.sample(n)`: VAE prior, GAN noise) is used as is. An autoencoder
has no prior; it is sampled through a Gaussian mixture fitted on its training latents (10
components, as in Pythae's GMM sampler).
"""
from __future__ import annotations

import numpy as np
import torch

from latentspace import data as D
from latentspace.errors import LatentspaceError


def can_sample(model) -> bool:
    """Whether `model.sample` works (an autoencoder's raises: it has no prior)."""
    try:
        with torch.no_grad():
            model.sample(2)
        return True
    except (LatentspaceError, NotImplementedError, AttributeError):
        return False


def has_sampler(model) -> bool:
    """Whether `model_samples` can draw from this model (its prior, or a GMM on its latents)."""
    return can_sample(model) or (getattr(model, "has_encoder", True) and hasattr(model, "encode")
                                 and hasattr(model, "decode"))


@torch.no_grad()
def model_samples(model, n: int, train: D.ImageSet | None = None, seed: int = 0, batch_size: int = 1000,
                  gmm_components: int = 10) -> tuple[np.ndarray, str]:
    """(uint8 samples N x 28 x 28, how they were drawn); seeded, drawn in batches."""
    from latentspace.analysis.embed import encode_images
    from latentspace.analysis.generate import decode_latents
    from latentspace.analysis.samplers import GaussianMixtureSampler

    model.eval()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if can_sample(model):
            torch.manual_seed(seed)
            out = [D.to_uint8(model.sample(min(batch_size, n - start))) for start in range(0, n, batch_size)]
            return np.concatenate(out), "model prior"
        if not (has_sampler(model) and train is not None):
            raise LatentspaceError(f"model {getattr(model, 'kind', type(model).__name__)!r} cannot sample")
        sampler = GaussianMixtureSampler(gmm_components, seed).fit(encode_images(model, train, seed=seed)["latent"])
        return (decode_latents(model, sampler.sample(n), batch_size),
                f"Gaussian mixture ({gmm_components} components) on training latents")

        torch.manual_seed(seed)
        out = [D.to_uint8(draw(min(batch_size, n - start))) for start in range(0, n, batch_size)]
    return np.concatenate(out), how


def gaussian_mixture_sampler(model, train: D.ImageSet, components: int = 10, seed: int = 0,
                             batch_size: int = 2000, max_fit: int = 10000):
    """A function n -> decoded images, drawing latents from a GMM fitted on (at most `max_fit`) training latents.

    TODO(lead): replace with analysis/samplers.py's GMM sampler once that lands (issue 4).
    """
    from sklearn.mixture import GaussianMixture

    if len(train) > max_fit:  # a seeded subset: plenty for 10 components, and quick
        train = train.subset(torch.randperm(len(train), generator=torch.Generator().manual_seed(seed))[:max_fit])
    z = torch.cat([model.encode(train.floats(slice(s, s + batch_size))).float()
                   for s in range(0, len(train), batch_size)]).numpy().astype(np.float64)
    gmm = GaussianMixture(components, covariance_type="full", random_state=seed, reg_covar=1e-5).fit(z)
    rng = np.random.default_rng(seed)

    def draw(n: int) -> torch.Tensor:
        comp = rng.choice(components, size=n, p=gmm.weights_)
        chol = np.linalg.cholesky(gmm.covariances_[comp])
        latents = gmm.means_[comp] + np.einsum("nij,nj->ni", chol, rng.standard_normal((n, z.shape[1])))
        return model.decode(torch.from_numpy(latents).float())

    return draw
