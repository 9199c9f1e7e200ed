"""Sample quality against real images, measured in our own feature network's penultimate layer.

`sample_quality(samples)` scores uint8 N x 28 x 28 images against the dataset's test set:

- FID and KID: torchmetrics (`FrechetInceptionDistance`, `KernelInceptionDistance`) with
  `feature=` our network. Each image's features are computed once, in batches, and handed to
  the metrics as ready features (the module passed as `feature=` takes both images and features),
  so the reference set's features can be cached and the network is not run once per metric.
- Precision and recall (Kynkäänniemi et al. 2019, k = 3): written here, since torchmetrics has no
  implementation. A sample is "precise" when it falls inside the k-NN ball of some real image;
  a real image is "recalled" when it falls inside the k-NN ball of some sample.
- Class spread: the entropy of the mean predicted class distribution (ln 10 = 2.303 when every
  class is equally present) and an Inception-score-like exp(E_x KL(p(y|x) || p(y))) with our
  classifier (10 at best: confident and spread over all classes).

All statistics are float64 and deterministic (KID's random subsets come from a seeded generator).
Reference (test-set) features are cached per process and on disk in the cache directory.
"""
from __future__ import annotations

import hashlib
import math
import os
import tempfile
import warnings
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from latentspace import data as D
from latentspace.errors import LatentspaceError

K_NEAREST = 3
_CACHE_VERSION = 2  # bump when the cached reference features or radii would be computed differently


# ---------------------------------------------------------------- features

def check_images(images, what: str = "samples") -> torch.Tensor:
    """uint8 N x 28 x 28 (or N x 1 x 28 x 28) as a torch tensor; a clear error for anything else."""
    if isinstance(images, np.ndarray):
        images = torch.from_numpy(np.ascontiguousarray(images))
    if not isinstance(images, torch.Tensor):
        raise LatentspaceError(f"{what}: expected an array of images, got {type(images).__name__}")
    if images.dim() == 4 and images.shape[1] == 1:
        images = images[:, 0]
    if images.dim() != 3 or tuple(images.shape[1:]) != (28, 28):
        raise LatentspaceError(f"{what}: expected images of shape N x 28 x 28, got {tuple(images.shape)}")
    if images.dtype != torch.uint8:
        raise LatentspaceError(f"{what}: expected uint8 pixels (0..255), got {images.dtype} "
                               f"(convert floats in [0, 1] with latentspace.data.to_uint8)")
    if len(images) < 2:
        raise LatentspaceError(f"{what}: need at least 2 images, got {len(images)}")
    return images


def load_samples(path) -> torch.Tensor:
    """Images from a .npy file: uint8 (0..255), or floats in [0, 1]; N x 28 x 28 or N x 1 x 28 x 28."""
    try:
        arr = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise LatentspaceError(f"{path}: file not found") from None
    except (OSError, ValueError) as e:
        raise LatentspaceError(f"{path}: not a readable .npy array ({e})") from None
    if not isinstance(arr, np.ndarray):
        raise LatentspaceError(f"{path}: holds several arrays (.npz); save one N x 28 x 28 array with np.save")
    if arr.dtype.kind == "f":
        if arr.size and not (np.isfinite(arr).all() and arr.min() >= 0.0 and arr.max() <= 1.0):
            raise LatentspaceError(f"{path}: float images must lie in [0, 1] (got {np.nanmin(arr):.3g} .. "
                                   f"{np.nanmax(arr):.3g}); or save uint8 pixels 0..255")
        arr = D.to_uint8(torch.from_numpy(arr.astype(np.float32)))
    elif arr.dtype != np.uint8:
        raise LatentspaceError(f"{path}: expected uint8 pixels or floats in [0, 1], got dtype {arr.dtype}")
    return check_images(arr, str(path))


@dataclass
class Features:
    """Penultimate-layer features (float64, N x F) and class probabilities (float64, N x C)."""
    features: torch.Tensor
    probs: torch.Tensor

    def __len__(self) -> int:
        return len(self.features)

    def subset(self, index) -> "Features":
        return Features(self.features[index], self.probs[index])


@torch.no_grad()
def extract_features(net, images, batch_size: int = 500) -> Features:
    """Features and class probabilities of uint8 images, batched, in eval mode."""
    images = check_images(images, "images")
    net.eval()
    feats, probs = [], []
    for start in range(0, len(images), batch_size):
        f, logits = net.features_and_logits(D.to_float(images[start:start + batch_size]))
        feats.append(f.double())
        probs.append(torch.softmax(logits.double(), dim=1))
    return Features(torch.cat(feats), torch.cat(probs))


