"""One run as the explorer serves it: the model (loaded once), the test set's codes, its 2-D map.

Everything here reads the model's spec and speaks only the model contract (`latent_shape`, `encode`,
`decode`, a Gaussian posterior's `encode_distribution`, labels for a conditional model), and draws through
the run's samplers (`latentspace.samplers`), so a new model kind needs no change.
"""
from __future__ import annotations

import io
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from PIL import Image

from latentspace.analysis.activity import kl_per_dimension
from latentspace.analysis.encode import encode_images
from latentspace.analysis.projection import pca_2d
from latentspace.data.images import ImageSet, run_splits, to_uint8
from latentspace.data.registry import STUDY_SHAPE
from latentspace.errors import LatentspaceError
from latentspace.models import spec_of
from latentspace.runs import Run, embedding_path, read_embedding
from latentspace.samplers import samplers_for
from latentspace.samplers.base import LatentSampler

log = logging.getLogger(__name__)

MAX_ABS_Z = 1000.0     # a latent coordinate the API accepts lies in [-MAX_ABS_Z, MAX_ABS_Z]
MAX_SLIDERS = 32       # the page shows at most this many sliders
NOISE_RANGE = 3.0      # slider range (+-) for a model without an encoder (GAN noise ~ N(0, I))
MAP_METHODS = ("tsne", "umap", "pca")  # cached maps (RUN/embeddings/<method>.npz), first found wins


@dataclass(frozen=True)
class LatentMap:
    """2-D points of the test set: x, y, class label and test index per point."""
    method: str          # "latent" (the 2-D space itself), "tsne", "umap", "pca"
    points: np.ndarray   # N x 2 float32
    labels: np.ndarray   # N int64
    index: np.ndarray    # N int64 test-set indices
    cached: bool = False  # read from RUN/embeddings/<method>.npz (else computed here)


