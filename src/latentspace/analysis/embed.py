"""Latent maps: encode a split, project the codes to 2-D (PCA, t-SNE, UMAP), cache the result in the run.

The projections are pure functions (array in, array out). `embed_run` ties them to a run directory and
keeps `RUN/embeddings/<method>.npz`, which the browser explorer reads too. Its format (do not change
without the explorer):

    points          N x 2 float32   the 2-D map
    labels          N int64         class of each point
    index           N int64         index of each point in the split (the test split for <method>.npz)
    latent          N x D float32   the codes that were projected (a VAE's mu)
    checkpoint_sha  str             SHA-256 of the checkpoint the codes came from: the cache is reused only
                                    while it matches
    method          str             pca | tsne | umap

and, beside them: `split`, `params` (JSON of the projection's settings) and, for a model with a
distribution over codes (a VAE: `encode_distribution(x) -> (mu, logvar)`), the panels
`points_logvar`, `latent_logvar`, `points_z`, `latent_z` (points/latent being mu).
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np
import torch

from latentspace.data import ImageSet
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


# ---------------------------------------------------------------- encoding

def has_distribution(model) -> bool:
    """A model whose codes are distributions (a VAE): it offers encode_distribution(x) -> (mu, logvar)."""
    return callable(getattr(model, "encode_distribution", None))


def require_encoder(model, what: str) -> None:
    if not getattr(model, "has_encoder", True):
        name = getattr(model, "kind", type(model).__name__)
        raise LatentspaceError(f"{what} needs an encoder, and a {name} model has none (it only generates)")


@torch.no_grad()
def encode_images(model, images: ImageSet, batch_size: int = 1000, seed: int = 0) -> dict[str, np.ndarray]:
    """Codes of every image, float32: {"latent": z} or, for a VAE, {"latent": mu, "logvar", "z"}.

    A VAE's z is drawn once per image as mu + exp(logvar / 2) * eps with a seeded eps.
    """
    require_encoder(model, "encoding images")
    parts: dict[str, list] = {}
    g = torch.Generator().manual_seed(seed)
    for start in range(0, len(images), batch_size):
        x = images.floats(slice(start, start + batch_size))
        if has_distribution(model):
            mu, logvar = model.encode_distribution(x)
            mu, logvar = mu.float().cpu(), logvar.float().cpu()
            z = mu + torch.exp(0.5 * logvar) * torch.randn(mu.shape, generator=g)
            batch = {"latent": mu, "logvar": logvar, "z": z}
        else:
            batch = {"latent": model.encode(x).float().cpu()}
        for k, v in batch.items():
            parts.setdefault(k, []).append(v.reshape(len(x), -1).numpy())
    if not parts:
        raise LatentspaceError("no images to encode")
    return {k: np.concatenate(v).astype(np.float32) for k, v in parts.items()}


# ---------------------------------------------------------------- projections (arrays in, arrays out)

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
_PARAMS = {"pca": {}, "tsne": TSNE_PARAMS, "umap": UMAP_PARAMS}


def subset_index(n_total: int, n: int | None, seed: int = 0) -> np.ndarray:
    """All indices, or a seeded sorted sample of n of them."""
    if n is not None and n < 3:
        raise LatentspaceError(f"--n must be at least 3, got {n}")
    if n is None or n >= n_total:
        return np.arange(n_total, dtype=np.int64)
    return np.sort(np.random.default_rng(seed).choice(n_total, size=n, replace=False)).astype(np.int64)


# ---------------------------------------------------------------- the run's cache

def file_sha256(path: Path) -> str:
    from latentspace.data import file_hash

    return file_hash(path, "sha256")


def checkpoint_file(run) -> Path:
    """The checkpoint load_run uses: best.ckpt when there is one, else last.ckpt."""
    return run.best_checkpoint if run.best_checkpoint.is_file() else run.last_checkpoint


def cache_path(run, method: str, split: str = "test") -> Path:
    return run.path / "embeddings" / (f"{method}.npz" if split == "test" else f"{method}-{split}.npz")


def read_cache(path: Path) -> dict | None:
    """The cached arrays (strings as str), or None when missing or unreadable."""
    try:
        with np.load(path, allow_pickle=False) as f:
            return {k: (str(f[k]) if f[k].dtype.kind == "U" else f[k]) for k in f.files}
    except (OSError, ValueError, KeyError, EOFError):
        return None


def write_cache(path: Path, data: dict) -> None:
    """Atomically: the explorer never reads half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.stem + ".", suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **{k: np.asarray(v) for k, v in data.items()})
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def load_run_splits(run, limit_train: bool = True):
    """The splits a run was trained on (dataset, seed and, when asked, its limit on training images)."""
    from latentspace import data as D

    train = run.config()["train"]
    return D.load_splits(train["dataset"], train.get("data_dir"), train.get("download", True), seed=train["seed"],
                         limit_train=train.get("limit_train") if limit_train else None)


def split_images(splits, split: str) -> ImageSet:
    if split not in ("train", "val", "test"):
        raise LatentspaceError(f"unknown split {split!r}; choose train, val or test")
    return getattr(splits, split)


def model_title(model) -> str:
    name = getattr(model, "display_name", None) or type(model).__name__
    return f"{name} (latent {model.latent_dim})"


def embed_run(run_path, method: str, split: str = "test", n: int | None = None, seed: int = 0,
              n_jobs: int = -1) -> dict:
    """Load `RUN/embeddings/<method>.npz` when it matches the checkpoint, or compute and write it.

    Returns the cache's arrays plus `path`, `cached` (bool), `classes`, `title` and `panels`
    (name -> N x 2 points: {"mu", "logvar", "z"} for a VAE, {"z"} otherwise).
    """
    from latentspace.runs import load_run

    if method not in METHODS:
        raise LatentspaceError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    model, run = load_run(run_path)
    require_encoder(model, "a latent map")
    sha = file_sha256(checkpoint_file(run))
    params = json.dumps({"seed": seed, **_PARAMS[method]}, sort_keys=True)
    path = cache_path(run, method, split)
    splits = load_run_splits(run)
    images = split_images(splits, split)
    index = subset_index(len(images), n, seed)
    data = read_cache(path)
    cached = (data is not None and data.get("checkpoint_sha") == sha and data.get("params") == params
              and data.get("split", "test") == split and np.array_equal(data.get("index"), index))
    if not cached:
        subset = images.subset(torch.from_numpy(index))
        codes = encode_images(model, subset, seed=seed)
        data = {"points": project(codes["latent"], method, seed, n_jobs), "labels": subset.labels.numpy().astype(np.int64),
                "index": index, "latent": codes["latent"], "checkpoint_sha": sha, "method": method,
                "split": split, "params": params}
        if "logvar" in codes:
            for key in ("logvar", "z"):
                data[f"latent_{key}"] = codes[key]
                data[f"points_{key}"] = project(codes[key], method, seed, n_jobs)
        write_cache(path, data)
    panels = ({"mu": data["points"], "logvar": data["points_logvar"], "z": data["points_z"]}
              if "points_logvar" in data else {"z": data["points"]})
    return {**data, "path": path, "cached": cached, "classes": tuple(splits.classes), "title": model_title(model),
            "latent_dim": int(model.latent_dim), "panels": panels}
