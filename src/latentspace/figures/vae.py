"""VAE figures: KL per latent dimension, and the β sweep's traversal blocks (study fig. 9)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from latentspace.figures.plots import (
    cell_centres,
    grid_pad,
    image_grid,
    image_inches,
    image_size,
    plt,
    save,
    show_image,
)


def plot_kl_per_dim(kl_per_dim: np.ndarray, title: str, path: Path, threshold: float = 0.01) -> Path:
    """Bar chart of the mean KL of each dimension; bars above `threshold` (active units) coloured."""
    kl = np.asarray(kl_per_dim, dtype=float)
    active = kl > threshold
    fig, ax = plt.subplots(figsize=(max(4.0, 0.35 * len(kl) + 1.5), 3.6))
    ax.bar(np.arange(len(kl)), kl, color=np.where(active, "C0", "0.7"))
    ax.axhline(threshold, color="C3", ls="--", lw=1, label=f"active above {threshold:g} nats")
    ax.set_xticks(np.arange(len(kl)))
    ax.set_xticklabels([str(i) for i in range(len(kl))], fontsize=8 if len(kl) <= 32 else 5)
    ax.set_xlabel("latent dimension")
    ax.set_ylabel("mean KL (nats)")
    ax.set_title(f"{title}\n{int(active.sum())} of {len(kl)} active, total {kl.sum():.2f} nats", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    return save(fig, path)


def plot_beta_traversals(blocks: list[dict], values: np.ndarray, original: np.ndarray, title: str,
                         path: Path) -> Path:
    """One block per β, side by side: rows = the β's most active dimensions, columns = the values given
    to that dimension, every other dimension at the image's μ. The original image is drawn on the left.

    Each block: {"beta": float, "dims": [int], "kl": [float] (of those dims), "images": k x S x H x W uint8,
    or k x S x H x W x 3 for colour}; `original` is H x W (x 3). Each image is drawn at `image_inches`.
    """
    values = np.asarray(values)
    n = len(blocks)
    k = max(len(b["dims"]) for b in blocks)
    s = len(values)
    size = image_size(original, batch=False)
    inches = image_inches(size, 0.55)
    width_ratios = [1.2] + [s] * n
    fig, axes = plt.subplots(1, n + 1, figsize=(1.6 + n * (inches * s + 1.2), 1.13 * inches * k + 1.6),
                             gridspec_kw={"width_ratios": width_ratios}, squeeze=False)
    axes = axes[0]
    ax0 = axes[0]
    show_image(ax0, original)
    ax0.set_title("test image", fontsize=9)
    ax0.set_xticks([])
    ax0.set_yticks([])
    pad = grid_pad(size)
    for ax, block in zip(axes[1:], blocks):
        imgs = np.asarray(block["images"])
        kk, ss, h, w = imgs.shape[:4]
        show_image(ax, image_grid(imgs.reshape(kk * ss, *imgs.shape[2:]), ss, pad=pad))
        ax.set_xticks(cell_centres(ss, w, pad))
        ax.set_xticklabels([f"{v:+.1f}" for v in values], fontsize=7, rotation=90)
        ax.set_yticks(cell_centres(kk, h, pad))
        ax.set_yticklabels([f"z{d} ({kl:.2f})" for d, kl in zip(block["dims"], block["kl"])], fontsize=8)
        ax.set_xlabel("value of the dimension")
        ax.set_ylabel("dimension (mean KL, nats)")
        ax.set_title(f"β = {block['beta']:g}")
        for sp in ax.spines.values():
            sp.set_visible(False)
    fig.suptitle(title)
    fig.tight_layout()
    return save(fig, path)
