"""The steps of the study, in the order of the original report. Each returns a Section.

Steps only call the commands' own functions (fit, embed, generate, classify, search, ...), so
the report shows exactly what a user gets from the single commands.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from latentspace.runs import Run, open_run
from latentspace.study import Context, Figure, Section, Step, Table, finished_run
from latentspace.train import TrainConfig, fit


def train_run(ctx: Context, kind: str, name: str, model_config, epochs: int, **train) -> Run:
    """Train into OUT/name unless a finished run is already there (an unfinished one is redone)."""
    path = ctx.path(name)
    if finished_run(path):
        return open_run(path)
    if path.exists():
        shutil.rmtree(path)
    cfg = TrainConfig(epochs=epochs, limit_train=ctx.preset.limit_train, seed=ctx.seed, dataset=ctx.dataset,
                      **train)
    return fit(kind, model_config, cfg, out=path, progress=ctx.progress)


def fig(path, caption: str) -> Figure:
    return Figure(str(path), caption)


def run_table(run: Run, title: str) -> Table:
    s = run.summary()
    return Table(title, ["epochs", "best validation loss", "train time (s)", "images/s", "stopped by"],
                 [[s["epochs_completed"], s["best_val_loss"], s["train_time_s"], s["images_per_s"], s["stopped_by"]]])


# ---------------------------------------------------------------- 1. autoencoder, latent 20

def step_ae20(ctx: Context) -> Section:
    from latentspace.models.autoencoder import AEConfig

    run = train_run(ctx, "ae", "ae-z20", AEConfig(latent_dim=20), ctx.preset.ae_epochs)
    ctx.results["ae20"] = str(run.path)
    return Section("ae20", "", intro=(
        "The study's convolutional autoencoder (three strided convolutions, two linear layers, a mirrored "
        "decoder) with a 20-dimensional code, trained on the MSE between an image and its reconstruction."),
        tables=[run_table(run, "Training")],
        figures=[fig(run.figures / "loss.png",
                     "Training and validation MSE per epoch (study fig. 3a). Look for both curves falling together: "
                     "a validation curve that turns up while training keeps falling would mean overfitting."),
                 fig(run.figures / "reconstructions.png",
                     "One test image of each class above its reconstruction (study fig. 1a). Shapes and "
                     "silhouettes should be clear; fine texture (prints, stripes) is what a 20-number code loses first.")])


STEPS = [
    Step("ae20", "Autoencoder, latent 20", step_ae20),
]
