"""Samplers of a run, fitted once and kept: RUN/samplers/NAME/, reused while the run's checkpoint is the one
it was fitted for (its SHA-256), fitted again when the checkpoint changed; and `draw`, the one way every
command (generate, evaluate, the search, the study, compare, the explorer) turns a sampler into images.

Concurrent commands on one run (a compare's workers, an explorer beside an evaluate) fit a sampler once: the
fit holds a file lock in its folder.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from latentspace.errors import LatentspaceError
from latentspace.io import file_hash
from latentspace.models import spec_of
from latentspace.samplers import check_sampler, check_settings, get_sampler_spec
from latentspace.samplers.base import META_FILE, LatentSampler, read_meta

DECODE_BATCH = 1000  # every command decodes in batches of this size, so the same seed gives the same images


def sampler_dir(run, name: str) -> Path:
    return Path(run.path) / "samplers" / name


def checkpoint_sha256(model) -> str | None:
    """The hash of the checkpoint the model was loaded from (`runs.load_run` records it); None for a model
    that was not loaded from a run."""
    return file_hash(model.checkpoint_file) if model.checkpoint_file is not None else None


def training_images(model):
    """The training images of the run a model was loaded from."""
    from latentspace.data.images import run_splits

    if model.run is None:
        raise LatentspaceError("fitting a sampler needs the model's training images: load the model from its run "
                               "directory, or pass them")
    return run_splits(model.run.config()["train"]).train


def get_sampler(model, name: str | None = None, train=None, refit: bool = False, minutes: float | None = None,
                log: Callable[[str], None] | None = None, fit_learned: bool = True, **options) -> LatentSampler:
    """The sampler `name` (default: the model's own default) for `model`, ready to draw.

    A sampler that is fitted on codes is read from the model's run when it was fitted for this checkpoint,
    else fitted on `train` (training images, or a function giving them; default: the run's own) and saved
    in the run. `refit` fits it again whatever is saved (`fit-prior`); `minutes` bounds a learned one's fit.
    A model loaded from no run (in a notebook, a test) gets a fitted sampler that is not saved.

    A learned sampler that is not kept yet is fitted here too, with its default budget and a log line saying
    so (a VQ-VAE's `generate` or `evaluate` then simply works, and the prior is kept for the next command);
    with `fit_learned=False` (the explorer, where minutes of fitting would hold up every request) it is
    refused in one line naming `latentspace fit-prior`."""
    spec = spec_of(model)
    name = check_sampler(spec, name)
    sampler_spec = get_sampler_spec(name)
    cls = sampler_spec.sampler_class()
    if not sampler_spec.saved:
        return cls(model, **options)
    log = log or (lambda line: None)

    def fit() -> LatentSampler:
        if sampler_spec.learned and not fit_learned and not refit:
            where = f" {model.run.path}" if model.run is not None else ""
            raise LatentspaceError(f"the {sampler_spec.title} of this run is not fitted yet (minutes of training): "
                                   f"run `latentspace fit-prior{where or ' RUN'} --kind {name}` first")
        images = train() if callable(train) else train if train is not None else training_images(model)
        log(f"fitting the {sampler_spec.title} of {model.title()} on its training codes"
            + (f" ({minutes:g} minutes)" if minutes and sampler_spec.learned else ""))
        return cls(model, **options).fit(images, minutes=minutes, log=log)

    sha = checkpoint_sha256(model)
    if model.run is None or sha is None:
        return fit()
    from filelock import FileLock

    directory = sampler_dir(model.run, name)
    directory.mkdir(parents=True, exist_ok=True)
    with FileLock(str(directory / ".lock")):
        if not refit and (directory / META_FILE).is_file():
            meta = read_meta(directory)
            if meta.get("checkpoint_sha256") == sha and meta.get("sampler") == name and (
                    not options or meta.get("options") == cls(model, **options).options):
                return cls.load(directory, model)
            log(f"{directory}: fitted for another checkpoint or other options; fitting it again")
        sampler = fit()
        sampler.save(directory, checkpoint_sha256=sha)
        return sampler


@dataclass
class Drawn:
    images: np.ndarray          # uint8 N x H x W (grey) or N x H x W x 3
    latents: np.ndarray         # N x *latent_shape
    labels: np.ndarray | None   # the classes a conditional model drew (None: unconditional)
    description: str            # how they were drawn: "a 10-component Gaussian mixture on training codes"


def draw_classes(model, sampler=None) -> int:
    """How many classes samples are drawn for: a conditional model's, or else a class-conditional sampler's
    (a VQ-VAE's prior fitted with --conditional); 0 for none."""
    if model.conditional:
        return model.num_classes
    return int(getattr(sampler, "num_classes", 0) or 0)


def sample_labels(model, n: int, labels=None, sampler=None) -> torch.Tensor | None:
    """The classes to draw: None when neither the model nor the sampler is conditional; else `labels` (one class
    for all, or one per image), or every class in turn (0, 1, ..., K-1, 0, ...) so a set of samples is balanced."""
    k = draw_classes(model, sampler)
    if not k:
        if labels is not None:
            raise LatentspaceError(f"{model.title()} was trained without classes: --class needs a conditional run "
                                   f"(train it with --conditional) or a class-conditional prior (fit-prior "
                                   f"--conditional, where the sampler offers it)")
        return None
    if labels is None:
        return torch.arange(n) % k
    labels = torch.as_tensor(labels, dtype=torch.long).reshape(-1)
    if len(labels) == 1:
        labels = labels.expand(n)
    if model.conditional:
        return model.check_labels(labels, n).cpu()
    if len(labels) != n:
        raise LatentspaceError(f"{len(labels)} labels for {n} images")
    if len(labels) and (int(labels.min()) < 0 or int(labels.max()) >= k):
        raise LatentspaceError(f"class out of range 0..{k - 1}: {sorted(set(labels.tolist()))[:10]}")
    return labels


def checked_settings(model, sampler: str | LatentSampler | None, settings: dict | None) -> dict:
    """`settings` checked against the sampling options of `sampler` (a name, None for the model's default, or a
    sampler): typed, or a one-line refusal naming the samplers that have them."""
    if not settings:
        return {}
    name = sampler.name if isinstance(sampler, LatentSampler) else check_sampler(spec_of(model), sampler)
    return check_settings(name, settings)


def draw(model, n: int, seed: int | None = 0, sampler: str | LatentSampler | None = None, labels=None,
         train=None, log: Callable[[str], None] | None = None, settings: dict | None = None) -> Drawn:
    """n images from a sampler of the model: the same images for the same run, sampler, seed, classes and
    `settings` (the sampler's sampling options, e.g. {"temperature": 0.8}; one it lacks is refused), whichever
    command asks. All latents are drawn first, then decoded in batches of DECODE_BATCH."""
    from latentspace.analysis.latents import decode_latents

    if n < 1:
        raise LatentspaceError(f"--n must be at least 1, got {n}")
    if seed is None:
        seed = int(np.random.default_rng().integers(2**31))
    settings = checked_settings(model, sampler, settings)  # before minutes of fitting
    if not isinstance(sampler, LatentSampler):
        sampler = get_sampler(model, sampler, train=train, log=log)
    classes = sample_labels(model, n, labels, sampler)
    with torch.no_grad():
        z = sampler.sample(n, torch.Generator().manual_seed(int(seed)), classes, **settings)
    z = z.reshape(n, *model.latent_shape).numpy()  # a sampler of flat codes draws a map-shaped latent too
    c = classes.numpy() if classes is not None else None
    description = sampler.description + (" (" + ", ".join(f"{k} {v:g}" for k, v in settings.items()) + ")"
                                         if settings else "")
    return Drawn(decode_latents(model, z, DECODE_BATCH, labels=c if model.conditional else None), z, c, description)
