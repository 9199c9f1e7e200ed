"""Run directories: the only thing later steps need from training.

runs/NAME/
  config.json     model kind and config, training config, seed, dataset, image shape, class count (of a
                  conditional model), the parent run (of a second stage), versions, git commit
  checkpoints/    last.ckpt and best.ckpt (Lightning); weights load with weights_only=True
  metrics.csv     one row per epoch
  figures/        loss.png, reconstructions.png, ...
  summary.json    written last: a run without it is unfinished
  samplers/NAME/  samplers fitted on its codes (latentspace.samplers.store)
  embeddings/     2-D maps of its codes (`latentspace embed`; read by the explorer): `read_embedding`
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import subprocess
from dataclasses import dataclass
from pathlib import Path

from latentspace.errors import LatentspaceError
from latentspace.io import atomic_path, read_json


def environment() -> dict:
    """Package versions and git commit, recorded in every run so results can be traced."""
    import lightning
    import numpy
    import torch
    import torchmetrics

    from latentspace import __version__

    return {
        "latentspace": __version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "lightning": lightning.__version__,
        "torchmetrics": torchmetrics.__version__,
        "numpy": numpy.__version__,
        "platform": platform.platform(),
        "git_commit": git_commit(),
    }


def git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True,
                             text=True, timeout=5)
        return out.stdout.strip() or None if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


@dataclass(frozen=True)
class Run:
    """Paths inside one run directory."""
    path: Path

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def config_file(self) -> Path:
        return self.path / "config.json"

    @property
    def summary_file(self) -> Path:
        return self.path / "summary.json"

    @property
    def checkpoints(self) -> Path:
        return self.path / "checkpoints"

    @property
    def last_checkpoint(self) -> Path:
        return self.checkpoints / "last.ckpt"

    @property
    def best_checkpoint(self) -> Path:
        return self.checkpoints / "best.ckpt"

    @property
    def metrics_file(self) -> Path:
        return self.path / "metrics.csv"

    @property
    def figures(self) -> Path:
        return self.path / "figures"

    @property
    def progress_frames(self) -> Path:
        """figures/progress/epoch_NNN.png: a generator's fixed noise decoded after every epoch."""
        return self.figures / "progress"

    def checkpoint(self, which: str = "best") -> Path:
        """best.ckpt (when there is one and `which` is "best"), else last.ckpt: what load_run loads."""
        return self.best_checkpoint if which == "best" and self.best_checkpoint.is_file() else self.last_checkpoint

    @property
    def finished(self) -> bool:
        return self.summary_file.is_file()

    def config(self) -> dict:
        return read_json(self.config_file)

    def summary(self) -> dict:
        return read_json(self.summary_file)

    @property
    def parent(self) -> "Run | None":
        """The run this one was trained from (a second stage records it), or None."""
        parent = self.config().get("parent")
        return Run(Path(parent)) if parent else None


def default_run_path(stem: str, root: str | os.PathLike = "runs") -> Path:
    """runs/STEM-TIMESTAMP (STEM: `ModelSpec.run_name`, e.g. "ae-z20"), never an existing directory."""
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = Path(root) / f"{stem}-{stamp}"
    i = 1
    while path.exists():
        i += 1
        path = Path(root) / f"{stem}-{stamp}-{i}"
    return path


def open_run(path: str | os.PathLike, finished: bool = True) -> Run:
    """A run directory that exists and has a config; finished ones also have summary.json."""
    run = Run(Path(path))
    if not run.path.is_dir():
        raise LatentspaceError(f"{path}: no such run directory")
    if not run.config_file.is_file():
        raise LatentspaceError(f"{path}: not a run directory (no config.json)")
    try:
        cfg = run.config()
    except (OSError, json.JSONDecodeError) as e:
        raise LatentspaceError(f"{run.config_file}: unreadable ({e})") from None
    if not isinstance(cfg, dict) or "model" not in cfg:
        raise LatentspaceError(f"{run.config_file}: not a latentspace run config")
    if finished and not run.finished:
        raise LatentspaceError(f"{path}: the run did not finish (no summary.json); "
                               f"continue it with `latentspace train {cfg['model']} --resume --out {path}`")
    return run


