"""Scoring uint8 images in a feature space: our feature network's (FID, KID, precision, recall, class spread)
or Inception's (the literature's protocol), against a reference set whose features are cached.

The one home of sample scoring: `evaluate`, a search's FID objective and the benchmarks all call
`sample_quality` / `inception_quality`. The reference set's features are cached per process and on disk
(in the cache directory, `io.cached_file`), keyed by the data's identity, N, and the network's weights (and,
for Inception, the protocol).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import torch

from latentspace.analysis.quality import (
    K_NEAREST,
    Features,
    check_images,
    compare,
    extract_features,
    fid,
    knn_radii,
)
from latentspace.data.images import load_splits, seeded_subset
from latentspace.io import cache_root, cached_file

CACHE_VERSION = 2  # bump when the cached reference features or radii would be computed differently
# training images the copy check compares samples with: a seeded subset (all of a smaller set). 10,000 keeps the
# check at about a second for 5,000 samples on one thread while a copy of any of them is still found
COPY_TRAIN = 10_000


@dataclass
class Reference:
    features: Features
    radii: torch.Tensor  # squared k-NN radii of the reference set
    description: str


_MEMORY: dict = {}  # key -> Reference (or features), this process's cache in front of the disk's


def _remember(key: str, value):
    while len(_MEMORY) >= 16:  # a bounded cache: drop the oldest
        _MEMORY.pop(next(iter(_MEMORY)))
    _MEMORY[key] = value
    return value


def reference_features(net, meta: dict, dataset: str, n: int | None = None, data_dir=None,
                       download: bool = True, splits=None) -> Reference:
    """The first n test images' features and k-NN radii: from memory, the disk cache, or computed. The test
    set is `splits.test` when given (keyed by `splits.identity`), else the named dataset's."""
    test = (splits if splits is not None else load_splits(dataset, data_dir, download)).test
    identity = splits.identity if splits is not None else dataset
    n = len(test) if n is None else min(int(n), len(test))
    key = f"{identity}-test{n}-k{K_NEAREST}-v{CACHE_VERSION}-{meta['weights_sha256'][:16]}"
    if key in _MEMORY:
        return _MEMORY[key]

    def load(path):
        saved = torch.load(path, map_location="cpu", weights_only=True)
        return Reference(Features(saved["features"], saved["probs"]), saved["radii"], saved["description"])

    def compute():
        feats = extract_features(net, test.images[:n], shape=net.arch.image_shape)
        return Reference(feats, knn_radii(feats.features), f"{dataset} test set, first {n} images")

    def save(tmp, ref):
        torch.save({"features": ref.features.features, "probs": ref.features.probs, "radii": ref.radii,
                    "description": ref.description}, tmp)

    return _remember(key, cached_file(cache_root() / "quality" / f"{key}.pt", load, compute, save))


def _array_key(images: torch.Tensor) -> str:
    return hashlib.sha1(images.contiguous().numpy().tobytes()).hexdigest()


def feature_net(dataset: str = "fashion-mnist", splits=None) -> tuple:
    """(network, its record) of our feature network for `splits` (by their identity), else for the registry
    dataset `dataset` at its own shape."""
    from latentspace.models.featurenet import feature_net_for, load_feature_net

    return feature_net_for(splits) if splits is not None else load_feature_net(dataset)


