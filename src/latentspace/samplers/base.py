"""What every sampler shares: its options, fitting on a model's training codes, and its files.

A sampler is bound to one model. `fit(train)` fits it on the codes of the model's training images (a
seeded subset of at most `max_codes`), `sample(n, generator, labels)` draws n latents, and `save(dir)` /
`load(dir, model)` keep it as `sampler.json` (its options, what it was fitted on, the hash of its state)
beside `state.pt`, a dict of tensors written by torch.save and read with `weights_only=True`: loading a
sampler never runs code from its files (a run directory may come from anyone), and a file that is not
what was written is refused in one line.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from latentspace.errors import LatentspaceError
from latentspace.io import atomic_path, file_hash, read_json, write_json

STATE_FILE, META_FILE = "state.pt", "sampler.json"
FIT_SEED = 0  # the codes a sampler is fitted on, and its fit, are the same whichever samples are drawn later


class LatentSampler:
    """Base of the registry's samplers: a subclass sets `name`, fits in `fit_codes` and draws in `sample`."""

    name: str = ""
    max_codes: int | None = None  # fit on at most this many training codes (None: all of them)

    def __init__(self, model, **options):
        self.model = model
        self.options = options
        self.fit_info: dict = {}

    # ------------------------------------------------------------------ what a subclass writes

    def fit_codes(self, codes: np.ndarray, labels: np.ndarray | None, minutes: float | None,
                  log: Callable[[str], None]) -> None:
        """Fit on N training codes (N x *latent_shape) and their classes (None for unlabelled data)."""
        raise NotImplementedError

    def state(self) -> dict[str, torch.Tensor]:
        """Everything fitted, as tensors (saved with torch.save, loaded with weights_only=True)."""
        return {}

    def load_state(self, state: dict[str, torch.Tensor]) -> None:
        pass

    def sample(self, n: int, generator: torch.Generator, labels: torch.Tensor | None = None) -> torch.Tensor:
        """n latents (n x *latent_shape, on the CPU); the same for the same generator state. A sampler that declares
        sampling options (`SamplerSpec.sampling_options`) takes them as keyword arguments."""
        raise NotImplementedError

    @property
    def num_classes(self) -> int:
        """The classes a class-conditional sampler draws for (its `sample` then needs labels); 0: unconditional."""
        return 0

    @property
    def description(self) -> str:
        """How figures and reports say the samples were drawn."""
        from latentspace.samplers import get_sampler_spec

        return get_sampler_spec(self.name).title

    # ------------------------------------------------------------------ fitting and files

    def fit(self, train, minutes: float | None = None, log: Callable[[str], None] | None = None) -> "LatentSampler":
        """Fit on the codes of `train` (training images) within `minutes` where the sampler trains a network."""
        from latentspace.analysis.encode import encode_images
        from latentspace.data.images import seeded_subset

        log = log or (lambda line: None)
        t0 = time.time()
        subset = train.subset(torch.from_numpy(seeded_subset(len(train), self.max_codes, FIT_SEED)))
        codes = encode_images(self.model, subset, seed=FIT_SEED)["latent"]
        labels = subset.labels.numpy() if subset.labelled else None
        torch.manual_seed(FIT_SEED)
        self.fit_codes(codes, labels, minutes, log)
        self.fit_info = {"n_codes": int(len(codes)), "fit_seconds": round(time.time() - t0, 2),
                         **({"minutes": minutes} if minutes is not None else {}), **self.fit_info}
        return self

    def save(self, directory, checkpoint_sha256: str | None = None) -> Path:
        """state.pt, then sampler.json (written last: a folder without it holds no sampler)."""
        directory = Path(directory)
        with atomic_path(directory / STATE_FILE) as tmp:
            torch.save({k: v.detach().cpu().contiguous() for k, v in self.state().items()}, tmp)
        write_json(directory / META_FILE, {
            "sampler": self.name, "options": self.options, "fit": self.fit_info,
            "checkpoint_sha256": checkpoint_sha256, "state_sha256": file_hash(directory / STATE_FILE),
            "created": time.strftime("%Y-%m-%d %H:%M:%S")})
        return directory

    @classmethod
    def load(cls, directory, model) -> "LatentSampler":
        meta = read_meta(directory)
        sampler = cls(model, **meta.get("options", {}))
        sampler.fit_info = meta.get("fit", {})
        sampler.load_state(read_state(directory, meta))
        return sampler


def read_meta(directory) -> dict:
    path = Path(directory) / META_FILE
    try:
        meta = read_json(path)
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as e:
        raise LatentspaceError(f"{path}: unreadable sampler record ({e}); delete {Path(directory)} to fit it again") \
            from None
    if not isinstance(meta, dict) or not isinstance(meta.get("options", {}), dict) or "sampler" not in meta:
        raise LatentspaceError(f"{path}: not a sampler record; delete {Path(directory)} to fit it again")
    return meta


def read_state(directory, meta: dict) -> dict[str, torch.Tensor]:
    """state.pt as tensors: refused in one line unless it is the file its record names, read without running code."""
    path = Path(directory) / STATE_FILE
    if not path.is_file() or file_hash(path) != meta.get("state_sha256"):
        raise LatentspaceError(f"{path}: not the file this sampler was saved with (missing or changed since); "
                               f"delete {Path(directory)} to fit it again")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # a pickle with code, or a damaged file: never run, never a traceback
        raise LatentspaceError(f"{path}: cannot load sampler state ({type(e).__name__}); delete "
                               f"{Path(directory)} to fit it again") from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise LatentspaceError(f"{path}: not a sampler state (a dict of tensors)")
    return state
