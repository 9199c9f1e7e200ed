"""The figures of a run as callbacks: what they log while training and what they draw after it.

Unit tests drive the callbacks with stand-ins for Lightning's Trainer; the trained runs of the model tests
check the files of real runs."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import torch
from PIL import Image

from latentspace.data.images import ImageSet, Splits
from latentspace.io import read_json
from latentspace.runs import Run
from latentspace.training.figures import (
    AugmentedBatches,
    ClassSamples,
    KLPerDim,
    ProgressGrid,
    Reconstructions,
    Samples,
    StepLosses,
    Trajectory,
    first_of_each_class,
)
from tests.fakes import (
    FakeConfig,
    FakeGAN,
    FakeRGB,
    FakeVAE,
    fake_colour_test_set,
    fake_splits,
    fake_test_set,
)
from tests.pixels import assert_coloured, assert_shows_something, rgb


class _Strategy:
    @staticmethod
    def reduce(t, reduce_op="sum"):
        return t


def trainer(epoch=0, **kw):
    return SimpleNamespace(current_epoch=epoch, is_global_zero=True, sanity_checking=False, strategy=_Strategy(), **kw)


def test_first_of_each_class_then_the_next_images():
    images = ImageSet(torch.zeros(6, 28, 28, dtype=torch.uint8), torch.tensor([2, 0, 2, 1, 0, 1]), ("a", "b", "c"))
    assert first_of_each_class(images, 3) == [1, 3, 0] and first_of_each_class(images, 5) == [1, 3, 0, 2, 4]
    unlabelled = ImageSet(torch.zeros(6, 28, 28, dtype=torch.uint8), torch.full((6,), -1), ())
    assert first_of_each_class(unlabelled, 4) == [0, 1, 2, 3]


def test_step_losses_log_every_step_and_cut_back_on_resume(tmp_path, fake_models):
    run, model = Run(tmp_path), FakeGAN()
    cb = StepLosses(run)
    for epoch in range(2):
        for batch in range(3):
            cb.on_train_batch_end(trainer(epoch), model, {"d_loss": 0.5 + batch, "g_loss": float("nan")}, None, batch)
        cb.on_train_epoch_end(trainer(epoch), model)
    rows = (tmp_path / "fakegan_steps.csv").read_text().splitlines()
    assert rows[0] == "epoch,batch,d_loss,g_loss" and rows[1] == "0,0,0.5,nan" and len(rows) == 7
    StepLosses(run).on_train_start(trainer(1), model)  # a resume that trains epoch 1 again
    assert len((tmp_path / "fakegan_steps.csv").read_text().splitlines()) == 4
    (path,) = cb.finish(model, None)
    assert path == tmp_path / "figures" / "loss.png" and path.stat().st_size > 10_000


def test_kl_per_dimension_is_the_mean_of_the_steps_sums(tmp_path, fake_models):
    run, model = Run(tmp_path), FakeVAE(FakeConfig(latent_dim=2))
    cb = KLPerDim(run)
    cb.on_train_epoch_start(trainer(), model)
    cb.on_validation_epoch_start(trainer(), model)
    batch = (torch.zeros(4, 1, 28, 28),)
    for sums in ([4.0, 8.0], [0.0, 4.0]):  # 8 training images: means 0.5 and 1.5
        cb.on_train_batch_end(trainer(), model, {"kl_per_dim_sum": torch.tensor(sums)}, batch, 0)
    cb.on_validation_batch_end(trainer(), model, {"kl_per_dim_sum": torch.tensor([2.0, 2.0])}, batch, 0)
    cb.on_train_epoch_end(trainer(), model)
    (epoch,) = read_json(tmp_path / "kl_per_dim.json")["epochs"]
    assert epoch == {"epoch": 0, "train": [0.5, 1.5], "val": [0.5, 0.5]}
    splits = Splits(fake_test_set(40), fake_test_set(40), fake_test_set(40), (), "fake")
    (png,) = cb.finish(model, splits)
    saved = read_json(tmp_path / "kl_per_dim.json")
    assert png.is_file() and len(saved["test"]) == 2 and saved["epochs"] == [epoch]
    assert saved["test_active_units"] == sum(v > saved["threshold"] for v in saved["test"])


def test_progress_frames_decode_the_fixed_latents_and_make_a_gif(tmp_path, fake_models):
    class WithFixedNoise(FakeGAN):
        def progress_latents(self):
            return torch.linspace(-2, 2, 12).reshape(4, 3)

    run, model = Run(tmp_path), WithFixedNoise()
    cb = ProgressGrid(run)
    cb.on_train_start(trainer(0), model)
    for epoch in range(3):
        cb.on_train_epoch_end(trainer(epoch), model)
    assert sorted(p.name for p in run.progress_frames.iterdir()) == [f"epoch_00{e}.png" for e in range(3)]
    assert torch.equal(torch.load(tmp_path / "fixed_noise.pt", weights_only=True), model.progress_latents())
    (gif,) = cb.finish(model, None)
    with Image.open(gif) as im:
        assert im.n_frames == 3
    ProgressGrid(run).on_train_start(trainer(1), model)  # resuming at epoch 1: its frames are drawn again
    assert sorted(p.name for p in run.progress_frames.iterdir()) == ["epoch_000.png"]


def test_samples_and_reconstructions_are_drawn_from_the_contract(tmp_path, fake_models):
    run = Run(tmp_path)
    (samples,) = Samples(run).finish(FakeGAN(), None)
    splits = Splits(fake_test_set(30), fake_test_set(30), fake_test_set(30), (), "fake")
    (recon,) = Reconstructions(run).finish(FakeVAE(), splits)
    for png in (samples, recon):
        pixels = np.asarray(Image.open(png).convert("L"))
        assert pixels.std() > 10, f"{png.name} shows nothing"


def test_a_colour_model_draws_coloured_samples_and_reconstructions_also_of_an_unlabelled_set(tmp_path, fake_models):
    run = Run(tmp_path)
    model = FakeRGB()
    (samples,) = Samples(run).finish(model, None)
    assert_coloured(samples)
    for labelled in (True, False):
        (recon,) = Reconstructions(run).finish(model, fake_splits(fake_colour_test_set(30, labelled=labelled)))
        assert_coloured(recon)


def test_the_trajectory_shows_noise_then_images_with_their_estimates(tmp_path, monkeypatch):
    from latentspace.models.flow import Flow
    from latentspace.models.flow_config import FlowConfig
    from tests.pixels import assert_grey

    asked, given = [], []
    real = Flow.trajectory

    def recorded(self, z, times, labels=None):
        asked.append(list(times))
        given.append(labels)
        return real(self, z, times, labels)

    monkeypatch.setattr(Flow, "trajectory", recorded)
    for shape, check in (((1, 16, 16), assert_grey), ((3, 16, 16), assert_shows_something)):
        torch.manual_seed(0)
        model = Flow(FlowConfig(width=8, sample_steps=4), shape).eval()
        (png,) = Trajectory(Run(tmp_path / str(shape[0]))).finish(model, None)
        assert png.name == "trajectory.png"
        check(png)
    assert asked[0] == [1.0, 0.75, 0.5, 0.25, 0.0] and given == [None, None]
    # a conditional model's trajectory draws every class in turn
    conditional = Flow(FlowConfig(width=8, sample_steps=2, conditional=True), (1, 16, 16), num_classes=3).eval()
    Trajectory(Run(tmp_path / "c")).finish(conditional, None)
    assert given[-1].tolist() == [0, 1, 2, 0, 1, 2, 0, 1]


def _tiny_gan(**kw):
    from latentspace.models.gan import GAN
    from latentspace.models.gan_config import GANConfig

    torch.manual_seed(0)
    shape = kw.pop("image_shape", (1, 28, 28))
    return GAN(GANConfig(g_width=8, d_width=8, progress_images=4, **kw), image_shape=shape,
               num_classes=kw.get("conditional", False) and 10).eval()


def test_class_samples_draw_one_row_per_class_of_a_conditional_model_only(tmp_path):
    splits = fake_splits(fake_test_set(40))
    (png,) = ClassSamples(Run(tmp_path)).finish(_tiny_gan(conditional=True), splits)
    assert png == tmp_path / "figures" / "class_samples.png"
    assert_shows_something(png)
    width, height = Image.open(png).size
    assert height > width * 0.8  # ten rows of ten
    assert ClassSamples(Run(tmp_path / "u")).finish(_tiny_gan(), splits) == []


def test_augmented_batches_show_what_the_discriminator_sees_in_grey_and_colour(tmp_path):
    for name, test, shape in (("grey", fake_test_set(20), (1, 28, 28)),
                              ("colour", fake_colour_test_set(20), (3, 32, 32))):
        run = Run(tmp_path / name)
        (png,) = AugmentedBatches(run).finish(_tiny_gan(augment="diffaug", image_shape=shape), fake_splits(test))
        assert png == run.figures / "augmented.png"
        pixels = rgb(png)
        rows = np.array_split(pixels[pixels.shape[0] // 10:], 5)  # below the title: the originals, four draws
        assert all(r.std() > 5 for r in rows)
        assert np.abs(rows[0].astype(float)[: len(rows[1])] - rows[1][: len(rows[0])]).mean() > 2  # not the originals
        if name == "colour":
            assert_coloured(png, 0.001)
    assert AugmentedBatches(Run(tmp_path / "none")).finish(_tiny_gan(), fake_splits(fake_test_set(20))) == []
