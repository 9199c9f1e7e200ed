"""Images made to one shape as they are decoded: center-cropped to a square, resized with Pillow's antialiased
LANCZOS filter, converted to 1 or 3 channels. Arrays are uint8 N x H x W x C, as at rest everywhere."""
from __future__ import annotations

import sys

import numpy as np
from PIL import Image


def log(message: str) -> None:
    """The data layer's log line (stderr, so a command's stdout stays its result)."""
    print(f"latentspace: {message}", file=sys.stderr)


def square(img: Image.Image) -> Image.Image:
    """The centered square crop of an image (itself when already square)."""
    w, h = img.size
    if w == h:
        return img
    s = min(w, h)
    left, top = (w - s) // 2, (h - s) // 2
    return img.crop((left, top, left + s, top + s))


def to_mode(img: Image.Image, channels: int) -> Image.Image:
    """Grey ("L") or RGB; transparency is composited onto white, palettes expanded."""
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, rgba)
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):  # 16-bit grey: scale to 8 bits
        img = Image.fromarray((np.asarray(img, dtype=np.uint32) >> 8).clip(0, 255).astype(np.uint8))
    return img.convert("L" if channels == 1 else "RGB")


def conform_image(img: Image.Image, size: int, channels: int) -> np.ndarray:
    """One image as uint8 size x size x channels."""
    img = square(to_mode(img, channels))
    if img.size != (size, size):
        img = img.resize((size, size), Image.Resampling.LANCZOS, reducing_gap=None)
    arr = np.asarray(img, dtype=np.uint8)
    return arr[..., None] if arr.ndim == 2 else arr


def conform(images: np.ndarray, size: int | None, channels: int | None, name: str = "images") -> np.ndarray:
    """uint8 N x H x W x C arrays at `size` x `size` and `channels` (None: keep); logs what it changes."""
    n, h, w, c = images.shape
    size, channels = size or min(h, w), channels or c
    if (h, w, c) == (size, size, channels):
        return images
    changes = []
    if (h, w) != (size, size):
        changes.append(f"resizing from {h} x {w} to {size} x {size}")
    if c != channels:
        changes.append(f"converting from {c} to {channels} channel{'s' if channels > 1 else ''}")
    log(f"{name}: {' and '.join(changes)}")
    out = np.empty((n, size, size, channels), np.uint8)
    for i in range(n):
        x = images[i]
        img = Image.fromarray(x[..., 0] if c == 1 else x, "L" if c == 1 else "RGB")
        out[i] = conform_image(img, size, channels)
    return out
