"""`latentspace evaluate`: every metric that applies to a run's model (merged into RUN/evaluation.json), or
the sample metrics of a file of images.

Which metrics apply is read from the model's spec: reconstruction (MSE, PSNR, SSIM) with an encoder (of the
first `encode_limit` test images where the spec sets one: encoding costs an ODE solve there), the ELBO terms
with a Gaussian posterior, and sample quality for any model that can sample, in one of two feature spaces:
- `ours` (the default): FID, KID, precision/recall and class spread in our own metric network's features,
  the yardstick that means something on this data;
- `inception`: FID and KID in InceptionV3 pool features with the literature's protocol
  (`analysis.inception.PROTOCOL`), the numbers papers report, keys `inception_fid`, `inception_kid`.
The test set's features are cached per process and on disk (in the cache directory), keyed by the network's
weights (and, for Inception, the protocol and N).

Our feature network is the one built for the dataset's identity (`Splits.identity`, see
`models.featurenet`); where there is none, `evaluate` refuses in one line before any work: naming
`latentspace feature-net --dataset D` for a labelled set, `--features inception` for an unlabelled one.
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
    load_samples,
)
from latentspace.analysis.reconstruction import elbo_terms, reconstruction_metrics
from latentspace.data.images import load_splits, run_splits
from latentspace.errors import LatentspaceError
from latentspace.io import atomic_path, cache_root, merge_json
from latentspace.models import spec_of
from latentspace.runs import load_run
from latentspace.samplers.store import draw
from latentspace.training.tracking import log_evaluation

_CACHE_VERSION = 2  # bump when the cached reference features or radii would be computed differently


FEATURES = ("ours", "inception")


def evaluate_run(path, n: int = 10000, features: str = "ours", sampler: str | None = None,
                 sampling: dict | None = None, floor: bool = True, log=None) -> dict:
    """Every metric that applies to the run's model, merged into RUN/evaluation.json (sample metrics under keys
    of their own for a sampler other than the model's default: `fid@flow`, ...)."""
    model, run = load_run(path, sampling=sampling)
    train = run.config()["train"]
    splits = run_splits(train)  # the images it was trained on: samplers are fitted on their codes
    spec = spec_of(model)
    sampling_ok = bool(n and spec.can_sample)
    if sampling_ok and _check_features(features) == "ours":
        from latentspace.models.featurenet import feature_net_for

        feature_net_for(splits)  # none for this dataset: one line, before minutes of work
    results = {}
    if spec.encoder:
        test = splits.test.head(spec.encode_limit)  # where encoding costs a sample's solve: its first images
        results.update(reconstruction_metrics(model, test))
        if len(test) < len(splits.test):
            results["reconstruction_images"] = len(test)
    if spec.gaussian_posterior:
        results.update(elbo_terms(model, splits.test))
    if sampling_ok:
        metrics = sample_metrics(model, splits, n, seed=train["seed"], features=features, sampler=sampler,
                                 floor=floor, log=log)
        if sampler is not None and sampler != spec.default_sampler:
            metrics = {f"{k}@{sampler}": v for k, v in metrics.items()}
        results.update(metrics)
    merge_json(run.path / "evaluation.json", results)
    log_evaluation(run, results)  # into the run's MLflow run, when it has one
    return results