class MetricFeatures(nn.Module):
    """The `feature=` module given to torchmetrics: our network, float64 out.

    Takes uint8 images (N x 1 x 28 x 28) as torchmetrics expects of a feature extractor, and
    also a 2-D tensor of features already computed by `extract_features`, passed through: that
    is how cached reference features and once-computed sample features reach the metrics.
    """

    def __init__(self, net):
        super().__init__()
        self.net = net
        self.num_features = net.arch.feature_dim  # read by torchmetrics instead of a dummy forward

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 2 and x.shape[1] == self.num_features and x.is_floating_point():
            return x.double()
        with torch.no_grad():
            return self.net.features(D.to_float(x[:, 0] if x.dim() == 4 else x)).double()


# ---------------------------------------------------------------- the metrics

def fid_kid(net, real: torch.Tensor, fake: torch.Tensor, kid_subsets: int = 100, kid_subset_size: int = 1000,
            seed: int = 0) -> dict:
    """FID and KID (mean and std over random subsets) between two feature sets, via torchmetrics."""
    from torchmetrics.image.fid import FrechetInceptionDistance
    from torchmetrics.image.kid import KernelInceptionDistance

    extractor = MetricFeatures(net)
    fid = FrechetInceptionDistance(feature=extractor, input_img_size=(1, 28, 28))
    with warnings.catch_warnings():  # "KID will save all extracted features": that is what we want
        warnings.simplefilter("ignore", UserWarning)
        kid = KernelInceptionDistance(feature=extractor, subsets=kid_subsets,
                                      subset_size=min(kid_subset_size, len(real), len(fake)))
    for metric in (fid, kid):
        metric.update(real, real=True)
        metric.update(fake, real=False)
    with torch.random.fork_rng(devices=[]):  # KID draws its subsets from the global generator
        torch.manual_seed(seed)
        kid_mean, kid_std = kid.compute()
    return {"fid": float(fid.compute()), "kid": float(kid_mean), "kid_std": float(kid_std)}


