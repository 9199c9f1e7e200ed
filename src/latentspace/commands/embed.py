"""`latentspace embed RUN`: a split's codes mapped to 2-D, cached in the run, and drawn.

The run keeps the map in `RUN/embeddings/<method>.npz` (its format: `runs.read_embedding`), which the
browser explorer reads too.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from latentspace.analysis.encode import encode_images, require_encoder
from latentspace.analysis.projection import METHODS, PARAMS, project
from latentspace.commands.options import SPLITS
from latentspace.data.images import ImageSet, run_splits, seeded_subset
from latentspace.errors import LatentspaceError
from latentspace.io import file_hash
from latentspace.models import spec_of
from latentspace.runs import embedding_path, load_run, read_embedding, write_embedding


def split_images(splits, split: str) -> ImageSet:
    if split not in SPLITS:
        raise LatentspaceError(f"unknown split {split!r}; choose {', '.join(SPLITS)}")
    return getattr(splits, split)


def embed_run(run_path, method: str, split: str = "test", n: int | None = None, seed: int = 0,
              n_jobs: int = -1) -> dict:
    """Load `RUN/embeddings/<method>.npz` when it matches the checkpoint, or compute and write it: of a seeded
    sample of n images, or the whole split (the first `spec.encode_limit` images where the spec sets one).

    Returns the cache's arrays plus `path`, `cached` (bool), `classes`, `title` and `panels`
    (name -> N x 2 points: {"mu", "logvar", "z"} for a Gaussian posterior, {"z"} otherwise).
    """
    if method not in METHODS:
        raise LatentspaceError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    if n is not None and n < 3:
        raise LatentspaceError(f"--n must be at least 3, got {n}")
    model, run = load_run(run_path)
    require_encoder(model, "a latent map")
    sha = file_hash(run.checkpoint())
    params = json.dumps({"seed": seed, **PARAMS[method]}, sort_keys=True)
    path = embedding_path(run, method, split)
    splits = run_splits(run.config()["train"])
    images = split_images(splits, split)
    limit = spec_of(model).encode_limit
    # a model whose encoding costs a sample's solve maps its first images unless told (those the explorer maps)
    index = seeded_subset(len(images), n, seed) if n is not None or limit is None else \
        np.arange(min(limit, len(images)), dtype=np.int64)
    data = read_embedding(path)
    cached = (data is not None and data.get("checkpoint_sha") == sha and data.get("params") == params
              and data.get("split", "test") == split and np.array_equal(data.get("index"), index))
    if not cached:
        subset = images.subset(torch.from_numpy(index))
        codes = encode_images(model, subset, seed=seed)
        data = {"points": project(codes["vector"], method, seed, n_jobs),
                "labels": subset.labels.numpy().astype(np.int64), "index": index, "latent": codes["vector"],
                "checkpoint_sha": sha, "method": method, "split": split, "params": params}
        if spec_of(model).gaussian_posterior:
            for key in ("logvar", "z"):
                data[f"latent_{key}"] = codes[key]
                data[f"points_{key}"] = project(codes[key], method, seed, n_jobs)
        if spec_of(model).discrete:
            data.update(codebook_map(model, codes["latent"], data["labels"], method, seed, n_jobs))
        write_embedding(path, data)
    panels = ({"mu": data["points"], "logvar": data["points_logvar"], "z": data["points_z"]}
              if "points_logvar" in data else {"z": data["points"]})
    return {**data, "path": path, "cached": cached, "classes": tuple(splits.classes), "title": model.title(),
            "latent_dim": int(model.latent_dim), "panels": panels}


def codebook_map(model, grids: np.ndarray, labels: np.ndarray, method: str, seed: int = 0, n_jobs: int = -1) -> dict:
    """The codebook's vectors mapped to 2-D, with each code's use in `grids` (N x h x w indices) and the class
    (of `labels`, one per grid) that uses it most."""
    with torch.no_grad():
        vectors = model.codebook_vectors().float().cpu().numpy()
    k = len(vectors)
    flat = grids.reshape(len(grids), -1)
    usage = np.bincount(flat.ravel(), minlength=k)
    majority = np.full(k, -1, np.int64)
    if len(labels) and labels.min() >= 0:
        per_class = np.zeros((k, int(labels.max()) + 1), np.int64)
        np.add.at(per_class, (flat.ravel(), np.repeat(labels, flat.shape[1])), 1)
        majority = np.where(usage > 0, per_class.argmax(1), -1)
    return {"codebook_points": project(vectors, method, seed, n_jobs), "codebook_vectors": vectors,
            "codebook_usage": usage.astype(np.int64), "codebook_labels": majority}


def embed_figure(run_path, method: str, split: str = "test", n: int | None = None, out=None) -> dict:
    """embed_run plus its figure (RUN/figures/embedding-<method>.png unless `out`)."""
    from latentspace.figures.latent import plot_embedding

    out = Path(out) if out else Path(run_path) / "figures" / f"embedding-{method}{'' if split == 'test' else '-' + split}.png"
    if out.suffix.lower() != ".png":
        raise LatentspaceError(f"--out {out}: the map is written as a .png figure")
    result = embed_run(run_path, method, split=split, n=n)
    title = result["title"].replace(" (", f" on {split} (", 1) if split != "test" else result["title"]
    if "codebook_points" in result:  # discrete latents: the images' mean code vectors, and the codebook itself
        from latentspace.figures.codes import plot_codebook_map
        from latentspace.figures.latent import METHOD_NAMES, axis_names

        title = f"{title}, mean code vectors"
        used = int((result["codebook_usage"] > 0).sum())
        names = axis_names(method, result["codebook_vectors"].shape[1])
        result["codebook_figure"] = plot_codebook_map(
            result["codebook_points"], result["codebook_labels"], result["codebook_usage"], result["classes"],
            f"{result['title']}: {METHOD_NAMES.get(method, method)} map of its {len(result['codebook_usage'])} code "
            f"vectors ({used} used by the {len(result['labels'])} {split} images mapped)", *names,
            out.with_name(out.stem + "-codebook.png"))
    result["figure"] = plot_embedding(result["panels"], result["labels"], result["classes"], title, method,
                                      result["latent_dim"], out)
    return result
