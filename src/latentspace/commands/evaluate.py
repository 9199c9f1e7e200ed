"""`latentspace evaluate`: every metric that applies to a run's model (merged into RUN/evaluation.json), or
the sample metrics of a file of images.

Which metrics apply is read from the model's spec: reconstruction (MSE, PSNR, SSIM) with an encoder (of the
first `encode_limit` test images where the spec sets one: encoding costs an ODE solve there), the ELBO terms
with a Gaussian posterior, and sample quality for any model that can sample, in one of two feature spaces:
- `ours` (the default): FID, KID, precision/recall and class spread in our own metric network's features,
  the yardstick that means something on this data;
- `inception`: FID and KID in InceptionV3 pool features with the literature's protocol
  (`analysis.inception.PROTOCOL`), the numbers papers report, keys `inception_fid`, `inception_kid`.
The scoring itself, and the cache of the test set's features, is `analysis.scoring`'s.

Our feature network is the one built for the dataset's identity (`Splits.identity`, see
`models.featurenet`); where there is none, `evaluate` refuses in one line before any work: naming
`latentspace feature-net --dataset D` for a labelled set, `--features inception` for an unlabelled one.
"""
from __future__ import annotations

import numpy as np
import torch

from latentspace.analysis.quality import load_samples
from latentspace.analysis.reconstruction import elbo_terms, reconstruction_metrics
from latentspace.analysis.scoring import copy_metrics, inception_quality, sample_quality
from latentspace.config import Bounds
from latentspace.data.images import load_splits, run_splits
from latentspace.errors import LatentspaceError
from latentspace.io import merge_json
from latentspace.models import spec_of
from latentspace.runs import load_run
from latentspace.samplers.store import draw
from latentspace.training.tracking import log_evaluation

FEATURES = ("ours", "inception")
N_SAMPLES = Bounds(int, minimum=0)  # samples drawn (0: no sample metrics)


def evaluate_run(path, n: int = 10000, features: str = "ours", sampler: str | None = None,
                 sampling: dict | None = None, floor: bool = True, log=None, settings: dict | None = None) -> dict:
    """Every metric that applies to the run's model, merged into RUN/evaluation.json (sample metrics under keys
    of their own for a sampler other than the model's default, or with sampling `settings` of the sampler:
    `fid@flow`, `fid@temperature=0.9`, `fid@autoregressive,temperature=0.9`, ...)."""
    N_SAMPLES.check(n, "--n")
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
                                 floor=floor, log=log, figures=run.figures, settings=settings)
        tags = ([sampler] if sampler is not None and sampler != spec.default_sampler else []) + \
            [f"{k}={v:g}" for k, v in sorted((settings or {}).items()) if v is not None]
        if tags:
            metrics = {f"{k}@{','.join(tags)}": v for k, v in metrics.items()}
        results.update(metrics)
    elif settings:
        raise LatentspaceError(f"{', '.join('--' + k.replace('_', '-') for k in settings)}: sampling settings need "
                               f"sample metrics (--n above 0, a model that samples)")
    merge_json(run.path / "evaluation.json", results)
    log_evaluation(run, results)  # into the run's MLflow run, when it has one
    return results


def sample_metrics(model, splits, n: int = 10000, seed: int = 0, features: str = "ours", sampler: str | None = None,
                   floor: bool = True, log=None, figures=None, settings: dict | None = None) -> dict:
    """Sample quality of n samples of the model (drawn by `sampler`, default its own) against the test set, in
    `features` (FEATURES); the seconds it took to draw 1,000 of them; in our features, the copy check (the
    share of samples closer to a training image than any other training image is to it, beside the test
    set's own share; with `figures`, a directory, the closest pairs drawn in it as nearest.png); and, for a
    model with an encoder, the floor: the same metrics of the reconstructions of n training images, which no
    sampler can beat (its codes would be distributed exactly as the training codes), with the share of the
    gap above it that the sampler causes.
    An invertible model (`spec.invertible`) has none: its reconstructions are the training images themselves, so
    their score is the data's own, the same for every model, and would blame the whole gap on its prior."""
    import time

    from latentspace.samplers.store import checked_settings, get_sampler

    settings = checked_settings(model, sampler, settings)  # refused before a sampler is fitted
    chosen = get_sampler(model, sampler, train=splits.train, log=log)  # fitted before the clock starts
    t0 = time.perf_counter()
    drawn = draw(model, n, seed, chosen, settings=settings)
    seconds = time.perf_counter() - t0
    score = inception_quality if _check_features(features) == "inception" else sample_quality
    out = {**score(drawn.images, splits.name, n=n, seed=seed, splits=splits), "sampler": drawn.description,
           "sample_seconds_per_1000": round(seconds / len(drawn.images) * 1000, 3)}
    if features == "ours":
        if drawn.labels is not None:
            out.update(class_quality(drawn.images, drawn.labels, splits, n))
        other = sampler if sampler not in (None, spec_of(model).default_sampler) else None
        out.update(copies(drawn.images, splits, seed, figures, other, model.title()))
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
    from latentspace.analysis.quality import asked_classes, check_images
    from latentspace.analysis.scoring import feature_net, features_of, reference_features

    net, meta = feature_net(splits.name, splits)
    ref = reference_features(net, meta, splits.name, n, splits=splits)
    fake = features_of(net, meta, check_images(samples, "samples", net.arch.image_shape))
    labels = splits.test.labels[:len(ref.features.features)]
    return asked_classes(ref.features, labels, fake, torch.as_tensor(asked), tuple(splits.classes))


def copies(images, splits, seed: int, figures=None, sampler: str | None = None, title: str = "samples") -> dict:
    """The copy check of drawn images against the training images (`analysis.scoring.copy_metrics`); with
    `figures`, its closest pairs as figures/nearest.png (nearest-SAMPLER.png for another sampler than the
    model's own), named in the result."""
    metrics, check, index = copy_metrics(images, splits, seed=seed, dataset=splits.name)
    if figures is not None and check is not None:
        from pathlib import Path

        from latentspace.figures.memorisation import nearest_pairs_figure

        path = Path(figures) / (f"nearest-{sampler}.png" if sampler else "nearest.png")
        test = metrics["copy_share_test"]
        nearest_pairs_figure(images, splits.train.arrays(index), check, path,
                             f"{title}: samples nearest to a training image; copies {metrics['copy_share']:.1%}"
                             + (f" (held-out test images: {test:.1%})" if test is not None else ""))
        metrics["nearest_figure"] = str(path)
    return metrics


def reconstructions(model, images, n: int, seed: int = 0) -> np.ndarray:
    """uint8 reconstructions of a seeded sample of n of `images` (decoded codes): what the floor is measured on."""
    from latentspace.analysis.encode import encode_images
    from latentspace.analysis.latents import decode_latents
    from latentspace.data.images import seeded_subset

    subset = images.subset(torch.from_numpy(seeded_subset(len(images), n, seed)))
    codes = encode_images(model, subset, seed=seed)["latent"]
    return decode_latents(model, codes, labels=subset.labels.numpy() if model.conditional else None)


def evaluate_samples(path, dataset: str = "fashion-mnist", n: int = 10000, features: str = "ours", data_dir=None,
                     download: bool = True, image_size: int | None = None, channels: int | None = None) -> dict:
    """Score a .npy file of uint8 images, from any model, against the dataset's test set (read from `data_dir`
    when given, at `image_size` and `channels` when given: the shape the samples must have; n None: all)."""
    if n is not None:
        N_SAMPLES.check(n, "--n")
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
