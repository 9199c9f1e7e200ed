"""`latentspace generate RUN`: new images from a run: traverse two latent dimensions, a 2-D lattice, prior
samples (the one sampler: a Gaussian mixture on the codes of a model without a prior), interpolations.

`generate_run` returns a dict of arrays and labels; `write_generated` turns it into a PNG figure or a uint8
.npy array of the images (N x H x W grey, N x H x W x 3 colour).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from latentspace.analysis import latents as G
from latentspace.analysis.encode import encode_images, require_encoder
from latentspace.analysis.samplers import Sampler
from latentspace.commands.options import GENERATE_MODES as MODES
from latentspace.data.images import run_splits
from latentspace.errors import LatentspaceError
from latentspace.models import spec_of
from latentspace.runs import load_run


def _image_label(images, k: int) -> str:
    return f"test image {k} ({images.classes[int(images.labels[k])]})" if images.labelled else f"test image {k}"


def _check_image(k: int, n: int, flag: str) -> int:
    if not 0 <= k < n:
        raise LatentspaceError(f"{flag} {k}: no such test image (0..{n - 1})")
    return k


def generate_run(run_path, mode: str, dims=(0, 1), steps: int = 10, image: int = 0, bounds=None, n: int = 64,
                 src: int = 0, dst: int = 1, seed: int = 0, n_components: int = 10) -> dict:
    """Images of one generation mode: {"images": uint8 N x H x W (x 3 for colour), "title", "mode", ...layout}."""
    if mode not in MODES:
        raise LatentspaceError(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}")
    model, run = load_run(run_path)
    spec = spec_of(model)
    title = model.title()
    if mode == "prior":
        sampler = Sampler(model, lambda: run_splits(run.config()["train"]).train, n_components=n_components)
        images, latents = sampler.images(n, seed)
        return {"mode": mode, "images": images, "latents": latents, "nrow": int(np.ceil(np.sqrt(len(images)))),
                "title": f"{title}: {len(images)} samples from {sampler.description}"}

    G.check_steps(steps)
    what = {"traverse": "a traversal from a test image", "grid": "a lattice over the test codes",
            "interpolate": "interpolating between test images"}[mode]
    if mode != "grid" or bounds is None:
        require_encoder(model, what)
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
        # spherical too for codes meant to follow N(0, I), where the straight line crosses the unlikely centre
        paths = G.interpolate(z[0], z[1], steps, spherical=spec.prior == "normal")
        rows = {name: G.decode_latents(model, zs) for name, zs in paths.items()}
        return {"mode": mode, "rows": rows, "images": np.concatenate(list(rows.values())), "nrow": steps,
                "title": f"{title}: from {_image_label(test, src)} to {_image_label(test, dst)}"}

    codes = encode_images(model, test, seed=seed)["latent"] if spec.encoder else None
    if mode == "traverse":
        _check_image(image, len(test), "--image")
        i, j = dims
        low, high = G.latent_ranges(codes)
        latents = G.traverse(codes[image], (i, j), low, high, steps)
        return {"mode": mode, "images": G.decode_latents(model, latents), "latents": latents, "nrow": steps,
                "dims": (i, j), "extent": (float(low[i]), float(high[i]), float(low[j]), float(high[j])),
                "title": f"{title}: dimensions {i} and {j} varied over the test range from {_image_label(test, image)}"}
    # grid
    bounds = tuple(float(b) for b in bounds) if bounds is not None else G.square_bounds(codes)
    latents = G.grid(bounds, steps)
    return {"mode": mode, "images": G.decode_latents(model, latents), "latents": latents, "nrow": steps,
            "bounds": bounds, "codes": codes, "labels": test.labels.numpy(), "classes": test.classes,
            "title": f"{title}: decoded lattice over [{bounds[0]:.2f}, {bounds[1]:.2f}] x "
                     f"[{bounds[2]:.2f}, {bounds[3]:.2f}]"}


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
        np.save(out, np.ascontiguousarray(result["images"], dtype=np.uint8), allow_pickle=False)
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
