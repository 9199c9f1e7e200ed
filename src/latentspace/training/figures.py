"""The figures of a run, as callbacks the training layer attaches (as lightning-bolts does): each may log
what it needs while the model trains, and draws its PNGs when training is done (`finish`).

A model's spec lists the ones it wants by name (FIGURES). They speak only the model contract
(`title`, `encode`, `decode`, `sample`, `progress_latents`, the outputs of `training_step`).
"""
from __future__ import annotations

import math
from pathlib import Path

import torch
from lightning.pytorch.callbacks import Callback

from latentspace.data.images import ImageSet, Splits, to_uint8
from latentspace.errors import LatentspaceError
from latentspace.io import CsvLog, merge_json, read_json, write_json
from latentspace.runs import Run

KL_FILE = "kl_per_dim.json"
SAMPLES_SEED = 12345


class RunFigure(Callback):
    """A figure of `run`: `finish(model, splits)` draws it after training and returns the files written."""

    def __init__(self, run: Run):
        self.run = run

    def finish(self, model, splits: Splits) -> list[Path]:
        raise NotImplementedError


class LossCurves(RunFigure):
    """loss.png: the spec's (train, validation) metric pairs per epoch (study fig. 3a, 6a)."""

    def finish(self, model, splits):
        from latentspace.figures.plots import plot_curves, read_metrics

        spec = model.spec
        return [plot_curves(read_metrics(self.run.metrics_file), list(spec.loss_curves),
                            f"{model.title()}: {spec.loss_title}", self.run.figures / "loss.png",
                            ylabel=spec.loss_label, logy=spec.loss_log)]


def first_of_each_class(images: ImageSet, n: int) -> list[int]:
    """Indices of the first image of each class, in class order, topped up with the next images (an
    unlabelled set: its first n images)."""
    labels = images.labels.tolist()
    chosen = [labels.index(c) for c in range(len(images.classes)) if c in labels][:n]
    extra = [i for i in range(len(labels)) if i not in set(chosen)][: n - len(chosen)]
    return chosen + extra


class Reconstructions(RunFigure):
    """reconstructions.png: the first test image of each class above its reconstruction (study fig. 1);
    of an unlabelled set, its first test images, without class names."""

    @torch.no_grad()
    def finish(self, model, splits, n: int = 10):
        from latentspace.figures.plots import plot_image_rows

        test = splits.test
        index = first_of_each_class(test, n)
        x, c = test.floats(index), model.condition(test.labels[index])
        recon = model.decode(model.encode(x.to(model.device), c), c)
        names = [test.classes[int(test.labels[i])] for i in index] if test.labelled else None
        return [plot_image_rows([to_uint8(x), to_uint8(recon)], ["original", "reconstruction"],
                                f"{model.title()}: test images and their reconstructions",
                                self.run.figures / "reconstructions.png", col_labels=names)]


class KLPerDim(RunFigure):
    """Mean KL of each latent dimension: per epoch, train and validation, into kl_per_dim.json ("epochs"),
    from the `kl_per_dim_sum` that each training and validation step returns; after training, over the
    test set ("test", active units) and as kl_per_dim.png. Sums are reduced over processes under DDP; a
    resumed run overwrites the epochs it trains again."""

    def __init__(self, run: Run):
        super().__init__(run)
        self.sums: dict[str, torch.Tensor] = {}
        self.counts: dict[str, int] = {}

    def _add(self, stage: str, outputs, batch) -> None:
        s = outputs["kl_per_dim_sum"]
        self.sums[stage] = self.sums[stage] + s if stage in self.sums else s.clone()
        self.counts[stage] = self.counts.get(stage, 0) + len(batch[0])

    def on_train_epoch_start(self, trainer, pl_module):
        self.sums.pop("train", None)
        self.counts.pop("train", None)

    def on_validation_epoch_start(self, trainer, pl_module):
        self.sums.pop("val", None)
        self.counts.pop("val", None)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        self._add("train", outputs, batch)

    def on_validation_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0):
        if not trainer.sanity_checking:
            self._add("val", outputs, batch)

    def on_train_epoch_end(self, trainer, pl_module):  # after the epoch's validation
        row = {"epoch": trainer.current_epoch}
        for stage in ("train", "val"):
            if stage not in self.sums:
                continue
            total = trainer.strategy.reduce(self.sums[stage].clone(), reduce_op="sum")
            count = trainer.strategy.reduce(torch.tensor(float(self.counts[stage]), device=total.device),
                                            reduce_op="sum")
            row[stage] = (total / count).cpu().tolist()
        if not trainer.is_global_zero:
            return
        path = self.run.path / KL_FILE
        data = read_json(path) if path.is_file() else {}
        data["epochs"] = [e for e in data.get("epochs", []) if e["epoch"] < row["epoch"]] + [row]
        write_json(path, data)

    def finish(self, model, splits):
        from latentspace.analysis.activity import (
            ACTIVE_THRESHOLD,
            active_units,
            kl_per_dimension,
        )
        from latentspace.analysis.encode import encode_images
        from latentspace.figures.vae import plot_kl_per_dim

        codes = encode_images(model, splits.test)
        per_dim = kl_per_dimension(codes["latent"], codes["logvar"])
        merge_json(self.run.path / KL_FILE, {"test": per_dim.tolist(), "threshold": ACTIVE_THRESHOLD,
                                             "test_active_units": active_units(per_dim)})
        return [plot_kl_per_dim(per_dim, f"{model.title()}: mean KL per latent dimension (test set)",
                                self.run.figures / "kl_per_dim.png", threshold=ACTIVE_THRESHOLD)]


