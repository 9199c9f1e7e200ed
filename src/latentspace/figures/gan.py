"""The GAN's figures: per-epoch fixed-noise grids and their GIF (study fig. 11), losses and
discriminator outputs per step and per epoch (fig. 10), samples from fresh noise (fig. 12)."""
from __future__ import annotations

from pathlib import Path

import matplotlib.ticker
import numpy as np

from latentspace.figures.plots import (  # plots sets the Agg backend
    plot_grid_image,
    plt,
    save,
)


def progress_frame(images: np.ndarray, path: Path, epoch: int, title: str) -> Path:
    """The fixed-noise batch (uint8 image arrays, grey or colour) decoded after `epoch` (0-based), as one
    titled grid."""
    n = len(images)
    nrow = int(np.ceil(np.sqrt(n)))
    return plot_grid_image(images, nrow, f"{title}: fixed noise after epoch {epoch + 1}", path,
                           xlabel=f"{n} images from the same noise vectors every epoch")


def progress_gif(frames_dir: Path, path: Path, ms_per_frame: int = 400) -> Path | None:
    """One GIF frame per epoch, from figures/progress/epoch_NNN.png in epoch order (None if there are none);
    the frames are read as RGB, so colour images keep their colours (a palette of their own per frame)."""
    from PIL import Image

    frames = sorted(Path(frames_dir).glob("epoch_*.png"), key=lambda p: int(p.stem.split("_")[1]))
    if not frames:
        return None
    images = [Image.open(f).convert("RGB") for f in frames]
    size = images[0].size
    images = [im if im.size == size else im.resize(size) for im in images]
    path.parent.mkdir(parents=True, exist_ok=True)
    images[0].save(path, save_all=True, append_images=images[1:], duration=ms_per_frame, loop=0, optimize=False)
    return path


def smooth(values: np.ndarray, window: int) -> np.ndarray:
    """Centred moving average that ignores NaN and keeps the length (shorter windows at the ends)."""
    values = np.asarray(values, dtype=float)
    if window <= 1 or len(values) < 2:
        return values.copy()
    ok = np.isfinite(values)
    kernel = np.ones(window)
    total = np.convolve(np.where(ok, values, 0.0), kernel, mode="same")
    count = np.convolve(ok.astype(float), kernel, mode="same")
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / count


def epoch_means(epochs: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    keys = np.unique(epochs)
    return keys, np.array([np.nanmean(values[epochs == e]) if np.isfinite(values[epochs == e]).any() else np.nan
                           for e in keys])


# how the GAN's step outputs are named in the figure; other columns keep their own names
LOSS_LABELS = {"g_loss": "generator", "d_loss": "discriminator"}
OUTPUT_LABELS = {"d_real": "D(x): real images", "d_fake": "D(G(z)): generated"}


def step_loss_figure(s: dict[str, np.ndarray], title: str, path: Path, ylabel: str = "BCE loss") -> Path:
    """From per-step columns (epoch, batch, then what each step returned): the losses ("loss", *_loss) per step
    (raw, faint, and smoothed) and per epoch; a third panel with the other outputs per step (a GAN's D(x),
    D(G(z))) where there are any."""
    known = list(LOSS_LABELS)
    losses = sorted((c for c in s if c == "loss" or c.endswith("_loss")),
                    key=lambda c: (known.index(c) if c in known else len(known), c))
    outputs = [c for c in s if c not in ("epoch", "batch") and c not in losses]
    fig, axes = plt.subplots(1, 3 if outputs or not s else 2, figsize=(15 if outputs or not s else 10, 4))
    ax_step, ax_epoch = axes[:2]
    ax_d = axes[2] if len(axes) > 2 else None
    if s:
        step = np.arange(1, len(s["epoch"]) + 1)
        window = max(1, min(50, len(step) // 10))
        for i, col in enumerate(losses):
            label, color = LOSS_LABELS.get(col, col), f"C{i}"
            ax_step.plot(step, s[col], color=color, alpha=0.25, lw=0.8)
            ax_step.plot(step, smooth(s[col], window), color=color, lw=1.5, label=f"{label} (smoothed, {window} steps)")
            e, m = epoch_means(s["epoch"], s[col])
            ax_epoch.plot(e + 1, m, "-o", color=color, ms=4, label=label)
            ax_epoch.set_xlim(0.5, e.max() + 1.5)  # a sensible axis even for a single epoch
        for i, col in enumerate(outputs, start=len(losses)):
            ax_d.plot(step, s[col], color=f"C{i}", alpha=0.25, lw=0.8)
            ax_d.plot(step, smooth(s[col], window), color=f"C{i}", lw=1.5, label=OUTPUT_LABELS.get(col, col))
        # epoch boundaries on the per-step axes
        for boundary in np.flatnonzero(np.diff(s["epoch"])) + 1.5:
            for ax in (ax_step, ax_d):
                if ax is not None:
                    ax.axvline(boundary, color="grey", lw=0.5, ls=":")
    else:
        for ax in axes:
            ax.text(0.5, 0.5, "no training steps recorded", ha="center", va="center", transform=ax.transAxes)
    ax_step.set(title=f"{title}: loss per step", xlabel="step (batch)", ylabel=ylabel)
    ax_epoch.set(title=f"{title}: mean loss per epoch", xlabel="epoch", ylabel=ylabel)
    ax_epoch.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True, min_n_ticks=1))
    if ax_d is not None and outputs and set(outputs) <= set(OUTPUT_LABELS):
        ax_d.set(title=f"{title}: discriminator outputs (mean per batch)", xlabel="step (batch)",
                 ylabel="sigmoid of D's logit ('real')", ylim=(-0.02, 1.02))
    elif ax_d is not None:
        ax_d.set(title=f"{title}: other step outputs (mean per batch)", xlabel="step (batch)")
    for ax in axes:
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    fig.tight_layout()
    return save(fig, path)


def samples_figure(images: np.ndarray, path: Path, title: str, nrow: int = 8) -> Path:
    """Samples (grey or colour image arrays) as one grid, `nrow` per row."""
    return plot_grid_image(images, nrow, title, path, xlabel=f"{len(images)} images, each from new noise")

