"""Data files the tests make, in the real formats: IDX (gzipped or not) and small fake IDX datasets."""
from __future__ import annotations

import gzip
import struct

import numpy as np

from latentspace.data.registry import get_spec


def write_idx(path, array: np.ndarray, dtype_code=0x08, gz=True, truncate=0, header_dims=None):
    dims = header_dims if header_dims is not None else array.shape
    raw = bytes([0, 0, dtype_code, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + array.tobytes()
    raw = raw[: len(raw) - truncate] if truncate else raw
    with (gzip.open if gz else open)(path, "wb") as f:
        f.write(raw)
    return path


def fake_dataset(directory, n_train=50, n_test=20, seed=0):
    """The four IDX files of a tiny random dataset in Fashion-MNIST's file names."""
    rng = np.random.default_rng(seed)
    spec = get_spec("fashion-mnist")
    for split, n in (("train", n_train), ("test", n_test)):
        write_idx(directory / spec.files[f"{split}_images"][0], rng.integers(0, 256, (n, 28, 28), dtype=np.uint8))
        write_idx(directory / spec.files[f"{split}_labels"][0], rng.integers(0, 10, n, dtype=np.uint8))
    return directory


# ---------------------------------------------------------------- CIFAR-10, SVHN, image folders, a local mirror

def cifar_records(n: int, seed: int = 0) -> tuple[bytes, np.ndarray, np.ndarray]:
    """n CIFAR-10 binary records (label byte + 3072 bytes CHW), with the images as N x 32 x 32 x 3 and labels."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)
    labels = rng.integers(0, 10, n, dtype=np.uint8)
    rec = np.concatenate([labels[:, None], images.transpose(0, 3, 1, 2).reshape(n, -1)], axis=1)
    return rec.tobytes(), images, labels.astype(np.int64)


def write_cifar_archive(path, n_per_batch: int = 20, seed: int = 0, extra=None, truncate_batch: int = 0):
    """A cifar-10-binary.tar.gz in the official layout; returns (train images, train labels, test images,
    test labels). `extra(tar)` may add members (unsafe ones, for the tests)."""
    import io
    import tarfile

    parts = [cifar_records(n_per_batch, seed + i) for i in range(6)]
    names = [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]
    meta = b"airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n"
    with tarfile.open(path, "w:gz") as tar:
        def add(name, data):
            info = tarfile.TarInfo(f"cifar-10-batches-bin/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name, (raw, _, _) in zip(names, parts):
            add(name, raw[: len(raw) - truncate_batch] if truncate_batch and name == "test_batch.bin" else raw)
        add("batches.meta.txt", meta)
        if extra:
            extra(tar)
    tr_x = np.concatenate([p[1] for p in parts[:5]])
    tr_y = np.concatenate([p[2] for p in parts[:5]])
    return tr_x, tr_y, parts[5][1], parts[5][2]


def write_svhn_mat(path, n: int = 30, seed: int = 0):
    """An SVHN cropped-digits .mat file (X 32 x 32 x 3 x N uint8, y N x 1 in 1..10); returns (images, digits)."""
    import scipy.io

    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)
    y = rng.integers(1, 11, (n, 1)).astype(np.uint8)
    y[0, 0] = 10  # the file's 10 is the digit 0
    scipy.io.savemat(path, {"X": images.transpose(1, 2, 3, 0), "y": y})
    return images, (y[:, 0] % 10).astype(np.int64)


SHAPE_COLOURS = {"circles": (220, 40, 40), "squares": (40, 200, 60), "triangles": (50, 70, 230)}


def shape_image(kind: str, size=(32, 32), seed: int = 0, mode: str = "RGB"):
    """A coloured shape on a dark background (PIL image): circles red, squares green, triangles blue."""
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(seed)
    w, h = size
    img = Image.new("RGB", size, tuple(int(v) for v in rng.integers(0, 40, 3)))
    d = ImageDraw.Draw(img)
    m = int(rng.integers(1, max(2, min(w, h) // 6)))
    box = (m, m, w - 1 - m, h - 1 - m)
    colour = SHAPE_COLOURS.get(kind, (200, 200, 200))
    if kind == "circles":
        d.ellipse(box, fill=colour)
    elif kind == "squares":
        d.rectangle(box, fill=colour)
    else:
        d.polygon([(w // 2, m), (w - 1 - m, h - 1 - m), (m, h - 1 - m)], fill=colour)
    return img.convert(mode)


def shapes_folder(root, per_class: int = 6, size=(32, 32), classes=tuple(SHAPE_COLOURS), fmt: str = "png"):
    """Class subfolders of coloured shapes: root/<class>/<i>.<fmt>."""
    from pathlib import Path

    root = Path(root)
    for c in classes:
        (root / c).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            shape_image(c, size, seed=i).save(root / c / f"{i}.{fmt}")
    return root


def flat_folder(root, n: int = 12, size=(32, 32)):
    """A flat folder of n images (no classes)."""
    from pathlib import Path

    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    kinds = list(SHAPE_COLOURS)
    for i in range(n):
        shape_image(kinds[i % 3], size, seed=i).save(root / f"img{i:03d}.png")
    return root


class LocalMirror:
    """An HTTP server on 127.0.0.1 serving `root` (a context manager; `.url` is its base address)."""

    def __init__(self, root):
        import functools
        import http.server

        handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
        handler.log_message = lambda *a: None
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"

    def __enter__(self):
        import threading

        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