@dataclass
class ServedRun:
    name: str
    model: torch.nn.Module
    kind: str
    latent_dim: int
    has_encoder: bool
    classes: tuple                       # () for an unlabelled set (its labels are all -1)
    samplers: list = field(default_factory=list)  # the samplers that can draw for it, its default first
    conditional: bool = False            # decode, sample and interpolate take a class
    latent_shape: tuple = ()
    discrete: bool = False               # latents are code indices
    codebook_size: int | None = None     # how many (0..K-1), for discrete latents
    image_shape: tuple = STUDY_SHAPE     # (channels, height, width) of the model's images
    test: ImageSet | None = None
    codes: np.ndarray | None = None      # N x d float32: encode(test)
    map: LatentMap | None = None
    order: list = field(default_factory=list)   # latent dimensions, most active first
    activity: list | None = None                 # per-dimension KL (VAE) in `order`'s order, else None
    low: np.ndarray | None = None                # slider range per dimension
    high: np.ndarray | None = None
    path: Path | None = None
    train: object = field(default=None, repr=False)  # training images (or a loader of them) for a mixture sampler
    lock: object = field(default_factory=threading.Lock, repr=False)
    _samplers: dict = field(default_factory=dict, repr=False)  # name -> fitted LatentSampler

    # ------------------------------------------------------------------ building

    @classmethod
    def from_model(cls, name: str, model, test: ImageSet | None, path: Path | None = None,
                   train: ImageSet | Callable[[], ImageSet] | None = None) -> "ServedRun":
        """Encode the test set once, find or make its 2-D map, order the dimensions. `train` (images, or a
        function loading them) is what a model without a prior is sampled from, fitted at the first sample."""
        model.eval()
        spec = spec_of(model)
        d = int(model.latent_dim)
        classes = tuple(test.classes) if test is not None else ()
        samplers = samplers_for(spec, codes=train is not None)
        served = cls(name=name, model=model, kind=spec.kind, latent_dim=d, has_encoder=spec.encoder,
                     classes=classes, samplers=samplers, conditional=model.conditional,
                     latent_shape=tuple(model.latent_shape), discrete=spec.discrete,
                     codebook_size=model.codebook_size if spec.discrete else None,
                     image_shape=tuple(int(v) for v in model.image_shape), path=path, train=train)
        served.order = list(range(d))
        if spec.encoder and test is not None and len(test):
            served.test = test
            codes = encode_images(model, test)
            served.codes = codes["latent"].reshape(len(test), -1)
            served.map = find_map(path, codes["vector"], test.labels.numpy())
            if spec.gaussian_posterior:
                kl = kl_per_dimension(codes["latent"], codes["logvar"])
                served.order = [int(i) for i in np.argsort(-kl, kind="stable")]
                served.activity = [float(kl[i]) for i in served.order]
            served.low, served.high = _padded_range(served.codes)
        else:
            served.low = np.full(d, -NOISE_RANGE, np.float32)
            served.high = np.full(d, NOISE_RANGE, np.float32)
        return served

    @property
    def can_sample(self) -> bool:
        """Some sampler can draw for it here (`samplers_for`: the model's spec, and training codes at hand)."""
        return bool(self.samplers)

    # ------------------------------------------------------------------ answering

    def info(self) -> dict:
        return {
            "name": self.name, "kind": self.kind, "latent_dim": self.latent_dim,
            "has_encoder": self.has_encoder, "has_map": self.map is not None, "can_sample": self.can_sample,
            "samplers": self.samplers, "conditional": self.conditional, "latent_shape": list(self.latent_shape),
            "discrete": self.discrete, "codebook_size": self.codebook_size,
            "map_method": self.map.method if self.map is not None else None,
            "n_test": len(self.test) if self.test is not None else 0,
            "classes": list(self.classes),
            "image_shape": list(self.image_shape),  # the page sizes its images from it
            "slider_dims": self.order[:MAX_SLIDERS],
            "slider_activity": self.activity[:MAX_SLIDERS] if self.activity is not None else None,
            "low": [round(float(v), 4) for v in self.low], "high": [round(float(v), 4) for v in self.high],
            "max_abs_z": MAX_ABS_Z,
        }

    def map_json(self) -> dict:
        m = self.map
        return {"run": self.name, "method": m.method, "cached": m.cached,
                "x": np.round(m.points[:, 0].astype(np.float64), 4).tolist(),
                "y": np.round(m.points[:, 1].astype(np.float64), 4).tolist(),
                "label": m.labels.tolist(), "index": m.index.tolist(), "classes": list(self.classes)}

    def class_name(self, label: int) -> str | None:
        """The name of a test image's class; None in an unlabelled set."""
        return self.classes[label] if self.classes else None

    def decode(self, z: np.ndarray, label: int | None = None) -> np.ndarray:
        """Latents (n x latent_dim, flattened) to uint8 image arrays (n x H x W grey, n x H x W x 3 colour); a
        conditional model draws class `label` (its first class when none is given)."""
        z = np.ascontiguousarray(z, np.int64 if self.discrete else np.float32).reshape(len(z), *self.latent_shape)
        labels = torch.full((len(z),), label or 0, dtype=torch.long) if self.conditional else None
        with self.lock, torch.inference_mode():
            return to_uint8(self.model.decode(torch.from_numpy(z), labels))

    def code_of(self, i: int) -> np.ndarray:
        return self.codes[i]

    def sampler(self, name: str | None = None) -> LatentSampler:
        """A sampler of the run (default: the model's own), read from the run or fitted at its first use."""
        from latentspace.samplers.store import get_sampler

        name = name or self.samplers[0]
        with self.lock:
            if name not in self._samplers:  # a learned prior must be fitted first: minutes would hold every request
                self._samplers[name] = get_sampler(self.model, name, train=self.train, fit_learned=False)
        return self._samplers[name]

    def sample(self, n: int, seed: int | None, sampler: str | None = None, label: int | None = None):
        """(n flattened latents, n uint8 images) drawn by a sampler of the run: for the same seed, sampler and
        class, the images `generate --mode prior` and `evaluate` draw."""
        from latentspace.samplers.store import draw

        chosen = self.sampler(sampler)
        with self.lock:
            drawn = draw(self.model, n, seed, chosen, labels=None if label is None else [label])
        return drawn.latents.reshape(n, -1), drawn.images


