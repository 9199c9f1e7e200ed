"""Sample quality against real images, measured in a feature space (our own network's penultimate layer).

Pure functions of features: `latentspace.analysis.scoring.sample_quality` scores uint8 images (grey or RGB,
of the dataset's shape) against the dataset's test set with them:

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
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from latentspace.data.images import to_float
from latentspace.data.registry import STUDY_SHAPE
from latentspace.errors import LatentspaceError

K_NEAREST = 3


# ---------------------------------------------------------------- features

def check_images(images, what: str = "samples", shape: tuple = STUDY_SHAPE) -> torch.Tensor:
    """uint8 images of `shape` (channels, height, width) as an N x H x W x C tensor; given as N x H x W (grey),
    N x H x W x C or N x C x H x W. A clear error for anything else."""
    if isinstance(images, np.ndarray):
        images = torch.from_numpy(np.ascontiguousarray(images))
    if not isinstance(images, torch.Tensor):
        raise LatentspaceError(f"{what}: expected an array of images, got {type(images).__name__}")
    c, h, w = shape
    if images.dim() == 3:
        images = images.unsqueeze(-1)
    elif images.dim() == 4 and images.shape[1] == c and images.shape[-1] != c:
        images = images.permute(0, 2, 3, 1)  # N x C x H x W
    if images.dim() != 4 or tuple(images.shape[1:]) != (h, w, c):
        wanted = f"N x {h} x {w}" + ("" if c == 1 else f" x {c}")
        raise LatentspaceError(f"{what}: expected images of shape {wanted}, got {tuple(images.shape)}")
    if images.dtype != torch.uint8:
        raise LatentspaceError(f"{what}: expected uint8 pixels (0..255), got {images.dtype} "
                               f"(convert floats in [0, 1] with latentspace.data.to_uint8)")
    if len(images) < 2:
        raise LatentspaceError(f"{what}: need at least 2 images, got {len(images)}")
    return images


def load_samples(path) -> np.ndarray:
    """uint8 images from a .npy file of uint8 (0..255) or floats in [0, 1]; their shape is checked against the
    metric's (`check_images`) when they are scored."""
    try:
        arr = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise LatentspaceError(f"{path}: file not found") from None
    except (OSError, ValueError) as e:
        raise LatentspaceError(f"{path}: not a readable .npy array ({e})") from None
    if not isinstance(arr, np.ndarray):
        raise LatentspaceError(f"{path}: holds several arrays (.npz); save one array of images with np.save")
    if arr.dtype.kind == "f":
        if arr.size and not (np.isfinite(arr).all() and arr.min() >= 0.0 and arr.max() <= 1.0):
            raise LatentspaceError(f"{path}: float images must lie in [0, 1] (got {np.nanmin(arr):.3g} .. "
                                   f"{np.nanmax(arr):.3g}); or save uint8 pixels 0..255")
        arr = np.round(arr * 255).astype(np.uint8)
    elif arr.dtype != np.uint8:
        raise LatentspaceError(f"{path}: expected uint8 pixels or floats in [0, 1], got dtype {arr.dtype}")
    return arr


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
def extract_features(net, images, batch_size: int = 500, shape: tuple | None = None) -> Features:
    """Features and class probabilities of uint8 images of `shape` (C, H, W; default: the shape the network
    reads), batched, in eval mode."""
    shape = shape or getattr(getattr(net, "arch", None), "image_shape", STUDY_SHAPE)
    images = check_images(images, "images", shape)
    net.eval()
    feats, probs = [], []
    for start in range(0, len(images), batch_size):
        f, logits = net.features_and_logits(to_float(images[start:start + batch_size]))
        feats.append(f.double())
        probs.append(torch.softmax(logits.double(), dim=1))
    return Features(torch.cat(feats), torch.cat(probs))


class PrecomputedFeatures(nn.Module):
    """The `feature=` module given to torchmetrics: features are computed once, in batches, elsewhere
    (and the reference set's are cached), then handed to the metrics as they are."""

    def __init__(self, num_features: int):
        super().__init__()
        self.num_features = num_features  # read by torchmetrics instead of a dummy forward

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 2 or x.shape[1] != self.num_features or not x.is_floating_point():
            raise ValueError(f"expected N x {self.num_features} float features, got {tuple(x.shape)} {x.dtype}")
        return x.double()


# ---------------------------------------------------------------- the metrics

def fid(real: torch.Tensor, fake: torch.Tensor) -> float:
    """FID alone between two feature sets (N x F), via torchmetrics: where KID's subsets are not wanted."""
    from torchmetrics.image.fid import FrechetInceptionDistance

    metric = FrechetInceptionDistance(feature=PrecomputedFeatures(real.shape[1]))
    metric.update(real, real=True)
    metric.update(fake, real=False)
    return float(metric.compute())


def fid_kid(real: torch.Tensor, fake: torch.Tensor, kid_subsets: int = 100, kid_subset_size: int = 1000,
            seed: int = 0) -> dict:
    """FID and KID (mean and std over random subsets) between two feature sets (N x F), via torchmetrics."""
    from torchmetrics.image.fid import FrechetInceptionDistance
    from torchmetrics.image.kid import KernelInceptionDistance

    extractor = PrecomputedFeatures(real.shape[1])
    fid = FrechetInceptionDistance(feature=extractor)
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


def asked_classes(real: Features, real_labels: torch.Tensor, fake: Features, asked: torch.Tensor,
                  classes: tuple) -> dict:
    """How well a conditional model draws the class it is asked for: the share of samples our classifier puts in
    the asked class (overall and per class), and the FID of each class's samples against that class's real images
    (N per class is small: compare these FIDs with one another at the same N, not with whole-set ones)."""
    asked = torch.as_tensor(asked, dtype=torch.long)
    hit = fake.probs.argmax(1) == asked
    per_class, per_fid = {}, {}
    for c, name in enumerate(classes):
        mine, theirs = asked == c, torch.as_tensor(real_labels) == c
        if mine.sum() < 2 or theirs.sum() < 2:
            continue
        per_class[name] = round(float(hit[mine].double().mean()), 4)
        per_fid[name] = round(fid(real.features[theirs], fake.features[mine]), 4)
    return {"class_accuracy": float(hit.double().mean()), "class_accuracy_per_class": per_class,
            "class_fid_per_class": per_fid}


def compare(real: Features, fake: Features, real_radii=None, kid_subsets: int = 100, seed: int = 0) -> dict:
    """Every sample metric from ready features: what `sample_quality` and the tests both call."""
    out = {**fid_kid(real.features, fake.features, kid_subsets=kid_subsets, seed=seed),
           **precision_recall(real.features, fake.features, real_radii=real_radii),
           **class_spread(fake.probs)}
    ref_spread = class_spread(real.probs)  # what real images score, for scale
    out["reference_class_entropy"] = ref_spread["class_entropy"]
    out["reference_inception_score"] = ref_spread["inception_score"]
    out["n_samples"], out["n_reference"] = len(fake), len(real)
    return out
