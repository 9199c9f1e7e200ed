"""The Python API for notebooks: `import latentspace as ls`, then train, load, sample, measure and map.

    run = ls.train("vae", latent_dim=2, epochs=5)      # a run directory, as `latentspace train vae` leaves
    model = ls.load_run(run.path)                      # encode(x), decode(z), latent_dim; model.run
    images = ls.sample(model, 64, seed=0)              # uint8 images from the one sampler
    metrics = ls.evaluate(run.path, n=2000)            # what `latentspace evaluate` computes

Every function is a thin layer over the commands the CLI runs, so notebook and command line agree.
"""
from __future__ import annotations

import dataclasses
import os

from latentspace.errors import LatentspaceError


def train(kind: str, out=None, resume: bool = False, progress: bool = True, recipe: str = "fast", **options):
    """Train a model of `kind` into a run directory and return its `Run`.

    `options` are the model's hyperparameters (`latent_dim=2`, `beta=4`, ...) and the training settings
    (`epochs=5`, `batch_size=128`, `limit_train=5000`, `device="cuda"`, ...): the CLI's flags, with
    underscores. Unset ones take the model's own defaults: its fast recipe, or with `recipe="study"` the
    study's own settings (Adam at a constant 1e-3, 10 epochs at batch 256)."""
    from latentspace.models import get_spec
    from latentspace.training.config import TrainConfig
    from latentspace.training.trainer import fit

    spec = get_spec(kind)
    model_fields = {f.name for f in dataclasses.fields(spec.config_cls)}
    train_fields = {f.name for f in dataclasses.fields(TrainConfig)}
    unknown = sorted(set(options) - model_fields - train_fields)
    if unknown:
        raise LatentspaceError(f"unknown option(s) {', '.join(unknown)} for {kind}; model options: "
                               f"{', '.join(sorted(model_fields))}; training options: {', '.join(sorted(train_fields))}")
    if recipe != "fast" and recipe not in spec.recipes:
        raise LatentspaceError(f"unknown recipe {recipe!r} for {kind}; choose one of fast, {', '.join(spec.recipes)}")
    values = {**spec.recipes.get(recipe, {}), **options}
    model_config = spec.config_cls(**{k: v for k, v in values.items() if k in model_fields})
    train_config = TrainConfig(**{**spec.train_defaults, **{k: v for k, v in values.items() if k in train_fields}})
    return fit(kind, model_config, train_config, out=out, resume=resume, progress=progress,
               given=set(options) if resume else None)


def load_run(path, checkpoint: str = "best", **sampling):
    """The trained model of a run directory, in eval mode, with its `Run` as `model.run`. `sampling`: settings its
    spec lists in `sampling_options`, for this use (a flow model's `sample_steps=20, guidance=3`)."""
    from latentspace.runs import load_run as _load_run

    return _load_run(path, checkpoint=checkpoint, sampling=sampling)[0]


def sample(model, n: int, seed: int | None = 0, sampler: str | None = None, label=None, **settings):
    """n new images (uint8, N x H x W, or N x H x W x 3) from a model, or from the run directory at `model`,
    drawn by `sampler` (default: the model's own: its prior, a learned prior, or a Gaussian mixture on its
    training codes; see `latentspace.samplers`): the same samples `generate --mode prior` and `evaluate` draw
    for the same seed. `label`: the class index a conditional model (or class-conditional prior) draws (default:
    every class in turn); `settings`: the sampler's sampling options, e.g. temperature=0.8."""
    from latentspace.samplers.store import draw

    if isinstance(model, (str, os.PathLike)):
        model = load_run(model)
    return draw(model, n, seed, sampler, labels=None if label is None else [label], settings=settings).images


def evaluate(path, n: int = 10000, sampler: str | None = None, **sampling) -> dict:
    """Every metric that applies to the run's model (MSE/PSNR/SSIM, ELBO terms, FID/KID/precision/recall
    of n samples drawn by `sampler`, and their floor), also merged into RUN/evaluation.json. `sampling`: as for
    `load_run`, and a sampler's own sampling settings (e.g. temperature=0.8 for the autoregressive prior)."""
    from latentspace.commands.evaluate import evaluate_run
    from latentspace.samplers import SAMPLER_SETTINGS

    settings = {k: v for k, v in sampling.items() if k in SAMPLER_SETTINGS}
    return evaluate_run(path, n=n, sampler=sampler, settings=settings,
                        sampling={k: v for k, v in sampling.items() if k not in settings})


def embed(path, method: str = "pca", n: int | None = None) -> dict:
    """The test set's codes mapped to 2-D (`points`, `labels`, `latent`, ...), cached in RUN/embeddings."""
    from latentspace.commands.embed import embed_run

    return embed_run(path, method, n=n)
