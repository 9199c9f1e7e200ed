"""The building blocks of every figure: saving, per-epoch curves, image grids, rows of images.

Every function that draws images takes image arrays as `data.images.to_uint8` gives them, grey
(N x H x W) or colour (N x H x W x 3), of any size: `is_colour` alone tells the two apart, `show_image`
draws either without blur, and sizes (`image_inches`, `span_inches`, `grid_pad`) follow the image size."""
from __future__ import annotations

from pathlib import Path

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from latentspace.data.images import display  # noqa: E402
from latentspace.io import CsvLog  # noqa: E402

GREY = {"cmap": "gray", "vmin": 0, "vmax": 255}  # grey images on a fixed scale: black is 0, white 255
DPI = 120  # `save`'s resolution: one inch of figure is 120 pixels of PNG


def save(fig, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI, bbox_inches="tight")
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


# ---------------------------------------------------------------------- images: grey or colour, any size

def is_colour(images, batch: bool = True) -> bool:
    """The one place that tells grey from colour images. Image arrays come as `data.images.to_uint8` gives
    them: grey N x H x W (one image: H x W), colour with a trailing axis of 3 (N x H x W x 3; H x W x 3)."""
    shape = np.shape(images)
    ndim = 3 if batch else 2
    if len(shape) == ndim:
        return False
    if len(shape) == ndim + 1 and shape[-1] == 3:
        return True
    what = "N x H x W (grey) or N x H x W x 3 (colour)" if batch else "H x W (grey) or H x W x 3 (colour)"
    raise ValueError(f"expected image arrays {what}, got shape {tuple(shape)}")


def image_size(images, batch: bool = True) -> int:
    """The larger side (pixels) of the images: what their drawn size and grid padding follow."""
    shape = np.shape(images)
    start = 1 if batch else 0
    return int(max(shape[start:start + 2]))


def show_image(ax, image, **kwargs):
    """imshow of one image array or grid of them: grey on the fixed 0-255 grey scale, colour as RGB, each
    pixel a sharp square (no interpolation blur when the figure scales the image up)."""
    style = {} if is_colour(image, batch=False) else GREY
    return ax.imshow(np.asarray(image), interpolation="nearest", **style, **kwargs)


def grid_pad(size: int) -> int:
    """Pixels between the images of a grid: 2 at 28 px, in proportion to the image size (at least 1)."""
    return max(1, round(size / 14))


def cell_centres(count: int, size: int, pad: int) -> list[float]:
    """Where the centres of `count` images of `size` pixels lie along one axis of an `image_grid`."""
    return [pad + j * (size + pad) + size / 2 for j in range(count)]


def image_inches(size: int, base: float = 1.0) -> float:
    """How large (inches) one image of `size` pixels is drawn: `base` at 28 px, growing as the square root
    of its size, so 16 px images are magnified more (not tiny) and 64 px ones less (not crammed)."""
    return base * float(np.sqrt(size / 28))


def span_inches(count: int, size: int, base: float, cap: float = 12.0) -> float:
    """Inches for `count` images of `size` pixels side by side: `image_inches` each, at most `cap` in all,
    yet never under one PNG pixel per image pixel (a capped grid of large images still shows every pixel)."""
    pad = grid_pad(size)
    return max(min(cap, count * image_inches(size, base)), (count * (size + pad) + pad) / DPI)


def image_grid(images: np.ndarray, nrow: int, pad: int | None = None, value: int = 255) -> np.ndarray:
    """Grey (N x H x W) or colour (N x H x W x 3) uint8 images tiled into one image (H' x W', or
    H' x W' x 3), `nrow` per row, on a background of `value` (white) that is `pad` pixels wide between
    images (by default `grid_pad` of the image size); as torchvision's make_grid."""
    colour = is_colour(images)
    x = np.asarray(images)
    x = x if colour else x[..., None]
    n, h, w, c = x.shape
    pad = grid_pad(max(h, w)) if pad is None else pad
    rows = -(-n // nrow)
    grid = np.full((rows * (h + pad) + pad, nrow * (w + pad) + pad, c), value, dtype=x.dtype)
    for i, img in enumerate(x):
        r, col = divmod(i, nrow)
        grid[pad + r * (h + pad): pad + r * (h + pad) + h, pad + col * (w + pad): pad + col * (w + pad) + w] = img
    return display(grid)


def plot_image_rows(rows: list[np.ndarray], row_labels: list[str], title: str, path: Path,
                    col_labels: list[str] | None = None) -> Path:
    """Rows of same-sized images (grey or colour), each row labelled on the left (originals above
    reconstructions...); each image drawn at `image_inches` of its size."""
    ncol = max(len(r) for r in rows)
    inches = image_inches(max(image_size(r) for r in rows if len(r)))
    top = 0.3 + 0.22 * title.count("\n") + (0.2 if col_labels else 0.0)  # inches above the images: title, labels
    fig, axes = plt.subplots(len(rows), ncol, figsize=(ncol * inches, len(rows) * inches + 0.2 + top), squeeze=False)
    fig.subplots_adjust(top=1 - top / fig.get_figheight())
    for i, row in enumerate(rows):
        for j in range(ncol):
            ax = axes[i][j]
            ax.set_xticks([])
            ax.set_yticks([])
            for s in ax.spines.values():
                s.set_visible(False)
            if j < len(row):
                show_image(ax, row[j])
            if j == 0:
                ax.set_ylabel(row_labels[i], rotation=0, ha="right", va="center", fontsize=9)
            if i == 0 and col_labels:
                ax.set_title(col_labels[j], fontsize=8)
    fig.suptitle(title)
    return save(fig, path)


def plot_grid_image(images: np.ndarray, nrow: int, title: str, path: Path, xlabel: str = "", ylabel: str = "",
                    extent=None) -> Path:
    """One tiled image grid as a figure with a title (samples, traversals, lattices), sized to its images."""
    size = image_size(images)
    ncols, nrows = nrow, -(-len(images) // nrow)
    fig, ax = plt.subplots(figsize=(span_inches(ncols, size, 0.6) + 1, span_inches(nrows, size, 0.6) + 1))
    show_image(ax, image_grid(images, nrow), extent=extent)
    if extent is None:
        ax.set_xticks([])
        ax.set_yticks([])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    return save(fig, path)