class ProgressGrid(RunFigure):
    """The model's fixed latents (`progress_latents`, kept in its checkpoints) decoded after every epoch:
    figures/progress/epoch_NNN.png, and progress.gif of them all (study fig. 11). The latents are also
    saved as RUN/fixed_noise.pt; a resume checks they are still the same."""

    def on_train_start(self, trainer, pl_module):
        if not trainer.is_global_zero:
            return
        start = trainer.current_epoch  # after a resume (restored by now): the first epoch to train again
        noise_file = self.run.path / "fixed_noise.pt"
        latents = pl_module.progress_latents().detach().cpu()
        if start > 0 and noise_file.is_file():
            saved = torch.load(noise_file, map_location="cpu", weights_only=True)
            if not torch.equal(saved, latents):
                raise LatentspaceError(f"{noise_file} differs from the checkpoint's fixed noise")
        torch.save(latents.clone(), noise_file)
        for png in self.run.progress_frames.glob("epoch_*.png"):  # frames of epochs trained again
            if int(png.stem.split("_")[1]) >= start:
                png.unlink()

    def on_train_epoch_end(self, trainer, pl_module):
        if not trainer.is_global_zero:
            return
        from latentspace.figures.gan import progress_frame

        was_training = pl_module.training
        pl_module.eval()
        from latentspace.samplers.store import sample_labels

        z = pl_module.progress_latents()
        labels = sample_labels(pl_module, len(z))  # a conditional model: every class in turn
        with torch.no_grad():
            images = pl_module.decode(z, None if labels is None else labels.to(z.device))
        pl_module.train(was_training)
        progress_frame(to_uint8(images), self.run.progress_frames / f"epoch_{trainer.current_epoch:03d}.png",
                       trainer.current_epoch, pl_module.spec.title)

    def finish(self, model, splits):
        from latentspace.figures.gan import progress_gif

        gif = progress_gif(self.run.progress_frames, self.run.figures / "progress.gif")
        return [gif] if gif is not None else []


class StepLosses(RunFigure):
    """The numbers each training step returns (a GAN's losses and discriminator outputs, a flow model's loss),
    one row per step in RUN/<kind>_steps.csv, appended every epoch; after training, loss.png from them (study
    fig. 10)."""

    def __init__(self, run: Run):
        super().__init__(run)
        self.rows: list[dict] = []
        self.csv: CsvLog | None = None

    def _log(self, pl_module) -> CsvLog:
        if self.csv is None:
            self.csv = CsvLog(self.run.path / f"{pl_module.kind}_steps.csv")
        return self.csv

    def on_train_start(self, trainer, pl_module):
        if trainer.is_global_zero:
            self._log(pl_module).truncate(trainer.current_epoch)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if outputs:
            self.rows.append({"epoch": trainer.current_epoch, "batch": batch_idx,
                              **{k: f"{float(v):.6g}" if math.isfinite(v) else str(float(v))
                                 for k, v in outputs.items()}})

    def on_train_epoch_end(self, trainer, pl_module):
        rows, self.rows = self.rows, []
        if trainer.is_global_zero and rows:
            csv = self._log(pl_module)
            csv.columns = csv.columns or tuple(rows[0])
            csv.append(rows)

    def finish(self, model, splits):
        from latentspace.figures.gan import step_loss_figure
        from latentspace.figures.plots import read_metrics

        path = self.run.path / f"{model.kind}_steps.csv"
        steps = read_metrics(path) if path.is_file() else {}
        return [step_loss_figure(steps, model.title(), self.run.figures / "loss.png",  # the title names the loss
                                 ylabel=model.spec.loss_label)]


