"""VAE figures: KL per dimension with the active ones coloured, and the β sweep's traversal blocks."""
from __future__ import annotations

import numpy as np
from PIL import Image

from latentspace.figures.vae import plot_beta_traversals, plot_kl_per_dim


def test_kl_bars_and_traversal_blocks_are_drawn(tmp_path):
    kl = plot_kl_per_dim(np.array([0.5, 0.001, 2.0, 0.0]), "t", tmp_path / "kl.png")
    assert np.asarray(Image.open(kl).convert("L")).std() > 10
    rng = np.random.default_rng(0)
    blocks = [{"beta": b, "dims": [0, 2], "kl": [1.0, 0.5], "images": rng.integers(0, 256, (2, 5, 28, 28), np.uint8)}
              for b in (1, 10)]
    fig = plot_beta_traversals(blocks, np.linspace(-3, 3, 5), rng.integers(0, 256, (28, 28), np.uint8), "t",
                               tmp_path / "tr.png")
    w, h = Image.open(fig).size
    assert w > h  # the blocks side by side