def sample_metrics(model, splits, n: int = 10000, seed: int = 0, features: str = "ours", sampler: str | None = None,
                   floor: bool = True, log=None) -> dict:
    """Sample quality of n samples of the model (drawn by `sampler`, default its own) against the test set, in
    `features` (FEATURES); the seconds it took to draw 1,000 of them; and, for a model with an encoder, the floor:
    the same metrics of the reconstructions of n training images, which no sampler can beat (its codes would
    be distributed exactly as the training codes), with the share of the gap above it that the sampler causes.
    An invertible model (`spec.invertible`) has none: its reconstructions are the training images themselves, so
    their score is the data's own, the same for every model, and would blame the whole gap on its prior."""
    import time

    from latentspace.samplers.store import get_sampler

    chosen = get_sampler(model, sampler, train=splits.train, log=log)  # fitted before the clock starts
    t0 = time.perf_counter()
    drawn = draw(model, n, seed, chosen)
    seconds = time.perf_counter() - t0
    score = inception_quality if _check_features(features) == "inception" else sample_quality
    out = {**score(drawn.images, splits.name, n=n, seed=seed, splits=splits), "sampler": drawn.description,
           "sample_seconds_per_1000": round(seconds / len(drawn.images) * 1000, 3)}
    if drawn.labels is not None and features == "ours":
        out.update(class_quality(drawn.images, drawn.labels, splits, n))
    # its FID only: the floor's KID and precision would cost as much again; an invertible model has none (its
    # reconstructions are the training images, whose score is the data's own)
    if floor and spec_of(model).encoder and not spec_of(model).invertible:
        recon = reconstructions(model, splits.train, n, seed)
        floor = (inception_quality(recon, splits.name, n=n, seed=seed, splits=splits, kid_subsets=1)
                 if features == "inception" else
                 sample_quality(recon, splits.name, n=n, seed=seed, splits=splits, fid_only=True))
        fid_key = "inception_fid" if features == "inception" else "fid"
        sample_fid, floor_fid = out[fid_key], floor[fid_key]
        out[f"floor_{fid_key}"] = floor_fid
        if sample_fid > 0:
            out["prior_share"] = round(max(0.0, sample_fid - floor_fid) / sample_fid, 4)
            out["decoder_share"] = round(min(sample_fid, floor_fid) / sample_fid, 4)
    return out


def class_quality(samples, asked, splits, n: int | None = None) -> dict:
    """A conditional model's samples against the classes they were asked for (`quality.asked_classes`), in our
    features; the reference is the test set's first n images, as for the FID."""
    from latentspace.analysis.quality import asked_classes
    from latentspace.models.featurenet import feature_net_for

    net, meta = feature_net_for(splits)
    ref = reference_features(net, meta, splits.name, n, splits=splits)
    fake = extract_features(net, check_images(samples, "samples", net.arch.image_shape), shape=net.arch.image_shape)
    labels = splits.test.labels[:len(ref.features.features)]
    return asked_classes(ref.features, labels, fake, torch.as_tensor(asked), tuple(splits.classes))


def reconstructions(model, images, n: int, seed: int = 0) -> np.ndarray:
    """uint8 reconstructions of a seeded sample of n of `images` (decoded codes): what the floor is measured on."""
    from latentspace.analysis.latents import decode_latents
    from latentspace.analysis.encode import encode_images
    from latentspace.data.images import seeded_subset

    subset = images.subset(torch.from_numpy(seeded_subset(len(images), n, seed)))
    codes = encode_images(model, subset, seed=seed)["latent"]
    return decode_latents(model, codes, labels=subset.labels.numpy() if model.conditional else None)


def evaluate_samples(path, dataset: str = "fashion-mnist", n: int = 10000, features: str = "ours", data_dir=None,
                     download: bool = True, image_size: int | None = None, channels: int | None = None) -> dict:
    """Score a .npy file of uint8 images, from any model, against the dataset's test set (read from `data_dir`
    when given, at `image_size` and `channels` when given: the shape the samples must have)."""
    splits = load_splits(dataset, data_dir, download, image_size=image_size, channels=channels)
    if _check_features(features) == "inception":
        return {"samples_file": str(path), **inception_quality(load_samples(path), dataset, n=n, what=str(path),
                                                               splits=splits)}
    from latentspace.models.featurenet import feature_net_for

    feature_net_for(splits)  # none for this dataset: one line, before reading the samples
    return {"samples_file": str(path), **sample_quality(load_samples(path), dataset, n=n, what=str(path),
                                                         splits=splits)}


def _check_features(features: str) -> str:
    if features not in FEATURES:
        raise LatentspaceError(f"--features must be one of {', '.join(FEATURES)}, got {features!r}")
    return features


# ---------------------------------------------------------------- the reference set's features, cached

@dataclass
class Reference:
    features: Features
    radii: torch.Tensor  # squared k-NN radii of the reference set
    description: str


_MEMORY: dict = {}


