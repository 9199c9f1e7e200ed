"""The building blocks of every figure: saving, per-epoch curves, image grids, rows of images."""
from __future__ import annotations

from pathlib import Path

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from latentspace.io import CsvLog  # noqa: E402


def save(fig, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return path


def read_metrics(path: Path) -> dict[str, np.ndarray]:
    """metrics.csv (or any CsvLog) as columns of floats (empty cells as NaN)."""
    rows = CsvLog(path).rows()
    if not rows:
        return {}
    return {k: np.array([float(r[k]) if r.get(k) not in (None, "") else np.nan for r in rows]) for k in rows[0]}


def plot_curves(metrics: dict[str, np.ndarray], series: list[tuple[str, str]], title: str, path: Path,
                ylabel: str = "loss", logy: bool = False) -> Path:
    """Per-epoch curves; `series` pairs a train column with its validation column (drawn dashed)."""
    fig, ax = plt.subplots(figsize=(6, 4))
    epochs = metrics.get("epoch", np.arange(len(next(iter(metrics.values())))))
    for i, (train_col, val_col) in enumerate(series):
        color = f"C{i}"
        if train_col in metrics:
            ax.plot(epochs + 1, metrics[train_col], "-o", color=color, ms=3, label=train_col.replace("_", " "))
        if val_col in metrics:
            ax.plot(epochs + 1, metrics[val_col], "--s", color=color, ms=3, label=val_col.replace("_", " "))
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.set_ylabel(ylabel)
    if logy:
        ax.set_yscale("log")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    return save(fig, path)


def image_grid(images: np.ndarray, nrow: int, pad: int = 2, value: int = 255) -> np.ndarray:
    """N x H x W uint8 images tiled into one array, `nrow` images per row (torchvision's make_grid)."""
    images = np.asarray(images)
    n, h, w = images.shape
    rows = -(-n // nrow)
    grid = np.full((rows * (h + pad) + pad, nrow * (w + pad) + pad), value, dtype=images.dtype)
    for i, img in enumerate(images):
        r, c = divmod(i, nrow)
        grid[pad + r * (h + pad): pad + r * (h + pad) + h, pad + c * (w + pad): pad + c * (w + pad) + w] = img
    return grid


def plot_image_rows(rows: list[np.ndarray], row_labels: list[str], title: str, path: Path,
                    col_labels: list[str] | None = None) -> Path:
    """Rows of same-sized uint8 images, each row labelled on the left (originals above reconstructions...)."""
    ncol = max(len(r) for r in rows)
    fig, axes = plt.subplots(len(rows), ncol, figsize=(ncol * 1.0, len(rows) * 1.0 + 0.5), squeeze=False)
    for i, row in enumerate(rows):
        for j in range(ncol):
            ax = axes[i][j]
            ax.set_xticks([])
            ax.set_yticks([])
            for s in ax.spines.values():
                s.set_visible(False)
            if j < len(row):
                ax.imshow(row[j], cmap="gray", vmin=0, vmax=255)
            if j == 0:
                ax.set_ylabel(row_labels[i], rotation=0, ha="right", va="center", fontsize=9)
            if i == 0 and col_labels:
                ax.set_title(col_labels[j], fontsize=8)
    fig.suptitle(title)
    return save(fig, path)


def plot_grid_image(images: np.ndarray, nrow: int, title: str, path: Path, xlabel: str = "", ylabel: str = "",
                    extent=None) -> Path:
    """One tiled image grid as a figure with a title (samples, traversals, lattices)."""
    grid = image_grid(images, nrow)
    fig, ax = plt.subplots(figsize=(min(12, 0.6 * nrow + 1), min(12, 0.6 * (-(-len(images) // nrow)) + 1)))
    ax.imshow(grid, cmap="gray", vmin=0, vmax=255, extent=extent)
    if extent is None:
        ax.set_xticks([])
        ax.set_yticks([])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    return save(fig, path)
