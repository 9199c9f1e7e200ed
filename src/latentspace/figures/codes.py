"""Figures of discrete latents (a grid of code indices): how much of the codebook is used, test images' code grids
beside their reconstructions, one grid cell swept over several codes, and a map of the code vectors."""
from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from latentspace.figures.plots import image_inches, save, show_image


def _epochs(metrics: dict) -> np.ndarray:
    return metrics.get("epoch", np.arange(len(next(iter(metrics.values()), [])))) + 1


def plot_codebook_use(metrics: dict[str, np.ndarray], counts: np.ndarray, title: str, path: Path) -> Path:
    """Three panels: the codes' perplexity per epoch (train, validation) under the codebook's size, the share of
    codes used per epoch, and the test set's code frequencies, most used first (log scale)."""
    counts = np.asarray(counts, dtype=np.float64)
    size = len(counts)
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    epochs = _epochs(metrics) if metrics else np.array([])
    for ax, key, label in ((axes[0], "code_perplexity", "perplexity (codes in equal use)"),
                           (axes[1], "codes_used", "share of codes used")):
        for stage, style in (("train", "-o"), ("val", "--s")):
            column = metrics.get(f"{stage}_{key}")
            if column is not None and np.isfinite(column).any():
                ax.plot(epochs, column, style, ms=3, label="train batches" if stage == "train" else "validation")
        ax.axhline(size if key == "code_perplexity" else 1.0, color="grey", lw=0.8, ls=":", label="whole codebook")
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    used = counts[counts > 0]
    freq = np.sort(counts)[::-1] / max(counts.sum(), 1)
    axes[2].bar(np.arange(size), np.where(freq > 0, freq, np.nan), width=1.0, color="C0")
    axes[2].axhline(1 / size, color="grey", lw=0.8, ls=":", label="uniform use")
    axes[2].set_yscale("log")
    axes[2].set_xlabel("codes, most used first")
    axes[2].set_ylabel("share of the test set's grid cells")
    axes[2].set_title(f"test set: {len(used)} of {size} codes used ({len(used) / size:.0%})", fontsize=10)
    axes[2].legend(fontsize=8)
    axes[2].grid(alpha=0.3)
    fig.suptitle(title)
    return save(fig, path)


def _draw_grid(ax, grid: np.ndarray, codebook_size: int) -> None:
    """A grid of code indices as an image (one colour per code, from a cyclic map so neighbours differ) with
    each index written in its cell."""
    h, w = grid.shape
    cmap = plt.get_cmap("tab20")
    ax.imshow(cmap(grid % 20), interpolation="nearest")
    size = max(3.0, min(7.0, 44.0 / max(h, w)))
    for i in range(h):
        for j in range(w):
            ax.text(j, i, str(int(grid[i, j])), ha="center", va="center", fontsize=size, color="black")


def _bare(ax) -> None:
    ax.set_xticks([])
    ax.set_yticks([])
    for s in ax.spines.values():
        s.set_visible(False)


def plot_code_grids(originals: np.ndarray, grids: np.ndarray, recons: np.ndarray, codebook_size: int, title: str,
                    path: Path, col_labels: list[str] | None = None) -> Path:
    """Per column one test image: the image, its grid of code indices (coloured, numbered) and its
    reconstruction from those codes."""
    n = len(originals)
    h, w = grids.shape[1:]
    inches = max(image_inches(originals.shape[1]), 0.3 * max(h, w))
    fig, axes = plt.subplots(3, n, figsize=(n * inches, 3 * inches + 0.6), squeeze=False)
    for j in range(n):
        show_image(axes[0][j], originals[j])
        _draw_grid(axes[1][j], grids[j], codebook_size)
        show_image(axes[2][j], recons[j])
        for i in range(3):
            _bare(axes[i][j])
        if col_labels:
            axes[0][j].set_title(col_labels[j], fontsize=8)
    for i, name in enumerate(("test image", f"code indices\n({h} x {w}, of {codebook_size})", "reconstruction")):
        axes[i][0].set_ylabel(name, rotation=0, ha="right", va="center", fontsize=9)
    fig.suptitle(title)
    return save(fig, path)


def plot_code_swap(rows: list[np.ndarray], codes: list[list[int]], cell: tuple[int, int], grid_shape: tuple,
                   title: str, path: Path, row_labels: list[str]) -> Path:
    """Each row: one image's reconstruction (first column), then the same grid with `cell` set to each of its
    row's `codes` in turn, decoded; the swept cell's area is outlined on every image."""
    ncol = max(len(r) for r in rows)
    size = rows[0].shape[1]
    inches = image_inches(size)
    h, w = grid_shape
    ci, cj = cell
    img_h, img_w = rows[0].shape[1:3]
    box = ((cj * img_w / w) - 0.5, (ci * img_h / h) - 0.5, img_w / w, img_h / h)
    fig, axes = plt.subplots(len(rows), ncol, figsize=(ncol * inches, len(rows) * (inches + 0.25) + 0.5),
                             squeeze=False)
    for i, row in enumerate(rows):
        for j in range(ncol):
            ax = axes[i][j]
            _bare(ax)
            if j >= len(row):
                continue
            show_image(ax, row[j])
            ax.add_patch(plt.Rectangle(box[:2], box[2], box[3], fill=False, ec="#d62728", lw=1.0))
            ax.set_title("as encoded" if j == 0 else f"code {codes[i][j - 1]}", fontsize=7)
        axes[i][0].set_ylabel(row_labels[i], rotation=0, ha="right", va="center", fontsize=9)
    fig.suptitle(title)
    return save(fig, path)


def plot_codebook_map(points: np.ndarray, labels: np.ndarray, usage: np.ndarray, classes, title: str,
                      xlabel: str, ylabel: str, path: Path) -> Path:
    """The code vectors in 2-D, each coloured by the class whose images use it most and sized by its use;
    unused codes as grey crosses."""
    points, labels, usage = np.asarray(points), np.asarray(labels), np.asarray(usage, dtype=np.float64)
    fig, ax = plt.subplots(figsize=(7.2, 5.0))
    used = usage > 0
    sizes = 6 + 60 * np.sqrt(usage / max(usage.max(), 1))
    if (~used).any():
        ax.scatter(points[~used, 0], points[~used, 1], marker="x", c="#999999", s=12, linewidths=0.8,
                   label="unused")
    cmap = plt.get_cmap("tab10" if len(classes) <= 10 else "tab20")
    if classes:
        for c, name in enumerate(classes):
            mine = used & (labels == c)
            ax.scatter(points[mine, 0], points[mine, 1], color=cmap(c % cmap.N), s=sizes[mine], alpha=0.8,
                       linewidths=0, label=name)
    else:
        ax.scatter(points[used, 0], points[used, 1], color="#4c72b0", s=sizes[used], alpha=0.8, linewidths=0,
                   label="used")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=8, frameon=False,
              title="class using it most" if classes else None)
    ax.set_title(title, fontsize=10)
    return save(fig, path)
