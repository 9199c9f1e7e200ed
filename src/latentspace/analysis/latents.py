"""Walking a latent space: traversals, 2-D lattices, interpolations (arrays in, arrays out).

The functions here make latent vectors; `decode_latents` turns any of them into uint8 images.
Two traversals: `traverse` varies two dimensions on a lattice (study fig. 3b); `dimension_codes` varies
one dimension per row, the others fixed (the β sweep's fig. 9).
Lattices are laid out row by row as they are drawn: the first axis left to right, the second from top
(its largest value) to bottom, so a decoded lattice lines up with a scatter of the same space.
"""
from __future__ import annotations

import numpy as np
import torch

from latentspace.data.images import to_uint8
from latentspace.errors import LatentspaceError


def latent_ranges(latents: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(min, max) that each dimension takes over a set of codes (N x D)."""
    latents = np.asarray(latents)
    return latents.min(axis=0), latents.max(axis=0)


def lattice(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """len(ys)*len(xs) x 2 points: rows from the largest y down, x increasing along each row."""
    gx, gy = np.meshgrid(np.asarray(xs, dtype=np.float32), np.asarray(ys, dtype=np.float32)[::-1])
    return np.column_stack([gx.ravel(), gy.ravel()])


def traverse(z0: np.ndarray, dims: tuple[int, int], low: np.ndarray, high: np.ndarray, steps: int = 10) -> np.ndarray:
    """steps*steps copies of code z0 with dimension dims[0] (across) and dims[1] (down) set on a lattice
    over [low, high] of each; every other dimension keeps z0's value."""
    z0 = np.asarray(z0, dtype=np.float32).ravel()
    i, j = check_dims(dims, len(z0))
    if steps < 2:
        raise LatentspaceError(f"--steps must be at least 2, got {steps}")
    low, high = np.asarray(low).ravel(), np.asarray(high).ravel()
    points = lattice(np.linspace(low[i], high[i], steps), np.linspace(low[j], high[j], steps))
    out = np.repeat(z0[None], len(points), axis=0)
    out[:, i], out[:, j] = points[:, 0], points[:, 1]
    return out


def check_dims(dims, latent_dim: int) -> tuple[int, int]:
    if len(dims) != 2:
        raise LatentspaceError(f"--dims takes two dimensions i,j, got {len(dims)}")
    i, j = (int(d) for d in dims)
    for d in (i, j):
        if not 0 <= d < latent_dim:
            raise LatentspaceError(f"--dims: dimension {d} out of range for a latent space of size {latent_dim} "
                                   f"(0..{latent_dim - 1})")
    if i == j:
        raise LatentspaceError(f"--dims needs two different dimensions, got {i},{j}")
    return i, j


def square_bounds(points: np.ndarray) -> tuple[float, float, float, float]:
    """(x0, x1, y0, y1) of the smallest square centred on the points' bounding box that covers them all."""
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 2:
        raise LatentspaceError(f"a 2-D grid needs a 2-D latent space, got codes of shape {points.shape}")
    lo, hi = points.min(axis=0), points.max(axis=0)
    centre, half = (lo + hi) / 2, max(float((hi - lo).max()) / 2, 1e-6)
    return (float(centre[0] - half), float(centre[0] + half), float(centre[1] - half), float(centre[1] + half))


def grid(bounds: tuple[float, float, float, float], steps: int = 10) -> np.ndarray:
    """steps*steps x 2 points evenly over bounds (x0, x1, y0, y1), corners included."""
    x0, x1, y0, y1 = (float(b) for b in bounds)
    if steps < 2:
        raise LatentspaceError(f"--steps must be at least 2, got {steps}")
    if not (x0 < x1 and y0 < y1):
        raise LatentspaceError(f"--bounds x0,x1,y0,y1 needs x0 < x1 and y0 < y1, got {x0},{x1},{y0},{y1}")
    return lattice(np.linspace(x0, x1, steps), np.linspace(y0, y1, steps))


def lerp(z0: np.ndarray, z1: np.ndarray, steps: int = 10) -> np.ndarray:
    """steps codes on the straight line from z0 to z1, both ends included."""
    z0, z1 = np.asarray(z0, np.float64).ravel(), np.asarray(z1, np.float64).ravel()
    t = np.linspace(0.0, 1.0, check_steps(steps))[:, None]
    return ((1 - t) * z0 + t * z1).astype(np.float32)


def slerp(z0: np.ndarray, z1: np.ndarray, steps: int = 10) -> np.ndarray:
    """steps codes on the great circle from z0 to z1 (norm interpolated linearly): for Gaussian latents,
    where the straight line passes through the improbable low-norm centre."""
    z0, z1 = np.asarray(z0, np.float64).ravel(), np.asarray(z1, np.float64).ravel()
    t = np.linspace(0.0, 1.0, check_steps(steps))[:, None]
    n0, n1 = np.linalg.norm(z0), np.linalg.norm(z1)
    if n0 < 1e-12 or n1 < 1e-12:
        return lerp(z0, z1, steps)
    u0, u1 = z0 / n0, z1 / n1
    omega = np.arccos(np.clip(u0 @ u1, -1.0, 1.0))
    if omega < 1e-6:
        return lerp(z0, z1, steps)
    direction = (np.sin((1 - t) * omega) * u0 + np.sin(t * omega) * u1) / np.sin(omega)
    return (direction * ((1 - t) * n0 + t * n1)).astype(np.float32)


def check_steps(steps: int) -> int:
    if steps < 2:
        raise LatentspaceError(f"--steps must be at least 2, got {steps}")
    return int(steps)


def swap_cells(z0: np.ndarray, z1: np.ndarray, steps: int = 10, seed: int = 0) -> np.ndarray:
    """steps grids of code indices (flattened, steps x D) from z0 to z1 for discrete latents, where no value lies
    between two codes: step t takes round(t * D) of its cells from z1 and the rest from z0, the cells switching
    in one seeded random order (both ends included)."""
    z0, z1 = np.asarray(z0).ravel().astype(np.int64), np.asarray(z1).ravel().astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(z0))
    out = np.repeat(z0[None], check_steps(steps), axis=0)
    for k, t in enumerate(np.linspace(0.0, 1.0, steps)):
        cells = order[: round(float(t) * len(z0))]
        out[k, cells] = z1[cells]
    return out


