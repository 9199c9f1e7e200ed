"""`latentspace generate RUN`: new images from a run: traverse two latent dimensions, a 2-D lattice, samples from
a sampler (`--sampler`: the model's prior, a Gaussian mixture or a learned prior on its codes), interpolations.

A conditional run draws the class asked for (`--class NAME|INDEX`; every class in turn when none is asked);
traversals and interpolations from test images keep the first image's class, so they show what the code holds
beside the class. Sampling settings a model declares (`spec.sampling_options`: ODE steps, guidance) may be set
for this use only.

`generate_run` returns a dict of arrays and labels; `write_generated` turns it into a PNG figure or a uint8
.npy array of the images (N x H x W grey, N x H x W x 3 colour).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from latentspace.analysis import latents as G
from latentspace.analysis.encode import encode_images, require_encoder
from latentspace.commands.options import GENERATE_MODES as MODES
from latentspace.data.images import run_splits
from latentspace.errors import LatentspaceError
from latentspace.models import spec_of
from latentspace.runs import load_run
from latentspace.samplers.store import checked_settings, draw, draw_classes, get_sampler

ENDS = ("images", "samples")  # interpolate between: two test images (through the encoder) or two samples


def _image_label(images, k: int) -> str:
    return f"test image {k} ({images.classes[int(images.labels[k])]})" if images.labelled else f"test image {k}"


def _check_image(k: int, n: int, flag: str) -> int:
    if not 0 <= k < n:
        raise LatentspaceError(f"{flag} {k}: no such test image (0..{n - 1})")
    return k


def class_index(model, run, asked, sampler=None) -> int | None:
    """--class NAME or INDEX as a class index of the run's data; None when not asked. The class goes to a
    conditional model, or to a class-conditional `sampler` (a prior fitted with --conditional)."""
    if asked is None:
        return None
    if not draw_classes(model, sampler):
        raise LatentspaceError(f"--class: {model.title()} was trained without classes (train it with --conditional"
                               + (", or fit its prior with --conditional" if sampler is not None else "") + ")")
    classes = list(run_splits(run.config()["train"]).classes)
    text = str(asked).strip()
    if text in classes:
        return classes.index(text)
    if text.lstrip("-").isdigit() and 0 <= int(text) < len(classes):
        return int(text)
    raise LatentspaceError(f"--class {asked}: no such class; choose an index 0..{len(classes) - 1} or one of "
                           f"{', '.join(classes)}")


def generate_run(run_path, mode: str, dims=(0, 1), steps: int = 10, image: int = 0, bounds=None, n: int = 64,
                 src: int = 0, dst: int = 1, seed: int = 0, sampler: str | None = None, label=None,
                 sampling: dict | None = None, ends: str | None = None, log=None, settings: dict | None = None) -> dict:
    """Images of one generation mode: {"images": uint8 N x H x W (x 3 for colour), "title", "mode", ...layout}.
    `settings`: the sampler's sampling options (e.g. {"temperature": 0.8}) for prior samples."""
    if mode not in MODES:
        raise LatentspaceError(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}")
    if ends is not None and ends not in ENDS:
        raise LatentspaceError(f"--ends must be one of {', '.join(ENDS)}, got {ends!r}")
    model, run = load_run(run_path, sampling=sampling)
    spec = spec_of(model)
    title = model.title()
    draws = mode == "prior" or (mode == "interpolate" and (ends or ("images" if spec.encoder else "samples")) == "samples")
    if settings and not draws:
        raise LatentspaceError(f"{', '.join('--' + k.replace('_', '-') for k in settings)}: sampling settings are "
                               f"for --mode prior (and interpolate --ends samples)")
    settings = checked_settings(model, sampler, settings)  # refused before a sampler is fitted
    chosen = get_sampler(model, sampler, log=log) if draws else None
    k = class_index(model, run, label, chosen)
    of_class = f" of class {run_splits(run.config()['train']).classes[k]}" if k is not None else ""
    if mode == "prior":
        drawn = draw(model, n, seed, chosen, labels=None if k is None else [k], log=log, settings=settings)
        return {"mode": mode, "images": drawn.images, "latents": drawn.latents, "labels": drawn.labels,
                "nrow": int(np.ceil(np.sqrt(len(drawn.images)))),
                "title": f"{title}: {len(drawn.images)} samples{of_class} from {drawn.description}"}

    G.check_steps(steps)
    if mode == "interpolate":
        ends = ends or ("images" if spec.encoder else "samples")
        if ends == "samples":
            return _interpolate_samples(model, spec, steps, seed, chosen, k, title, of_class, log, settings)
    elif sampler is not None:
        raise LatentspaceError(f"--sampler: --mode {mode} walks the codes of test images; samplers draw for "
                               f"--mode prior (and interpolate --ends samples)")
    what = {"traverse": "a traversal from a test image", "grid": "a lattice over the test codes",
            "interpolate": "interpolating between test images"}[mode]
    if mode != "grid" or bounds is None:
        require_encoder(model, what)
    if mode in ("traverse", "grid") and (len(model.latent_shape) != 1 or spec.discrete):
        raise LatentspaceError(f"--mode {mode} varies dimensions of a code, and {title}'s latent is "
                               f"{'a grid of code indices' if spec.discrete else 'an image'} of shape "
                               f"{model.latent_shape}")
    if mode == "grid" and model.latent_dim != 2:
        raise LatentspaceError(f"--mode grid needs a 2-D latent space, this one has {model.latent_dim} dimensions "
                               f"(use --mode traverse --dims i,j)")
    if mode == "traverse":
        dims = G.check_dims(dims, model.latent_dim)
    if bounds is not None and len(bounds) != 4:
        raise LatentspaceError(f"--bounds takes x0,x1,y0,y1, got {len(bounds)} numbers")
    test = run_splits(run.config()["train"]).test
    if mode == "interpolate":
        _check_image(src, len(test), "--from")
        _check_image(dst, len(test), "--to")
        z = encode_images(model, test.subset([src, dst]), seed=seed)["latent"]
        labels = _held_class(model, test, src, k)
        # spherical too for codes meant to follow N(0, I), where the straight line crosses the unlikely centre
        paths = G.interpolate(z[0], z[1], steps, spherical=spec.prior == "normal", discrete=spec.discrete)
        rows = {name: G.decode_latents(model, zs, labels=_repeat(labels, len(zs))) for name, zs in paths.items()}
        return {"mode": mode, "rows": rows, "images": np.concatenate(list(rows.values())), "nrow": steps,
                "title": f"{title}: from {_image_label(test, src)} to {_image_label(test, dst)}{of_class}"}

    codes = encode_images(model, test, seed=seed)["latent"] if spec.encoder else None
    if mode == "traverse":
        _check_image(image, len(test), "--image")
        i, j = dims
        low, high = G.latent_ranges(codes)
        latents = G.traverse(codes[image], (i, j), low, high, steps)
        labels = _repeat(_held_class(model, test, image, k), len(latents))
        return {"mode": mode, "images": G.decode_latents(model, latents, labels=labels), "latents": latents,
                "nrow": steps, "dims": (i, j),
                "extent": (float(low[i]), float(high[i]), float(low[j]), float(high[j])),
                "title": f"{title}: dimensions {i} and {j} varied over the test range from "
                         f"{_image_label(test, image)}{of_class}"}
    # grid
    bounds = tuple(float(b) for b in bounds) if bounds is not None else G.square_bounds(codes)
    latents = G.grid(bounds, steps)
    labels = _repeat(_held_class(model, test, 0, k), len(latents))
    return {"mode": mode, "images": G.decode_latents(model, latents, labels=labels), "latents": latents,
            "nrow": steps, "bounds": bounds, "codes": codes, "labels": test.labels.numpy(), "classes": test.classes,
            "title": f"{title}: decoded lattice over [{bounds[0]:.2f}, {bounds[1]:.2f}] x "
                     f"[{bounds[2]:.2f}, {bounds[3]:.2f}]{of_class}"}


