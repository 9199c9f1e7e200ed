"""Figures of latent spaces: class-coloured maps (study fig. 2, 7), decoded lattices beside them (fig. 4, 8).

Maps of an unlabelled set (no classes, every label -1) draw every point in one colour, named "unlabelled"."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from latentspace.figures.plots import (
    image_grid,
    image_size,
    plt,
    save,
    show_image,
    span_inches,
)

METHOD_NAMES = {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}
PANEL_NAMES = {"mu": "μ", "logvar": "log σ²", "z": "z"}
UNLABELLED = "unlabelled"  # the legend entry of a set without classes
UNLABELLED_COLOUR = "#4c72b0"


def axis_names(method: str, latent_dim: int) -> tuple[str, str]:
    if latent_dim <= 2:
        return "z[0]", "z[1]"
    name = {"pca": "PC"}.get(method, METHOD_NAMES.get(method, method))
    return f"{name} 1", f"{name} 2"


def centred_extent(bounds, steps: int) -> tuple[float, float, float, float]:
    """imshow extent that puts the centre of each decoded image on its latent value (half a step beyond)."""
    x0, x1, y0, y1 = bounds
    dx, dy = (x1 - x0) / max(steps - 1, 1) / 2, (y1 - y0) / max(steps - 1, 1) / 2
    return (x0 - dx, x1 + dx, y0 - dy, y1 + dy)


def scatter_classes(ax, points: np.ndarray, labels: np.ndarray, classes, size: float | None = None) -> None:
    """One colour per class (tab10, tab20 beyond ten), drawn in a shuffled order so no class hides the
    others, and a legend entry per class; an unlabelled set (no classes) in one colour named "unlabelled"."""
    points, labels = np.asarray(points), np.asarray(labels)
    order = np.random.default_rng(0).permutation(len(points))
    size = size if size is not None else max(1.0, min(12.0, 20000.0 / max(len(points), 1)))
    if classes:
        cmap = plt.get_cmap("tab10" if len(classes) <= 10 else "tab20")
        colors = cmap(labels[order] % cmap.N)
        entries = [(cmap(c % cmap.N), name) for c, name in enumerate(classes)]
    else:
        colors, entries = UNLABELLED_COLOUR, [(UNLABELLED_COLOUR, UNLABELLED)]
    ax.scatter(points[order, 0], points[order, 1], c=colors, s=size, linewidths=0, alpha=0.8, rasterized=True)
    for color, name in entries:  # legend entries, also for classes absent from a small sample
        ax.scatter([], [], color=color, s=25, label=name)


def plot_embedding(panels: dict[str, np.ndarray], labels: np.ndarray, classes, title: str, method: str,
                   latent_dim: int, path: Path) -> Path:
    """Class-coloured scatter, one panel per code (z; or μ, log σ², z for a VAE), legend of class names
    ("unlabelled" for a set without classes)."""
    n = len(panels)
    fig, axes = plt.subplots(1, n, figsize=(5.2 * n + 2.0, 5.0), squeeze=False)
    xlabel, ylabel = axis_names(method, latent_dim)
    for ax, (name, points) in zip(axes[0], panels.items()):
        scatter_classes(ax, points, labels, classes)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        if n > 1:
            ax.set_title(PANEL_NAMES.get(name, name))
    axes[0][-1].legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=8, frameon=False,
                       markerscale=1.2, title="class" if classes else None)
    how = "latent space as it is (2-D)" if latent_dim == 2 else f"{METHOD_NAMES.get(method, method)} map"
    fig.suptitle(f"{title}: {how} of {len(labels)} {'' if classes else UNLABELLED + ' '}test images")
    return save(fig, path)


def plot_lattice_beside_scatter(points: np.ndarray, labels: np.ndarray, classes, images: np.ndarray, steps: int,
                                bounds, title: str, path: Path) -> Path:
    """Left: the test codes of a 2-D space and the square decoded; right: the decoded lattice on the same axes,
    both panels as large as the lattice's images need."""
    x0, x1, y0, y1 = bounds
    panel = max(5.5, span_inches(steps, image_size(images), 0.55))
    fig, (left, right) = plt.subplots(1, 2, figsize=(2 * panel + 2.5, panel + 0.5),
                                      gridspec_kw={"width_ratios": [1, 1]})
    scatter_classes(left, points, labels, classes)
    left.plot([x0, x1, x1, x0, x0], [y0, y0, y1, y1, y0], "k--", lw=1, label="decoded square")
    left.set_xlabel("z[0]")
    left.set_ylabel("z[1]")
    left.set_title("test codes")
    left.legend(loc="upper left", bbox_to_anchor=(-0.02, -0.1), ncol=4, fontsize=7, frameon=False)
    show_image(right, image_grid(images, steps), extent=centred_extent(bounds, steps), aspect="auto")
    right.set_xlabel("z[0]")
    right.set_ylabel("z[1]")
    right.set_title(f"decoded {steps} x {steps} lattice")
    fig.suptitle(title)
    return save(fig, path)


def plot_lattice(images: np.ndarray, steps: int, extent, xlabel: str, ylabel: str, title: str, path: Path) -> Path:
    """A decoded steps x steps lattice with the latent values (extent: x0, x1, y0, y1) on its axes (traversals)."""
    side = span_inches(steps, image_size(images), 0.6)
    fig, ax = plt.subplots(figsize=(side + 1.5, side + 1.2))
    show_image(ax, image_grid(images, steps), extent=centred_extent(extent, steps), aspect="auto")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    return save(fig, path)