def _sq_dists(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Squared Euclidean distances, a.shape[0] x b.shape[0], float64."""
    d = torch.addmm((b * b).sum(1)[None, :], a, b.T, alpha=-2.0)  # one N x M temporary, not three
    return d.add_((a * a).sum(1, keepdim=True)).clamp_min_(0.0)


def knn_radii(feats: torch.Tensor, k: int = K_NEAREST, chunk: int = 1000) -> torch.Tensor:
    """Squared distance from each point to its k-th nearest other point of the same set."""
    if len(feats) <= k:
        raise LatentspaceError(f"precision/recall need more than k = {k} images per set, got {len(feats)}")
    out = []
    for start in range(0, len(feats), chunk):
        d = _sq_dists(feats[start:start + chunk], feats)
        # the point itself is among the k + 1 smallest (distance 0): the (k+1)-th is its k-th neighbour
        out.append(torch.topk(d, k + 1, dim=1, largest=False, sorted=False).values.amax(1))
    return torch.cat(out)


def precision_recall(real: torch.Tensor, fake: torch.Tensor, k: int = K_NEAREST, real_radii=None,
                     chunk: int = 1000) -> dict:
    """Improved precision and recall (Kynkäänniemi et al., 2019) with k-NN manifolds.

    Hand-written: torchmetrics has no precision/recall for generative models. One pass over the
    fake x real distance matrix (in chunks) gives both: precision per fake row, recall per real column.
    """
    real_radii = knn_radii(real, k, chunk) if real_radii is None else real_radii
    fake_radii = knn_radii(fake, k, chunk)
    precise = torch.zeros(len(fake), dtype=torch.bool)
    recalled = torch.zeros(len(real), dtype=torch.bool)
    for start in range(0, len(fake), chunk):
        d = _sq_dists(fake[start:start + chunk], real)
        precise[start:start + chunk] = (d <= real_radii[None, :]).any(1)
        recalled |= (d <= fake_radii[start:start + chunk, None]).any(0)
    return {"precision": float(precise.double().mean()), "recall": float(recalled.double().mean())}


def class_spread(probs: torch.Tensor) -> dict:
    """Entropy of the mean predicted class distribution and an Inception-score-like number."""
    eps = 1e-12
    mean = probs.mean(0)
    entropy = float(-(mean * (mean + eps).log()).sum())
    kl = (probs * ((probs + eps).log() - (mean + eps).log()[None, :])).sum(1)
    return {"class_entropy": entropy, "class_entropy_max": math.log(probs.shape[1]),
            "inception_score": float(kl.mean().exp()),
            "class_fractions": [round(float(v), 5) for v in torch.bincount(probs.argmax(1),
                                                                            minlength=probs.shape[1]) / len(probs)]}


def compare(net, real: Features, fake: Features, real_radii=None, kid_subsets: int = 100, seed: int = 0) -> dict:
    """Every sample metric from ready features: what `sample_quality` and the tests both call."""
    out = {**fid_kid(net, real.features, fake.features, kid_subsets=kid_subsets, seed=seed),
           **precision_recall(real.features, fake.features, real_radii=real_radii),
           **class_spread(fake.probs)}
    ref_spread = class_spread(real.probs)  # what real images score, for scale
    out["reference_class_entropy"] = ref_spread["class_entropy"]
    out["reference_inception_score"] = ref_spread["inception_score"]
    out["n_samples"], out["n_reference"] = len(fake), len(real)
    return out


# ---------------------------------------------------------------- reference features, cached

@dataclass
class Reference:
    features: Features
    radii: torch.Tensor  # squared k-NN radii of the reference set
    description: str


_MEMORY: dict = {}


def reference_features(net, meta: dict, dataset: str, n: int | None = None, data_dir=None,
                       download: bool = True) -> Reference:
    """The first n test images' features and k-NN radii: from memory, the disk cache, or computed."""
    test = D.load_splits(dataset, data_dir, download).test
    n = len(test) if n is None else min(int(n), len(test))
    key = f"{dataset}-test{n}-k{K_NEAREST}-v{_CACHE_VERSION}-{meta['weights_sha256'][:16]}"
    if key in _MEMORY:
        return _MEMORY[key]
    path = D.cache_root() / "quality" / f"{key}.pt"
    ref = None
    if path.is_file():
        try:
            saved = torch.load(path, map_location="cpu", weights_only=True)
            ref = Reference(Features(saved["features"], saved["probs"]), saved["radii"], saved["description"])
        except Exception:  # a damaged cache file is recomputed
            ref = None
    if ref is None:
        feats = extract_features(net, test.images[:n])
        ref = Reference(feats, knn_radii(feats.features), f"{dataset} test set, first {n} images")
        _save(path, {"features": feats.features, "probs": feats.probs, "radii": ref.radii,
                     "description": ref.description})
    _MEMORY[key] = ref
    return ref


def _save(path, obj) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".pt")
        os.close(fd)
        torch.save(obj, tmp)
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only cache only costs time


def _array_key(images: torch.Tensor) -> str:
    return hashlib.sha1(images.contiguous().numpy().tobytes()).hexdigest()


def sample_quality(samples, dataset: str = "fashion-mnist", reference=None, n: int | None = 10000,
                   kid_subsets: int = 100, seed: int = 0, data_dir=None, download: bool = True) -> dict:
    """FID, KID, precision, recall and class spread of uint8 N x 28 x 28 `samples`.

    The reference is the dataset's test set (its first `n` images) unless `reference` (uint8
    images) is given. The feature network is the one shipped for `dataset`.
    """
    from latentspace.featurenet import load_feature_net

    samples = check_images(samples, "samples")
    net, meta = load_feature_net(dataset)
    if reference is None:
        ref = reference_features(net, meta, dataset, n, data_dir, download)
    else:
        reference = check_images(reference, "reference")
        key = f"array-{_array_key(reference)}-{meta['weights_sha256'][:16]}"
        if key not in _MEMORY:
            while len(_MEMORY) >= 16:  # a bounded cache: drop the oldest
                _MEMORY.pop(next(iter(_MEMORY)))
            feats = extract_features(net, reference)
            _MEMORY[key] = Reference(feats, knn_radii(feats.features), f"{len(reference)} given images")
        ref = _MEMORY[key]
    fake = extract_features(net, samples)
    out = compare(net, ref.features, fake, real_radii=ref.radii, kid_subsets=kid_subsets, seed=seed)
    out["reference"] = ref.description
    out["feature_net"] = f"{dataset} ({meta['weights_sha256'][:12]}, test accuracy {meta.get('test_accuracy')})"
    return out
