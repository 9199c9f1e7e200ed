"""What a saved picture shows, read back from its PNG: something rather than nothing, colour or only grey."""
from __future__ import annotations

import io

import numpy as np
from PIL import Image


def rgb(png) -> np.ndarray:
    """A PNG (path or bytes) as H x W x 3 int arrays of its red, green and blue channels."""
    src = io.BytesIO(png) if isinstance(png, bytes) else png
    with Image.open(src) as im:
        return np.asarray(im.convert("RGB")).astype(int)


def assert_shows_something(png) -> None:
    pixels = rgb(png)
    assert pixels.std() > 5, f"{png} is blank"


def assert_grey(png) -> None:
    """Drawn on the grey scale: red, green and blue equal in every pixel (no colour map, no colour)."""
    pixels = rgb(png)
    assert pixels.std() > 5, f"{png} is blank"
    assert (pixels[..., 0] == pixels[..., 1]).all() and (pixels[..., 1] == pixels[..., 2]).all(), \
        f"{png}: grey images drawn in colour"


def assert_coloured(png, fraction: float = 0.01) -> None:
    """The red channel differs from the green one: at least `fraction` of the pixels are clearly red
    (red well above green) and as many clearly green (green well above red), as in `fakes.colour_pattern`."""
    pixels = rgb(png)
    red = pixels[..., 0] - pixels[..., 1]
    assert (red > 100).mean() > fraction and (red < -100).mean() > fraction, f"{png}: no red and green areas"


def size_of(png) -> tuple[int, int]:
    """(width, height) in pixels."""
    with Image.open(png) as im:
        return im.size


def figure_texts(monkeypatch, module) -> list[str]:
    """Record the legend entries, axis titles and suptitle of every figure `module` saves (through its `save`,
    before the figure is closed) into the list returned."""
    seen: list[str] = []
    real_save = module.save

    def save(fig, path):
        for ax in fig.axes:
            if ax.get_legend() is not None:
                seen.extend(t.get_text() for t in ax.get_legend().get_texts())
            seen.append(ax.get_title())
        seen.append(fig._suptitle.get_text() if fig._suptitle is not None else "")
        return real_save(fig, path)

    monkeypatch.setattr(module, "save", save)
    return seen