def _held_class(model, test, image: int, asked: int | None) -> int | None:
    """The class a conditional model decodes a walk from a test image with: the one asked, else the image's own."""
    if not model.conditional:
        return None
    return asked if asked is not None else int(test.labels[image])


def _repeat(label: int | None, n: int) -> np.ndarray | None:
    return None if label is None else np.full(n, label, dtype=np.int64)


def _interpolate_samples(model, spec, steps: int, seed: int, chosen, k, title: str, of_class: str, log,
                         settings=None) -> dict:
    """Between two latents drawn by the sampler (seeded): a GAN's or a flow model's two noises."""
    ends = draw(model, 2, seed, chosen, labels=None if k is None else [k], log=log, settings=settings)
    z0, z1 = (z.reshape(-1) for z in ends.latents)
    paths = G.interpolate(z0, z1, steps, spherical=spec.prior == "normal", discrete=spec.discrete)
    label = None if ends.labels is None or not model.conditional else int(ends.labels[0])
    rows = {name: G.decode_latents(model, zs.reshape(len(zs), *model.latent_shape), labels=_repeat(label, len(zs)))
            for name, zs in paths.items()}
    return {"mode": "interpolate", "rows": rows, "images": np.concatenate(list(rows.values())), "nrow": steps,
            "title": f"{title}: between two samples{of_class} from {chosen.description} (seed {seed})"}


def check_out(out) -> Path:
    out = Path(out)
    if out.suffix.lower() not in (".png", ".npy"):
        raise LatentspaceError(f"--out {out}: write a .png figure or a .npy array of images")
    return out


def write_generated(result: dict, out) -> Path:
    """`out` .npy: the images as they are (uint8 N x H x W, or N x H x W x 3); .png: the mode's figure."""
    out = check_out(out)
    if out.suffix.lower() == ".npy":
        out.parent.mkdir(parents=True, exist_ok=True)
        from latentspace.io import atomic_path

        with atomic_path(out) as tmp:
            np.save(tmp, np.ascontiguousarray(result["images"], dtype=np.uint8), allow_pickle=False)
        return out
    from latentspace.figures.latent import plot_lattice, plot_lattice_beside_scatter
    from latentspace.figures.plots import plot_grid_image, plot_image_rows

    mode, images, title = result["mode"], result["images"], result["title"]
    if mode == "prior":
        return plot_grid_image(images, result["nrow"], title, out, xlabel="sample", ylabel="sample")
    if mode == "interpolate":
        steps = result["nrow"]
        return plot_image_rows(list(result["rows"].values()), list(result["rows"]), title, out,
                               col_labels=[f"t={t:.2f}" for t in np.linspace(0, 1, steps)])
    if mode == "traverse":
        i, j = result["dims"]
        return plot_lattice(images, result["nrow"], result["extent"], f"z[{i}]", f"z[{j}]", title, out)
    if result["codes"] is None:
        return plot_lattice(images, result["nrow"], result["bounds"], "z[0]", "z[1]", title, out)
    return plot_lattice_beside_scatter(result["codes"], result["labels"], result["classes"], images, result["nrow"],
                                       result["bounds"], title, out)


def default_out(run_path, mode: str, dims=None) -> Path:
    suffix = f"-{dims[0]}-{dims[1]}" if mode == "traverse" and dims else ""
    return Path(run_path) / "figures" / f"generate-{mode}{suffix}.png"
