"""One run as the explorer serves it: the model (loaded once), the test set's codes, its 2-D map.

Everything here speaks only the model protocol (`latent_dim`, `has_encoder`, `encode`, `decode`,
`sample`, and a VAE's optional `encode_distribution`), so a new model kind needs no change.
"""
from __future__ import annotations

import io
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from latentspace import data as D
from latentspace.analysis.model_samples import can_sample
from latentspace.errors import LatentspaceError

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
    can_sample: bool
    classes: tuple
    test: D.ImageSet | None = None
    codes: np.ndarray | None = None      # N x d float32: encode(test)
    map: LatentMap | None = None
    order: list = field(default_factory=list)   # latent dimensions, most active first
    activity: list | None = None                 # per-dimension KL (VAE) in `order`'s order, else None
    low: np.ndarray | None = None                # slider range per dimension
    high: np.ndarray | None = None
    path: Path | None = None
    lock: object = field(default=None, repr=False)

    # ------------------------------------------------------------------ building

    @classmethod
    def from_model(cls, name: str, model, test: D.ImageSet | None, path: Path | None = None) -> "ServedRun":
        """Encode the test set once, find or make its 2-D map, order the dimensions."""
        import threading

        model.eval()
        d = int(model.latent_dim)
        has_encoder = bool(getattr(model, "has_encoder", True))
        classes = tuple(test.classes) if test is not None else ()
        served = cls(name=name, model=model, kind=str(getattr(model, "kind", type(model).__name__)), latent_dim=d,
                     has_encoder=has_encoder, can_sample=can_sample(model), classes=classes, path=path,
                     lock=threading.Lock())
        served.order = list(range(d))
        if has_encoder and test is not None and len(test):
            served.test = test
            served.codes = encode_all(model, test)
            served.map = find_map(path, served.codes, test.labels.numpy())
            if hasattr(model, "encode_distribution"):
                kl = kl_per_dim(model, test)
                served.order = [int(i) for i in np.argsort(-kl, kind="stable")]
                served.activity = [float(kl[i]) for i in served.order]
            served.low, served.high = _padded_range(served.codes)
        else:
            served.low = np.full(d, -NOISE_RANGE, np.float32)
            served.high = np.full(d, NOISE_RANGE, np.float32)
        return served

    # ------------------------------------------------------------------ answering

    def info(self) -> dict:
        return {
            "name": self.name, "kind": self.kind, "latent_dim": self.latent_dim,
            "has_encoder": self.has_encoder, "has_map": self.map is not None, "can_sample": self.can_sample,
            "map_method": self.map.method if self.map is not None else None,
            "n_test": len(self.test) if self.test is not None else 0,
            "classes": list(self.classes),
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

    def decode(self, z: np.ndarray) -> np.ndarray:
        """Latent codes (n x d) to uint8 images (n x H x W)."""
        with self.lock, torch.inference_mode():
            return D.to_uint8(self.model.decode(torch.from_numpy(np.ascontiguousarray(z, np.float32))))

    def code_of(self, i: int) -> np.ndarray:
        return self.codes[i]

    def prior_codes(self, n: int, seed: int | None) -> np.ndarray:
        """z ~ N(0, I): the prior of this project's VAE and GAN, drawn here so each sample keeps its code."""
        rng = np.random.default_rng(seed)
        return rng.standard_normal((n, self.latent_dim)).astype(np.float32)


def _padded_range(codes: np.ndarray, pad: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = codes.min(0), codes.max(0)
    span = np.maximum(hi - lo, 1e-3)
    lo, hi = lo - pad * span, hi + pad * span
    return np.clip(lo, -MAX_ABS_Z, MAX_ABS_Z).astype(np.float32), np.clip(hi, -MAX_ABS_Z, MAX_ABS_Z).astype(np.float32)


# ---------------------------------------------------------------------- codes, maps, activity

def encode_all(model, images: D.ImageSet, batch_size: int = 1000) -> np.ndarray:
    out = []
    with torch.inference_mode():
        for s in range(0, len(images), batch_size):
            out.append(model.encode(images.floats(slice(s, s + batch_size))).float().cpu().numpy())
    return np.concatenate(out).astype(np.float32)


def kl_per_dim(model, images: D.ImageSet, batch_size: int = 1000) -> np.ndarray:
    """Mean KL(q(z_j|x) || N(0, 1)) per latent dimension over `images`: how much each dimension is used."""
    total = None
    with torch.inference_mode():
        for s in range(0, len(images), batch_size):
            mu, logvar = model.encode_distribution(images.floats(slice(s, s + batch_size)))
            kl = 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar)
            part = kl.double().sum(0)
            total = part if total is None else total + part
    return (total / len(images)).cpu().numpy()


def find_map(path: Path | None, codes: np.ndarray, labels: np.ndarray) -> LatentMap:
    """The 2-D space itself; else a cached map of this model's test codes; else PCA, computed here."""
    n = len(codes)
    if codes.shape[1] == 2:
        return LatentMap("latent", codes.astype(np.float32), labels.astype(np.int64), np.arange(n, dtype=np.int64))
    if path is not None:
        for method in MAP_METHODS:
            cached = read_cached_map(Path(path) / "embeddings" / f"{method}.npz", codes)
            if cached is not None:
                return cached
    return pca_map(codes, labels)


def read_cached_map(file: Path, codes: np.ndarray) -> LatentMap | None:
    """A map written by `latentspace embed` (keys points, labels, index, latent, method), if it belongs to
    this model: its stored latent codes must equal this model's codes of the same test images."""
    if not file.is_file():
        return None
    try:
        with np.load(file, allow_pickle=False) as f:
            points, labels, index, latent = (np.asarray(f[k]) for k in ("points", "labels", "index", "latent"))
            method = str(f["method"]) if "method" in f.files else file.stem
    except Exception as e:  # damaged or foreign: ignore, compute our own
        log.warning("ignoring %s: %s", file, e)
        return None
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
    from latentspace.analysis.embed import pca_2d

    points = pca_2d(codes.astype(np.float64)).astype(np.float32)
    return LatentMap("pca", points, labels.astype(np.int64), np.arange(len(codes), dtype=np.int64))


# ---------------------------------------------------------------------- PNG

def png_bytes(image_u8: np.ndarray) -> bytes:
    """A uint8 H x W image as a small PNG (fast: zlib level 1)."""
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image_u8), mode="L").save(buf, format="PNG", compress_level=1)
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
        train = run.config().get("train", {})
        key = (train.get("dataset", "fashion-mnist"), train.get("data_dir"))
        if key not in tests:
            splits = D.load_splits(key[0], key[1], train.get("download", True), seed=train.get("seed", 0))
            tests[key] = splits.test.head(limit_test)
        name = _unique(run.name, names)
        served.append(ServedRun.from_model(name, model, tests[key], path=run.path))
    return served


def _unique(name: str, taken: set) -> str:
    out, i = name, 1
    while out in taken:
        i += 1
        out = f"{name}-{i}"
    taken.add(out)
    return out
