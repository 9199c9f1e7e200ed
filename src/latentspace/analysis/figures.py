"""The figures every latent model's run directory gets, built from a model and its data."""
from __future__ import annotations

import torch

from latentspace.analysis.plots import plot_curves, plot_image_rows, read_metrics
from latentspace.data import ImageSet, to_uint8


def loss_figure(run, series, title: str, name: str = "loss.png", ylabel: str = "loss"):
    return plot_curves(read_metrics(run.metrics_file), series, title, run.figures / name, ylabel=ylabel)


@torch.no_grad()
def reconstruction_figure(model, test: ImageSet, run, title: str, n: int = 10, name: str = "reconstructions.png"):
    """The first test image of each class (then the next ones) above its reconstruction."""
    index = first_of_each_class(test, n)
    x = test.floats(index)
    recon = model.decode(model.encode(x))
    names = [test.classes[int(test.labels[i])] for i in index]
    return plot_image_rows([to_uint8(x), to_uint8(recon)], ["original", "reconstruction"],
                           f"{title}: test images and their reconstructions", run.figures / name, col_labels=names)


def first_of_each_class(images: ImageSet, n: int) -> list[int]:
    """Indices of the first image of each class, in class order, topped up with the next images."""
    labels = images.labels.tolist()
    chosen = [labels.index(c) for c in range(len(images.classes)) if c in labels][:n]
    extra = [i for i in range(len(labels)) if i not in set(chosen)][: n - len(chosen)]
    return chosen + extra