def interpolate(z0: np.ndarray, z1: np.ndarray, steps: int = 10, spherical: bool = False,
                discrete: bool = False) -> dict[str, np.ndarray]:
    """{"linear": steps x D} and, with spherical=True, {"spherical": steps x D} too; for code indices
    (`discrete`) {"cells": `swap_cells`}."""
    if discrete:
        return {"cells": swap_cells(z0, z1, steps)}
    out = {"linear": lerp(z0, z1, steps)}
    if spherical:
        out["spherical"] = slerp(z0, z1, steps)
    return out


@torch.no_grad()
def decode_latents(model, latents: np.ndarray, batch_size: int = 1000, labels: np.ndarray | None = None) -> np.ndarray:
    """N latents (N x *latent_shape) -> uint8 image arrays (N x H x W, or N x H x W x 3 for colour); `labels`
    (N class indices) for a conditional model."""
    latents = np.asarray(latents)
    shape = tuple(model.latent_shape)
    if latents.ndim == 2 and len(shape) > 1 and latents.shape[1] == model.latent_dim:
        latents = latents.reshape(len(latents), *shape)  # flattened latents (a JSON vector, a map's point)
    if latents.shape[1:] != shape:
        raise LatentspaceError(f"latents of shape {latents.shape[1:]} do not fit this model's latent shape {shape}")
    latents = latents.astype(np.int64 if model.spec.discrete else np.float32)
    if labels is not None:
        labels = torch.as_tensor(np.asarray(labels, dtype=np.int64))
        if len(labels) != len(latents):
            raise LatentspaceError(f"{len(labels)} labels for {len(latents)} latents")
    out = []
    for s in range(0, len(latents), batch_size):
        c = labels[s: s + batch_size] if labels is not None else None
        out.append(to_uint8(model.decode(torch.from_numpy(latents[s: s + batch_size]).to(model.device), c)))
    if not out:
        c, h, w = model.image_shape
        return np.zeros((0, h, w) if c == 1 else (0, h, w, c), np.uint8)
    return np.concatenate(out)


def traversal_values(span: float, steps: int) -> np.ndarray:
    """`steps` evenly spaced values from -span to +span (σ of the prior N(0, 1))."""
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    return np.linspace(-span, span, steps) if steps > 1 else np.zeros(1)


def dimension_codes(code: np.ndarray, dims: list[int], values: np.ndarray) -> np.ndarray:
    """Codes for a traversal by rows: row i sets dimension dims[i] of `code` to each of `values` in turn,
    every other dimension kept. Returns len(dims) x len(values) x D."""
    code = np.asarray(code, dtype=np.float32).reshape(-1)
    values = np.asarray(values, dtype=np.float32)
    out = np.repeat(np.repeat(code[None, None, :], len(dims), 0), len(values), 1)
    for i, d in enumerate(dims):
        if not 0 <= d < len(code):
            raise ValueError(f"dimension {d} out of range for a {len(code)}-dimensional code")
        out[i, :, d] = values
    return out
