"""DiffAugment: differentiable, the shapes of grey and colour images kept, each operation doing what it says, and
the GAN putting real and generated images through the same operations in both of its steps."""
from __future__ import annotations

import pytest
import torch

from latentspace.models import diffaug
from latentspace.models.diffaug import color, cutout, diff_augment, translation
from latentspace.models.gan_config import DIFFAUG_OPS


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("size", [16, 28, 32])
def test_every_policy_keeps_the_shape_and_carries_gradients(channels, size):
    x = (torch.rand(6, channels, size, size) * 2 - 1).requires_grad_(True)
    for ops in [("color",), ("translation",), ("cutout",), DIFFAUG_OPS]:
        y = diff_augment(x, ops, _gen())
        assert y.shape == x.shape and torch.isfinite(y).all()
        (grad,) = torch.autograd.grad(y.square().sum(), x)
        assert torch.isfinite(grad).all() and grad.abs().sum() > 0, ops
    assert diff_augment(x, ()) is x  # nothing asked: the images themselves


def test_each_image_draws_its_own_transform_and_a_seed_repeats_it():
    x = torch.rand(8, 3, 28, 28) * 2 - 1
    y = diff_augment(x, DIFFAUG_OPS, _gen(1))
    assert torch.equal(y, diff_augment(x, DIFFAUG_OPS, _gen(1)))
    assert not torch.equal(y, diff_augment(x, DIFFAUG_OPS, _gen(2)))
    same = diff_augment(x[:1].expand(8, -1, -1, -1), DIFFAUG_OPS, _gen(1))
    assert len({tuple(im.flatten()[:50].tolist()) for im in same}) > 1  # one image, eight different views


def test_colour_on_grey_is_brightness_and_contrast_only():
    """Saturation needs colour: a grey image gets an affine change per image (a * x + b), nothing per pixel."""
    x = torch.rand(5, 1, 28, 28) * 2 - 1
    y = color(x, _gen())
    for xi, yi in zip(x.flatten(1), y.flatten(1)):
        a = (yi[1] - yi[0]) / (xi[1] - xi[0])
        assert torch.allclose(yi, a * xi + (yi[0] - a * xi[0]), atol=1e-4)
        assert 0.5 - 1e-4 <= a <= 1.5 + 1e-4  # the contrast factor
    rgb = torch.rand(5, 3, 28, 28) * 2 - 1
    grey_again = color(rgb.mean(1, keepdim=True).expand(-1, 3, -1, -1).contiguous(), _gen())
    assert torch.allclose(grey_again[:, 0], grey_again[:, 2])  # grey stays grey in colour too
    assert not torch.allclose(color(rgb, _gen()), color(rgb, _gen(5)))


def test_translation_moves_by_at_most_an_eighth_with_an_empty_border():
    x = torch.zeros(20, 1, 32, 32)
    x[:, :, 16, 16] = 1.0
    y = translation(x, _gen())
    for im in y[:, 0]:
        (r, c), = im.nonzero().tolist()
        assert abs(r - 16) <= 4 and abs(c - 16) <= 4
    assert {tuple(im[0].nonzero()[0].tolist()) for im in y} != {(16, 16)}


def test_cutout_zeroes_one_square_of_at_most_half_the_size_in_every_channel():
    x = torch.ones(30, 3, 28, 28)
    y = cutout(x, _gen())
    assert torch.equal(y[:, 0], y[:, 1]) and torch.equal(y[:, 0], y[:, 2])
    for im in y[:, 0]:
        rows, cols = (im == 0).nonzero(as_tuple=True)
        assert len(rows) > 0
        h, w = int(rows.max() - rows.min()) + 1, int(cols.max() - cols.min()) + 1
        assert h <= 14 and w <= 14 and len(rows) == h * w  # a full rectangle, clipped at the edges
    assert (y == 0).flatten(1).sum(1).float().mean() > 0.1 * 28 * 28


def test_the_gan_augments_real_and_generated_alike_in_both_steps(monkeypatch, tmp_path):
    """Every discriminator call of a training step (real, generated, the generator's) goes through the same ops."""
    from latentspace.models import gan as G
    from latentspace.models.gan_config import GANConfig
    from latentspace.training.config import TrainConfig
    from latentspace.training.trainer import fit

    calls = []
    real = diffaug.diff_augment

    def spy(x, ops, generator=None):
        calls.append((ops, x.requires_grad))
        return real(x, ops, generator)

    monkeypatch.setattr(G, "diff_augment", spy)
    fit("gan", GANConfig(g_width=8, d_width=8, progress_images=4, augment="diffaug:translation,cutout"),
        TrainConfig(epochs=1, limit_train=64, batch_size=16), out=tmp_path / "g", progress=False)
    steps = 64 // 16
    training = calls[: 3 * steps]
    assert {ops for ops, _ in training} == {("translation", "cutout")}
    # per step: the real batch, the detached generated batch (D's step), the generated batch with its graph (G's)
    assert [grad for _, grad in training] == [False, False, True] * steps
