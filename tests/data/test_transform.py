"""Images made to one shape as they are decoded: square crop, antialiased resize, grey/RGB, transparency."""
from __future__ import annotations

import numpy as np
from PIL import Image

from latentspace.data.transform import conform, conform_image, square, to_mode


def test_square_crops_the_centre():
    img = Image.fromarray(np.arange(6 * 4, dtype=np.uint8).reshape(4, 6))  # 6 wide, 4 high
    out = np.asarray(square(img))
    assert out.shape == (4, 4) and np.array_equal(out, np.arange(24, dtype=np.uint8).reshape(4, 6)[:, 1:5])


def test_conform_image_resizes_with_antialiasing_and_converts():
    checker = (np.indices((64, 64)).sum(0) % 2 * 255).astype(np.uint8)
    out = conform_image(Image.fromarray(checker), 16, 3)
    assert out.shape == (16, 16, 3) and out.dtype == np.uint8
    assert 100 < out.mean() < 155 and out.std() < 20, "a fine checkerboard must average out, not alias"
    assert conform_image(Image.new("RGB", (20, 20), (255, 0, 0)), 20, 1).shape == (20, 20, 1)


def test_transparency_goes_on_white():
    assert np.asarray(to_mode(Image.new("RGBA", (4, 4), (0, 0, 0, 0)), 3)).min() == 255


def test_conform_keeps_arrays_of_the_right_shape_and_logs_changes(capsys):
    x = np.random.default_rng(0).integers(0, 256, (5, 28, 28, 1), dtype=np.uint8)
    assert conform(x, None, None) is x and conform(x, 28, 1) is x
    assert capsys.readouterr().err == ""
    y = conform(x, 32, 3, "fashion-mnist train")
    assert y.shape == (5, 32, 32, 3) and np.array_equal(y[..., 0], y[..., 2])
    assert "fashion-mnist train: resizing from 28 x 28 to 32 x 32 and converting from 1 to 3 channels" in \
        capsys.readouterr().err