def sample_quality(samples, dataset: str = "fashion-mnist", reference=None, n: int | None = 10000,
                   kid_subsets: int = 100, seed: int = 0, data_dir=None, download: bool = True,
                   what: str = "samples", splits=None, fid_only: bool = False) -> dict:
    """FID, KID, precision, recall and class spread of uint8 `samples` (N x H x W for grey images, N x H x W x C);
    with `fid_only`, the FID alone (what the floor needs: the rest would cost as much again).

    The reference is the dataset's test set (its first `n` images; `splits.test` when `splits` are given)
    unless `reference` (uint8 images) is given. The feature network is the one built for the dataset
    (`splits.identity`, or the registry dataset `dataset` at its own shape).
    """
    net, meta = feature_net(dataset, splits)
    shape = net.arch.image_shape
    samples = check_images(samples, what, shape)
    if reference is None:
        ref = reference_features(net, meta, dataset, n, data_dir, download, splits=splits)
    else:
        reference = check_images(reference, "reference", shape)
        key = f"array-{_array_key(reference)}-{meta['weights_sha256'][:16]}"
        if key not in _MEMORY:
            feats = extract_features(net, reference, shape=shape)
            _remember(key, Reference(feats, knn_radii(feats.features), f"{len(reference)} given images"))
        ref = _MEMORY[key]
    fake = features_of(net, meta, samples)
    if fid_only:
        return {"fid": fid(ref.features.features, fake.features)}
    out = compare(ref.features, fake, real_radii=ref.radii, kid_subsets=kid_subsets, seed=seed)
    out["reference"] = ref.description
    out["feature_net"] = f"{meta.get('dataset', dataset)} ({meta['weights_sha256'][:12]}, test accuracy {meta.get('test_accuracy')})"
    return out


def features_of(net, meta: dict, images: torch.Tensor) -> Features:
    """Our network's features of checked uint8 images, remembered for this process by the images' content: the
    samples `sample_quality` scored are not run through the network again by `copy_metrics`."""
    key = f"images-{_array_key(images)}-{meta['weights_sha256'][:16]}"
    if key not in _MEMORY:
        _remember(key, extract_features(net, images, shape=net.arch.image_shape))
    return _MEMORY[key]


@dataclass
class TrainingReference:
    """What the copy check compares samples with: a seeded subset of the training images (`index` into
    splits.train), their features, and each one's distance to its nearest other (`gaps`)."""
    index: np.ndarray
    features: torch.Tensor
    gaps: np.ndarray
    key: str = ""  # what it is cached by


def training_reference(net, meta: dict, splits, n_train: int = COPY_TRAIN, seed: int = 0) -> TrainingReference:
    """The copy check's training reference: from memory, the disk cache (keyed by the subset's content and the
    network's weights), or computed (about 20 s for 10,000 images on one loaded thread; 10,000 x 10,000
    distances about 6 s more)."""
    from latentspace.analysis.memorisation import train_gaps

    index = seeded_subset(len(splits.train), n_train, seed)
    images = check_images(splits.train.images[torch.from_numpy(index)], "training images", net.arch.image_shape)
    key = f"train-{_array_key(images)}-v{CACHE_VERSION}-{meta['weights_sha256'][:16]}"
    if key in _MEMORY:
        return _MEMORY[key]

    def load(path):
        saved = torch.load(path, map_location="cpu", weights_only=True)
        return TrainingReference(saved["index"].numpy(), saved["features"], saved["gaps"].numpy(), key)

    def compute():
        feats = extract_features(net, images, shape=net.arch.image_shape).features
        return TrainingReference(index, feats, train_gaps(feats), key)

    def save(tmp, ref):
        torch.save({"index": torch.from_numpy(ref.index), "features": ref.features,
                    "gaps": torch.from_numpy(ref.gaps)}, tmp)

    return _remember(key, cached_file(cache_root() / "quality" / f"{key}.pt", load, compute, save))


