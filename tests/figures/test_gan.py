"""The GAN's figures: smoothing, per-epoch means, the progress GIF, the step-loss panels."""
from __future__ import annotations

import pytest

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
