"""Latent maps: N x D codes projected to 2-D with PCA, t-SNE (openTSNE) or UMAP. Arrays in, arrays out.

numpy at import (scikit-learn, openTSNE and umap-learn are imported when used), so the CLI can read METHODS.
"""
from __future__ import annotations

import numpy as np

from latentspace.errors import LatentspaceError

METHODS = ("pca", "tsne", "umap")

# openTSNE settings chosen with benchmarks/tsne.py on an autoencoder's 10k x 20 test codes (perplexity 30):
# exact neighbours (a BallTree on 20 dimensions is much faster than Annoy's index), PCA initialisation,
# FFT-interpolated gradients, learning rate N / exaggeration, and shorter phases than openTSNE's default
# 250 + 500 iterations: 125 of early exaggeration (12) and 300 after. Measured single-threaded on a busy
# machine: 30 s of CPU against 68 s for the default phases, final KL 1.553 against 1.507 (scikit-learn's
# TSNE at its defaults: 1.489, so 4.3% above it). Fewer final iterations (250) gave KL 1.576, coarser FFT
# grids (ints_in_interval 2 or 4) KL 1.61-1.66: both more than 5% above scikit-learn.
TSNE_PARAMS = dict(perplexity=30.0, initialization="pca", learning_rate="auto", early_exaggeration_iter=125,
                   early_exaggeration=12.0, n_iter=300, negative_gradient_method="fft", neighbors="exact",
                   dof=1.0)
UMAP_PARAMS = dict(n_neighbors=15, min_dist=0.1)


def project(latent: np.ndarray, method: str, seed: int = 0, n_jobs: int = -1) -> np.ndarray:
    """N x D codes -> N x 2 float32 map. A space that is already 2-D is returned as it is."""
    latent = np.asarray(latent, dtype=np.float32)
    if method not in METHODS:
        raise LatentspaceError(f"unknown projection {method!r}; choose one of {', '.join(METHODS)}")
    if latent.ndim != 2 or len(latent) < 3:
        raise LatentspaceError(f"need at least 3 codes (N x D) to make a map, got shape {latent.shape}")
    if latent.shape[1] == 2:
        return latent.copy()
    if latent.shape[1] < 2:
        return np.column_stack([latent[:, 0], np.zeros(len(latent), np.float32)])
    if not np.ptp(latent, axis=0).any():  # every code the same (e.g. a log-variance panel stuck at 0): one point
        return np.zeros((len(latent), 2), np.float32)
    return _PROJECTIONS[method](latent, seed, n_jobs).astype(np.float32)


def pca_2d(latent: np.ndarray, seed: int = 0, n_jobs: int = -1) -> np.ndarray:
    from sklearn.decomposition import PCA

    return PCA(n_components=2, random_state=seed).fit_transform(latent)


def tsne_2d(latent: np.ndarray, seed: int = 0, n_jobs: int = -1, **overrides) -> np.ndarray:
    """openTSNE with TSNE_PARAMS (all cores by default); perplexity is lowered for very small sets."""
    return tsne_embedding(latent, seed, n_jobs, **overrides)[0]


def tsne_embedding(latent: np.ndarray, seed: int = 0, n_jobs: int = -1, **overrides) -> tuple[np.ndarray, float]:
    """(N x 2 map, final KL divergence) from openTSNE."""
    from openTSNE import TSNE

    params = {**TSNE_PARAMS, **overrides}
    params["perplexity"] = min(params["perplexity"], max(1.0, (len(latent) - 1) / 3.0))
    if params["negative_gradient_method"] == "fft" and len(latent) < 1000:
        params["negative_gradient_method"] = "bh"  # FFT interpolation pays off only for larger sets
    if len(latent) < 2000:
        n_jobs = 1  # threads cost more than they save on small sets (and much more on a busy machine)
    emb = TSNE(n_components=2, random_state=seed, n_jobs=n_jobs, verbose=False, **params).fit(
        np.ascontiguousarray(latent, dtype=np.float64))
    return np.asarray(emb), float(emb.kl_divergence)


def umap_2d(latent: np.ndarray, seed: int = 0, n_jobs: int = -1) -> np.ndarray:
    try:
        import umap
    except ImportError:
        raise LatentspaceError("UMAP needs the optional extra umap-learn: pip install 'latentspace[umap]'") from None
    # seeded, hence single-threaded in umap-learn: the same map every time (seeds everywhere)
    reducer = umap.UMAP(n_components=2, n_jobs=1, random_state=seed,
                        n_neighbors=min(UMAP_PARAMS["n_neighbors"], len(latent) - 1),
                        min_dist=UMAP_PARAMS["min_dist"])
    return reducer.fit_transform(latent)


_PROJECTIONS = {"pca": pca_2d, "tsne": tsne_2d, "umap": umap_2d}
PARAMS = {"pca": {}, "tsne": TSNE_PARAMS, "umap": UMAP_PARAMS}  # recorded beside a cached map