def _padded_range(codes: np.ndarray, pad: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = codes.min(0), codes.max(0)
    span = np.maximum(hi - lo, 1e-3)
    lo, hi = lo - pad * span, hi + pad * span
    return np.clip(lo, -MAX_ABS_Z, MAX_ABS_Z).astype(np.float32), np.clip(hi, -MAX_ABS_Z, MAX_ABS_Z).astype(np.float32)


# ---------------------------------------------------------------------- codes, maps, activity

def find_map(path: Path | None, codes: np.ndarray, labels: np.ndarray) -> LatentMap:
    """The 2-D space itself; else a cached map of this model's test codes; else PCA, computed here."""
    n = len(codes)
    if codes.shape[1] == 2:
        return LatentMap("latent", codes.astype(np.float32), labels.astype(np.int64), np.arange(n, dtype=np.int64))
    if path is not None:
        for method in MAP_METHODS:
            cached = read_cached_map(embedding_path(Run(Path(path)), method), codes)
            if cached is not None:
                return cached
    return pca_map(codes, labels)


def read_cached_map(file: Path, codes: np.ndarray) -> LatentMap | None:
    """A map written by `latentspace embed` (keys points, labels, index, latent, method), if it belongs to
    this model: its stored latent codes must equal this model's codes of the same test images."""
    if not file.is_file():
        return None
    data = read_embedding(file)
    if data is None or not {"points", "labels", "index", "latent"} <= set(data):  # damaged or foreign: ignored
        log.warning("ignoring %s: not a latent map written by `latentspace embed`", file)
        return None
    points, labels, index, latent = (np.asarray(data[k]) for k in ("points", "labels", "index", "latent"))
    method = str(data.get("method", file.stem))
    n = len(points)
    if (points.ndim != 2 or points.shape[1] != 2 or labels.shape != (n,) or index.shape != (n,)
            or latent.shape != (n, codes.shape[1]) or not np.isfinite(points).all()):
        log.warning("ignoring %s: unexpected shapes", file)
        return None
    keep = (index >= 0) & (index < len(codes))
    if keep.sum() < 2:
        return None
    if not np.allclose(latent[keep], codes[index[keep]], rtol=1e-3, atol=1e-3):
        log.warning("ignoring %s: made with another checkpoint (its codes differ)", file)
        return None
    return LatentMap(method, points[keep].astype(np.float32), labels[keep].astype(np.int64),
                     index[keep].astype(np.int64), cached=True)


def pca_map(codes: np.ndarray, labels: np.ndarray) -> LatentMap:
    """PCA of the test codes to 2-D (the projection `latentspace embed --method pca` uses), kept in memory."""
    points = pca_2d(codes.astype(np.float64)).astype(np.float32)
    return LatentMap("pca", points, labels.astype(np.int64), np.arange(len(codes), dtype=np.int64))


# ---------------------------------------------------------------------- PNG

def png_bytes(image_u8: np.ndarray) -> bytes:
    """A uint8 H x W (grey) or H x W x 3 image as a small PNG (fast: zlib level 1)."""
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image_u8)).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def png_data_url(image_u8: np.ndarray) -> str:
    import base64

    return "data:image/png;base64," + base64.b64encode(png_bytes(image_u8)).decode("ascii")


# ---------------------------------------------------------------------- loading runs

def load_served_runs(paths, limit_test: int | None = None) -> list[ServedRun]:
    """Load each run once (`runs.load_run`) with its test set; names are the run directories' names."""
    from latentspace.runs import load_run

    if not paths:
        raise LatentspaceError("give at least one run directory to explore")
    if limit_test is not None and limit_test < 2:
        raise LatentspaceError(f"--limit-test must be at least 2, got {limit_test}")
    tests: dict = {}
    served, names = [], set()
    for p in paths:
        model, run = load_run(p)
        train = run.config()["train"]
        key = (train["dataset"], train.get("data_dir"), train.get("image_size"), train.get("channels"))
        if key not in tests:
            tests[key] = run_splits(train).test
        # a model whose encoding costs a sample's solve maps its first images unless told (`spec.encode_limit`:
        # all 10,000 test images through a flow model's ODE would keep the page from opening for minutes)
        limit = limit_test if limit_test is not None else spec_of(model).encode_limit
        name = _unique(run.name, names)
        served.append(ServedRun.from_model(name, model, tests[key].head(limit), path=run.path,
                                           train=lambda train=train: run_splits(train).train))
    return served


def _unique(name: str, taken: set) -> str:
    out, i = name, 1
    while out in taken:
        i += 1
        out = f"{name}-{i}"
    taken.add(out)
    return out