def reference_features(net, meta: dict, dataset: str, n: int | None = None, data_dir=None,
                       download: bool = True, splits=None) -> Reference:
    """The first n test images' features and k-NN radii: from memory, the disk cache, or computed. The test
    set is `splits.test` when given (keyed by `splits.identity`), else the named dataset's."""
    test = (splits if splits is not None else load_splits(dataset, data_dir, download)).test
    identity = splits.identity if splits is not None else dataset
    n = len(test) if n is None else min(int(n), len(test))
    key = f"{identity}-test{n}-k{K_NEAREST}-v{_CACHE_VERSION}-{meta['weights_sha256'][:16]}"
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
        feats = extract_features(net, test.images[:n], shape=net.arch.image_shape)
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
                   what: str = "samples", splits=None, fid_only: bool = False) -> dict:
    """FID, KID, precision, recall and class spread of uint8 `samples` (N x H x W for grey images, N x H x W x C).

    The reference is the dataset's test set (its first `n` images; `splits.test` when `splits` are given)
    unless `reference` (uint8 images) is given. The feature network is the one built for the dataset
    (`splits.identity`, or the registry dataset `dataset` at its own shape).
    """
    from latentspace.models.featurenet import feature_net_for, load_feature_net

    net, meta = feature_net_for(splits) if splits is not None else load_feature_net(dataset)
    shape = net.arch.image_shape
    samples = check_images(samples, what, shape)
    if reference is None:
        ref = reference_features(net, meta, dataset, n, data_dir, download, splits=splits)
    else:
        reference = check_images(reference, "reference", shape)
        key = f"array-{_array_key(reference)}-{meta['weights_sha256'][:16]}"
        if key not in _MEMORY:
            while len(_MEMORY) >= 16:  # a bounded cache: drop the oldest
                _MEMORY.pop(next(iter(_MEMORY)))
            feats = extract_features(net, reference, shape=shape)
            _MEMORY[key] = Reference(feats, knn_radii(feats.features), f"{len(reference)} given images")
        ref = _MEMORY[key]
    fake = extract_features(net, samples, shape=shape)
    if fid_only:
        return {"fid": fid(ref.features.features, fake.features)}
    out = compare(ref.features, fake, real_radii=ref.radii, kid_subsets=kid_subsets, seed=seed)
    out["reference"] = ref.description
    out["feature_net"] = f"{meta.get('dataset', dataset)} ({meta['weights_sha256'][:12]}, test accuracy {meta.get('test_accuracy')})"
    return out


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
    try:
        with np.load(path, allow_pickle=False) as saved:
            if str(saved["protocol"]) == I.PROTOCOL and saved["features"].shape == (n, I.FEATURE_DIM):
                return saved["features"].astype(np.float64), path
    except Exception:  # missing, damaged or made otherwise: computed again
        pass
    feats32 = I.inception_features(test.images[:n], device=_device()).astype(np.float32)
    feats = feats32.astype(np.float64)
    try:
        with atomic_path(path) as tmp:
            np.savez(tmp, features=feats32, mu=feats.mean(0), sigma=np.cov(feats, rowvar=False),
                     protocol=np.array(I.PROTOCOL), weights_sha256=np.array(I.weights_sha256()),
                     dataset=np.array(splits.name), n=np.array(n))
    except OSError:
        pass  # a read-only cache only costs time
    return feats, path


def inception_quality(samples, dataset: str = "fashion-mnist", n: int | None = 10000, seed: int = 0,
                      kid_subsets: int = 100, data_dir=None, download: bool = True, what: str = "samples",
                      splits=None) -> dict:
    """Inception FID and KID of uint8 samples against the first n test images, with a note on FID's bias at this
    N (KID is unbiased: compare it when N differs)."""
    from latentspace.analysis import inception as I

    real, path = inception_reference(dataset, n, data_dir, download, splits=splits)
    fake = I.inception_features(I.as_images(samples, what), device=_device())
    out = I.fid_kid_from_features(real, fake, kid_subsets=kid_subsets, seed=seed)
    return {"inception_fid": out["fid"], "inception_kid": out["kid"], "inception_kid_std": out["kid_std"],
            "inception_n_samples": len(fake), "inception_n_reference": len(real),
            "inception_protocol": I.PROTOCOL, "inception_note": I.bias_note(min(len(real), len(fake)))}


def _device():
    return "cuda" if torch.cuda.is_available() else "cpu"