def copy_metrics(samples, splits, seed: int = 0, n_train: int = COPY_TRAIN, dataset: str = "fashion-mnist",
                 what: str = "samples") -> tuple[dict, dict | None, np.ndarray]:
    """The copy check (`analysis.memorisation`) of uint8 `samples` against a seeded subset of n_train of
    `splits.train` (the images the model was trained on), in our network's features; the test set's first
    images (as many as the samples) are checked the same way, as the level of a model that does not copy.
    Returns (metrics, the samples' per-sample check, the subset's indices into splits.train)."""
    from latentspace.analysis.memorisation import copy_check

    net, meta = feature_net(dataset, splits)
    shape = net.arch.image_shape
    fake = features_of(net, meta, check_images(samples, what, shape))
    if min(len(splits.train), n_train) < 2:  # no nearest *other* training image to compare with
        return {}, None, np.arange(len(splits.train))
    ref = training_reference(net, meta, splits, n_train, seed)
    check = copy_check(fake.features, ref.features, ref.gaps)
    held_out = None
    if len(splits.test):  # as many test images as samples: the reference features sample_quality cached
        test = reference_features(net, meta, dataset, len(fake), splits=splits).features.features
        held_key = f"held-out-{len(test)}-{splits.identity}-{ref.key}"
        held_out = _MEMORY.get(held_key) or _remember(held_key, copy_check(test, ref.features, ref.gaps))
    metrics = {"copy_share": round(float(check["share"]), 4),
               "copy_share_test": round(float(held_out["share"]), 4) if held_out else None,
               "nearest_train_distance": round(float(np.median(check["distance"])), 4),
               "test_nearest_train_distance": round(float(np.median(held_out["distance"])), 4) if held_out else None,
               "train_gap": round(float(np.median(ref.gaps)), 4),
               "copy_train_images": len(ref.index)}
    return metrics, check, ref.index


# ---------------------------------------------------------------- Inception features, the literature's protocol

def inception_reference(dataset: str, n: int | None = 10000, data_dir=None, download: bool = True, splits=None):
    """Inception features of the first n test images (of `splits.test` when given, else the named dataset's):
    from the disk cache, or computed once (slow on a CPU: minutes per thousand images). The cache file is keyed
    by the data's identity (`Splits.identity`: a folder's content, a resized set's shape), n, the weights' hash
    and the protocol, and holds `features` (float32: the network's output, lossless), `mu` and `sigma` (float64, the names
    pytorch-fid reads) and what it was made with."""
    from latentspace.analysis import inception as I

    splits = splits if splits is not None else load_splits(dataset, data_dir, download)
    test = splits.test
    n = len(test) if n is None else min(int(n), len(test))
    protocol_key = hashlib.sha256(I.PROTOCOL.encode()).hexdigest()[:12]
    path = (cache_root() / "inception" /
            f"{splits.identity}-test{n}-w{I.weights_sha256()[:12]}-p{protocol_key}.npz")

    def load(path):
        with np.load(path, allow_pickle=False) as saved:
            if str(saved["protocol"]) == I.PROTOCOL and saved["features"].shape == (n, I.FEATURE_DIM):
                return saved["features"]
        return None  # made otherwise: computed again

    def save(tmp, feats32):
        feats = feats32.astype(np.float64)
        np.savez(tmp, features=feats32, mu=feats.mean(0), sigma=np.cov(feats, rowvar=False),
                 protocol=np.array(I.PROTOCOL), weights_sha256=np.array(I.weights_sha256()),
                 dataset=np.array(splits.name), n=np.array(n))

    feats32 = cached_file(path, load, lambda: I.inception_features(test.images[:n], device=device()).astype(
        np.float32), save)
    return feats32.astype(np.float64), path


def inception_quality(samples, dataset: str = "fashion-mnist", n: int | None = 10000, seed: int = 0,
                      kid_subsets: int = 100, data_dir=None, download: bool = True, what: str = "samples",
                      splits=None) -> dict:
    """Inception FID and KID of uint8 samples against the first n test images, with a note on FID's bias at this
    N (KID is unbiased: compare it when N differs)."""
    from latentspace.analysis import inception as I

    real = inception_reference(dataset, n, data_dir, download, splits=splits)[0]
    fake = I.inception_features(I.as_images(samples, what), device=device())
    out = I.fid_kid_from_features(real, fake, kid_subsets=kid_subsets, seed=seed)
    return {"inception_fid": out["fid"], "inception_kid": out["kid"], "inception_kid_std": out["kid_std"],
            "inception_n_samples": len(fake), "inception_n_reference": len(real),
            "inception_protocol": I.PROTOCOL, "inception_note": I.bias_note(min(len(real), len(fake)))}


def device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"