def model_from_config(cfg: dict, sampling: dict | None = None):
    """A fresh model of the kind, config and class count recorded in a run's config.json, with `sampling`
    (settings the spec lists in `sampling_options`, e.g. ODE steps) replacing the recorded ones."""
    from latentspace.config import config_from_dict, validate_config
    from latentspace.models import MODELS

    spec = MODELS.get(cfg.get("model"))
    if spec is None:
        raise LatentspaceError(f"unknown model kind {cfg.get('model')!r} in run config (a model from another "
                               f"package? install it: models register through the latentspace.models entry points)")
    sampling = {k: v for k, v in (sampling or {}).items() if v is not None}
    foreign = sorted(set(sampling) - set(spec.sampling_options))
    if foreign:
        from latentspace.config import flag_name

        raise LatentspaceError(f"{', '.join(map(flag_name, foreign))}: a {spec.title} has no such sampling setting"
                               + (f" (it has {', '.join(map(flag_name, spec.sampling_options))})"
                                  if spec.sampling_options else ""))
    config = config_from_dict(spec.config_cls, {**cfg.get("model_config", {}), **sampling})
    validate_config(config)
    # runs from before image shapes: Fashion-MNIST's; from before classes: unconditional
    from latentspace.data.registry import STUDY_SHAPE

    return spec.build(config, cfg.get("image_shape", STUDY_SHAPE), cfg.get("num_classes", 0))


def load_weights(path: Path) -> dict:
    """A checkpoint's state_dict, loaded with weights_only=True (no arbitrary code from pickles)."""
    import torch

    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # a damaged or foreign file: say which one
        raise LatentspaceError(f"{path}: cannot load checkpoint ({type(e).__name__}: {e})") from None
    return ckpt.get("state_dict", ckpt)


def load_run(path: str | os.PathLike, checkpoint: str = "best", finished: bool = True, sampling: dict | None = None):
    """(model in eval mode, Run) for every later step: embed, generate, evaluate, classify, explore.
    `sampling` overrides the model's sampling settings for this use (see `model_from_config`)."""
    run = open_run(path, finished=finished)
    model = model_from_config(run.config(), sampling)
    ckpt = run.checkpoint(checkpoint)
    if not ckpt.is_file():
        raise LatentspaceError(f"{path}: no checkpoint in {run.checkpoints}")
    missing, unexpected = model.load_state_dict(load_weights(ckpt), strict=False)
    if missing:
        raise LatentspaceError(f"{ckpt}: checkpoint lacks {len(missing)} weights of the model, e.g. {missing[0]}")
    model.eval()
    model.run = run
    model.checkpoint_file = ckpt  # what its fitted samplers are keyed by (samplers.store)
    return model, run


# ---------------------------------------------------------------------- the latent maps kept in a run

def embedding_path(run: Run, method: str, split: str = "test") -> Path:
    """RUN/embeddings/METHOD.npz (the test split's map), or METHOD-SPLIT.npz."""
    return run.path / "embeddings" / (f"{method}.npz" if split == "test" else f"{method}-{split}.npz")


def read_embedding(path: Path) -> dict | None:
    """A latent map kept in a run (written by `latentspace embed`, read by it and by the explorer), or None
    when missing or unreadable. Its arrays (strings as str):

        points          N x 2 float32   the 2-D map
        labels          N int64         class of each point
        index           N int64         index of each point in the split (the test split for <method>.npz)
        latent          N x D float32   the latents that were projected, as vectors (`model.latent_vectors`; a
                                        Gaussian posterior's μ)
        checkpoint_sha  str             SHA-256 of the checkpoint the codes came from: the map is reused only
                                        while it matches
        method          str             pca | tsne | umap

    and, beside them: `split`, `params` (JSON of the projection's settings) and, for a model with a Gaussian
    posterior, the panels `points_logvar`, `latent_logvar`, `points_z`, `latent_z` (points/latent being μ).
    For discrete latents (a grid of code indices) `latent` holds each image's mean code vector, and the codebook
    is mapped too: `codebook_points` (K x 2, the projection of `codebook_vectors`, K x D), `codebook_usage` (K:
    how many of the split's grid cells use each code) and `codebook_labels` (K: the class whose images use it
    most; -1 for an unused code or an unlabelled set).
    """
    import numpy as np

    try:
        with np.load(path, allow_pickle=False) as f:
            return {k: (str(f[k]) if f[k].dtype.kind == "U" else f[k]) for k in f.files}
    except (OSError, ValueError, KeyError, EOFError):
        return None


def write_embedding(path: Path, data: dict) -> None:
    """Write a latent map (the arrays `read_embedding` describes) atomically: a reader never sees half a file."""
    import numpy as np

    with atomic_path(path) as tmp:
        np.savez(tmp, **{k: np.asarray(v) for k, v in data.items()})