class Samples(RunFigure):
    """samples.png: 64 images from the model's prior (study fig. 12), always from the same seed."""

    @torch.no_grad()
    def finish(self, model, splits, n: int = 64):
        from latentspace.figures.gan import samples_figure
        from latentspace.samplers.store import sample_labels

        images = model.sample(n, generator=torch.Generator().manual_seed(SAMPLES_SEED), labels=sample_labels(model, n))
        return [samples_figure(to_uint8(images), self.run.figures / "samples.png",
                               f"{model.title()}: {n} samples from fresh noise")]


class Trajectory(RunFigure):
    """trajectory.png: one fixed batch of noise carried to images by the model's sampling ODE (`trajectory(z,
    times)`), shown at t = 1 (noise), 0.75, 0.5, 0.25 and 0 (the sample): the state x_t, and under it the
    model's estimate of the finished image at that time. What to look for: the estimates settle on an item of
    clothing early (by t = 0.75 the kind is chosen) and only sharpen after; an estimate that still changes
    kind late, or a final row noisier than its estimate above, says the solve needs more steps."""

    TIMES = (1.0, 0.75, 0.5, 0.25, 0.0)

    @torch.no_grad()
    def finish(self, model, splits, n: int = 8):
        from latentspace.figures.plots import plot_image_rows
        from latentspace.samplers.store import sample_labels

        z = model.prior_latents(n, torch.Generator().manual_seed(SAMPLES_SEED))
        states, estimates = model.trajectory(z, list(self.TIMES), labels=sample_labels(model, n))
        rows, labels = [], []
        for t, x, x0 in zip(self.TIMES, states, estimates):
            rows.append(to_uint8(x))
            labels.append(f"x at t = {t:g}" if t else "the sample\n(t = 0)")
            if t:  # at t = 0 the estimate is the sample itself
                rows.append(to_uint8(x0))
                labels.append("its image\nestimate")
        return [plot_image_rows(rows, labels, f"{model.title()}: from noise (t = 1) to image (t = 0)",
                                self.run.figures / "trajectory.png")]


class ClassSamples(RunFigure):
    """class_samples.png of a conditional model: one row per class, `n` samples each, the rows named by class
    (the same seed every time); an unconditional model draws none."""

    @torch.no_grad()
    def finish(self, model, splits, n: int = 10):
        from latentspace.figures.plots import plot_image_rows

        if not model.conditional:
            return []
        names = list(splits.train.classes) or [str(k) for k in range(model.num_classes)]
        gen = torch.Generator().manual_seed(SAMPLES_SEED)
        rows = [to_uint8(model.sample(n, generator=gen, labels=torch.full((n,), k, dtype=torch.long)))
                for k in range(model.num_classes)]
        return [plot_image_rows(rows, names, f"{model.title()}: {n} samples of each class (one row per class)",
                                self.run.figures / "class_samples.png")]


class AugmentedBatches(RunFigure):
    """augmented.png: the first training images, then rows of the same images as the model's discriminator sees
    them (`augmented_view`, each row a new draw), so a user sees what it learns from; nothing when it sees them
    as they are."""

    @torch.no_grad()
    def finish(self, model, splits, n: int = 8, draws: int = 4):
        from latentspace.figures.plots import plot_image_rows

        x = splits.train.floats(list(range(min(n, len(splits.train)))))
        gen = torch.Generator().manual_seed(SAMPLES_SEED)
        views = [model.augmented_view(x, gen) for _ in range(draws)]
        if views[0] is None:
            return []
        return [plot_image_rows([to_uint8(x), *map(to_uint8, views)],
                                ["training images"] + [f"as D sees them ({i + 1})" for i in range(draws)],
                                f"{model.title()}: what the discriminator sees (each row a new draw; shown "
                                f"clipped to the image range)", self.run.figures / "augmented.png")]


CODES_FILE = "codebook.json"


