"""The classifier's confusion matrix as a heatmap (study fig. 5b)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from latentspace.figures.plots import plt, save


def plot_confusion(confusion, classes, title: str, path: Path) -> Path:
    """Heatmap of counts with the class names on both axes and the count in every cell."""
    cm = np.asarray(confusion)
    fig, ax = plt.subplots(figsize=(7.5, 6.5))
    im = ax.imshow(cm, cmap="Blues")
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="images")
    ticks = np.arange(len(classes))
    ax.set_xticks(ticks, labels=classes, rotation=45, ha="right")
    ax.set_yticks(ticks, labels=classes)
    threshold = cm.max() / 2 if cm.size else 0
    for i in range(cm.shape[0]):
        for j in range(cm.shape[1]):
            ax.text(j, i, str(int(cm[i, j])), ha="center", va="center", fontsize=8,
                    color="white" if cm[i, j] > threshold else "black")
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(title)
    return save(fig, path)
