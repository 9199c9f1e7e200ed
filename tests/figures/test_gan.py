"""The GAN's figures: smoothing, per-epoch means, progress frames and their GIF and samples (grey or colour),
the step-loss panels."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from latentspace.figures.gan import smooth


def test_smooth_keeps_length_and_skips_nan():
    import numpy as np

    v = np.array([1.0, np.nan, 3.0, 5.0, 7.0])
    s = smooth(v, 3)
    assert len(s) == 5 and np.isfinite(s).all()
    assert s[2] == pytest.approx(4.0) and s[0] == pytest.approx(1.0)


def test_epoch_means_skip_nan_and_empty_epochs_stay_nan():
    import numpy as np

    from latentspace.figures.gan import epoch_means

    keys, means = epoch_means(np.array([0, 0, 1, 1]), np.array([1.0, np.nan, np.nan, np.nan]))
    assert keys.tolist() == [0, 1] and means[0] == 1.0 and np.isnan(means[1])


def test_the_gif_takes_the_frames_in_epoch_order(tmp_path):
    import numpy as np
    from PIL import Image

    from latentspace.figures.gan import progress_frame, progress_gif

    for epoch in (10, 2, 1):  # epoch_010 sorts before epoch_002 as text
        progress_frame(np.full((4, 28, 28), 25 * epoch, np.uint8), tmp_path / f"epoch_{epoch:03d}.png", epoch, "G")
    gif = progress_gif(tmp_path, tmp_path / "p.gif")
    with Image.open(gif) as im:
        assert im.n_frames == 3
    assert progress_gif(tmp_path / "none", tmp_path / "q.gif") is None


def test_the_step_loss_figure_without_steps_says_so(tmp_path):
    from latentspace.figures.gan import step_loss_figure

    assert step_loss_figure({}, "DCGAN", tmp_path / "loss.png").stat().st_size > 10_000


@pytest.mark.parametrize("colour", [False, True], ids=["grey", "colour"])
def test_progress_frames_samples_and_the_gif_keep_grey_or_colour(tmp_path, colour):
    from latentspace.figures.gan import progress_frame, progress_gif, samples_figure
    from tests.fakes import colour_images, grey_images
    from tests.pixels import assert_coloured, assert_grey, rgb, size_of

    make, check = (colour_images, assert_coloured) if colour else (grey_images, assert_grey)
    frames = [progress_frame(make(16, 32), tmp_path / f"epoch_{e:03d}.png", e, "G") for e in range(2)]
    check(frames[0])
    check(samples_figure(make(16, 32), tmp_path / "samples.png", "G", nrow=4))
    gif = progress_gif(tmp_path, tmp_path / "p.gif")
    with Image.open(gif) as im:
        im.seek(1)
        frame = rgb(_png(im.convert("RGB")))
    red_minus_green = frame[..., 0] - frame[..., 1]
    assert (np.abs(red_minus_green) > 100).mean() > 0.01 if colour else (red_minus_green == 0).all()
    # larger images, larger frames (at 16 px the caption below is wider than the grid)
    small, large = (size_of(progress_frame(make(16, s), tmp_path / f"f{s}.png", 0, "G")) for s in (16, 64))
    assert small[0] <= large[0] and small[1] < large[1]


def _png(image) -> bytes:
    import io

    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def test_the_step_loss_figure_of_a_loss_alone_has_two_panels(tmp_path):
    """A flow model's steps return only "loss": no empty third panel."""
    import numpy as np
    from PIL import Image

    from latentspace.figures.gan import step_loss_figure

    steps = {"epoch": np.array([0, 0, 1, 1.0]), "batch": np.array([0, 1, 0, 1.0]), "loss": np.array([1, .8, .6, .5])}
    wide = step_loss_figure({**steps, "d_real": np.ones(4)}, "G", tmp_path / "three.png")
    narrow = step_loss_figure(steps, "Flow", tmp_path / "two.png", ylabel="MSE")
    with Image.open(wide) as w, Image.open(narrow) as n:
        assert n.width < 0.75 * w.width