def _test_grids(model, test: ImageSet) -> torch.Tensor:
    from latentspace.analysis.encode import encode_images

    return torch.from_numpy(encode_images(model, test)["latent"])


class CodebookUse(RunFigure):
    """codebook.png: the codes' perplexity and the share of codes used per epoch (the model logs them in
    metrics.csv: train_/val_code_perplexity, train_/val_codes_used) and how often the test set uses each code;
    those test counts also go to RUN/codebook.json with their perplexity and share used."""

    def finish(self, model, splits):
        from latentspace.figures.codes import plot_codebook_use
        from latentspace.figures.plots import read_metrics

        counts = torch.bincount(_test_grids(model, splits.test).reshape(-1), minlength=model.codebook_size)
        p = counts.double() / max(1, int(counts.sum()))
        nz = p[p > 0]
        write_json(self.run.path / CODES_FILE, {
            "codebook_size": model.codebook_size, "test_codes_used": round(float((counts > 0).double().mean()), 4),
            "test_code_perplexity": round(float(torch.exp(-(nz * nz.log()).sum())), 2), "test_counts": counts.tolist()})
        metrics = read_metrics(self.run.metrics_file) if self.run.metrics_file.is_file() else {}
        return [plot_codebook_use(metrics, counts.numpy(), f"{model.title()}: codebook use",
                                  self.run.figures / "codebook.png")]


class CodeGrids(RunFigure):
    """code_grids.png: the first test image of each class, its grid of code indices and its reconstruction."""

    @torch.no_grad()
    def finish(self, model, splits, n: int = 8):
        from latentspace.figures.codes import plot_code_grids

        test = splits.test
        index = first_of_each_class(test, n)
        x = test.floats(index).to(model.device)
        grids = model.encode(x)
        names = [test.classes[int(test.labels[i])] for i in index] if test.labelled else None
        return [plot_code_grids(to_uint8(x), grids.cpu().numpy(), to_uint8(model.decode(grids)), model.codebook_size,
                                f"{model.title()}: test images, their code grids and reconstructions",
                                self.run.figures / "code_grids.png", col_labels=names)]


class CodeSwap(RunFigure):
    """code_swap.png: "change one code": the grid's centre cell of a few test images set to each of the codes
    the test set uses most often there (then those it uses most anywhere), decoded (what one code holds, where
    it sits)."""

    @torch.no_grad()
    def finish(self, model, splits, n_images: int = 4, n_codes: int = 9):
        from latentspace.figures.codes import plot_code_swap

        test = splits.test
        grids = _test_grids(model, test)
        h, w = grids.shape[1:]
        cell = (h // 2, w // 2)
        at_cell = torch.bincount(grids[:, cell[0], cell[1]], minlength=model.codebook_size)
        anywhere = torch.bincount(grids.reshape(-1), minlength=model.codebook_size)
        # most used at the cell first; where fewer codes occur there, the codes used most anywhere fill the row
        rank = at_cell.double() * (anywhere.sum() + 1) + anywhere.double()
        codes = [int(c) for c in torch.argsort(rank, descending=True, stable=True)[:n_codes]]
        index = first_of_each_class(test, n_images)
        rows, swept = [], []
        for i in index:
            grid = grids[i].clone()
            batch = grid.repeat(len(codes) + 1, 1, 1)
            for k, code in enumerate(codes):
                batch[k + 1, cell[0], cell[1]] = code
            rows.append(to_uint8(model.decode(batch.to(model.device))))
            swept.append(codes)
        names = [f"test image {i}" + (f"\n({test.classes[int(test.labels[i])]})" if test.labelled else "")
                 for i in index]
        return [plot_code_swap(rows, swept, cell, (h, w),
                               f"{model.title()}: cell {cell} set to the {len(codes)} codes used there most",
                               self.run.figures / "code_swap.png", names)]


FIGURES = {"loss": LossCurves, "reconstructions": Reconstructions, "kl_per_dim": KLPerDim,
           "progress": ProgressGrid, "step_losses": StepLosses, "trajectory": Trajectory, "samples": Samples,
           "class_samples": ClassSamples, "augmented": AugmentedBatches,
           "codebook": CodebookUse, "code_grids": CodeGrids, "code_swap": CodeSwap}


def figure_callbacks(spec, run: Run) -> list[RunFigure]:
    return [FIGURES[name](run) for name in spec.figures]
