"""`latentspace evaluate`: every metric that applies to a run's model (merged into RUN/evaluation.json), or
the sample metrics of a file of images.

Which metrics apply is read from the model's spec: reconstruction (MSE, PSNR, SSIM) with an encoder, the
ELBO terms with a Gaussian posterior, and sample quality (FID, KID, precision/recall, class spread) for
any model that can sample. The test set's features in the metric network are cached per process and on
disk (in the cache directory), keyed by the network's weights.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import torch

from latentspace.analysis.quality import (
    K_NEAREST,
    Features,
    check_images,
    compare,
    extract_features,
    knn_radii,
    load_samples,
)
from latentspace.analysis.reconstruction import elbo_terms, reconstruction_metrics
from latentspace.analysis.samplers import sample_images
from latentspace.data.images import load_splits, run_splits
from latentspace.io import atomic_path, cache_root, merge_json
from latentspace.models import spec_of
from latentspace.runs import load_run

_CACHE_VERSION = 2  # bump when the cached reference features or radii would be computed differently


def evaluate_run(path, n: int = 10000) -> dict:
    model, run = load_run(path)
    train = run.config()["train"]
    splits = run_splits(train)  # the images it was trained on: its mixture sampler is fitted on their codes
    spec = spec_of(model)
    results = {}
    if spec.encoder:
        results.update(reconstruction_metrics(model, splits.test))
    if spec.gaussian_posterior:
        results.update(elbo_terms(model, splits.test))
    if n and spec.can_sample:
        results.update(sample_metrics(model, splits, n, seed=train["seed"]))
    merge_json(run.path / "evaluation.json", results)
    return results


def sample_metrics(model, splits, n: int = 10000, seed: int = 0) -> dict:
    """FID, KID, precision/recall and class spread of n samples of the model against the test set."""
    samples, how = sample_images(model, n, splits.train, seed=seed)
    return {**sample_quality(samples, splits.name, n=n, seed=seed), "sampler": how}


def evaluate_samples(path, dataset: str = "fashion-mnist", n: int = 10000) -> dict:
    """Score a .npy file of uint8 N x 28 x 28 images, from any model, against the test set."""
    return {"samples_file": str(path), **sample_quality(load_samples(path), dataset, n=n, what=str(path))}


# ---------------------------------------------------------------- the reference set's features, cached

@dataclass
class Reference:
    features: Features
    radii: torch.Tensor  # squared k-NN radii of the reference set
    description: str


_MEMORY: dict = {}


def reference_features(net, meta: dict, dataset: str, n: int | None = None, data_dir=None,
                       download: bool = True) -> Reference:
    """The first n test images' features and k-NN radii: from memory, the disk cache, or computed."""
    test = load_splits(dataset, data_dir, download).test
    n = len(test) if n is None else min(int(n), len(test))
    key = f"{dataset}-test{n}-k{K_NEAREST}-v{_CACHE_VERSION}-{meta['weights_sha256'][:16]}"
    if key in _MEMORY:
        return _MEMORY[key]
    path = cache_root() / "quality" / f"{key}.pt"
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
        try:
            with atomic_path(path) as tmp:
                torch.save({"features": feats.features, "probs": feats.probs, "radii": ref.radii,
                            "description": ref.description}, tmp)
        except OSError:
            pass  # a read-only cache only costs time
    _MEMORY[key] = ref
    return ref


def _array_key(images: torch.Tensor) -> str:
    return hashlib.sha1(images.contiguous().numpy().tobytes()).hexdigest()


def sample_quality(samples, dataset: str = "fashion-mnist", reference=None, n: int | None = 10000,
                   kid_subsets: int = 100, seed: int = 0, data_dir=None, download: bool = True,
                   what: str = "samples") -> dict:
    """FID, KID, precision, recall and class spread of uint8 N x 28 x 28 `samples`.

    The reference is the dataset's test set (its first `n` images) unless `reference` (uint8
    images) is given. The feature network is the one shipped for `dataset`.
    """
    from latentspace.models.featurenet import load_feature_net

    samples = check_images(samples, what)
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
    out = compare(ref.features, fake, real_radii=ref.radii, kid_subsets=kid_subsets, seed=seed)
    out["reference"] = ref.description
    out["feature_net"] = f"{dataset} ({meta['weights_sha256'][:12]}, test accuracy {meta.get('test_accuracy')})"
    return out
