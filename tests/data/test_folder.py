"""Image folders the tests make: classes from subfolders, flat (unlabelled), train/test parts, mixed sizes and
modes, broken and foreign files, and the memory-mapped cache keyed by the folder's content."""
from __future__ import annotations

import gc
import os
import warnings

import numpy as np
import pytest
import torch
from PIL import Image

from latentspace.data import folder
from latentspace.data.images import load_splits, run_splits
from latentspace.data.loader import batch_loader
from latentspace.errors import LatentspaceError
from tests.datafiles import SHAPE_COLOURS, flat_folder, shape_image, shapes_folder


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LATENTSPACE_CACHE", str(tmp_path / "cache"))


def test_class_subfolders_give_labels_and_a_seeded_80_10_10_split(tmp_path):
    root = shapes_folder(tmp_path / "shapes", per_class=10)
    s = load_splits(f"folder:{root}")
    assert s.classes == ("circles", "squares", "triangles") and s.labelled
    assert (len(s.train), len(s.val), len(s.test)) == (24, 3, 3)
    assert s.name == f"folder:{root.resolve()}" and s.directory == root.resolve()
    assert s.image_shape == (3, 32, 32) and s.train.images.dtype == torch.uint8
    assert s.identity.startswith("folder-") and s.identity.endswith("-3x32x32") and len(s.identity.split("-")[1]) == 12
    # every image carries its class's colour: labels belong to their images
    for part in (s.train, s.val, s.test):
        for img, label in zip(part.images.numpy(), part.labels.tolist()):
            centre = img[16, 16].astype(int)
            assert np.abs(centre - SHAPE_COLOURS[s.classes[label]]).max() < 30
    again = load_splits("folder", data_dir=root, seed=5)
    assert torch.equal(again.test.images, s.test.images), "the split changed between opens"


def test_flat_folder_is_unlabelled(tmp_path):
    s = load_splits(f"folder:{flat_folder(tmp_path / 'flat', 12)}")
    assert s.classes == () and not s.labelled
    assert set(torch.cat([s.train.labels, s.val.labels, s.test.labels]).tolist()) == {-1}
    assert len(s.train) + len(s.val) + len(s.test) == 12


def test_train_and_test_subfolders_are_respected(tmp_path):
    root = tmp_path / "parts"
    shapes_folder(root / "train", per_class=5)
    shapes_folder(root / "test", per_class=2)
    s = load_splits(f"folder:{root}")
    assert len(s.test) == 6 and len(s.train) + len(s.val) == 15 and len(s.val) == 2
    assert sorted(s.test.labels.tolist()) == [0, 0, 1, 1, 2, 2]


def test_val_subfolder_serves_as_the_test_part_without_test(tmp_path):
    root = tmp_path / "parts"
    shapes_folder(root / "train", per_class=4)
    shapes_folder(root / "val", per_class=1)
    s = load_splits(f"folder:{root}")
    assert len(s.test) == 3 and len(s.train) + len(s.val) == 12


def test_mixed_sizes_use_the_most_common_and_crop_non_square_ones(tmp_path, capfd):
    root = flat_folder(tmp_path / "mixed", 10, size=(24, 24))
    shape_image("circles", (48, 24), seed=1).save(root / "wide.png")  # non-square: center-cropped
    shape_image("squares", (40, 40), seed=2).save(root / "big.png")
    s = load_splits(f"folder:{root}")
    assert s.image_shape == (3, 24, 24)
    assert "resizing 2 of 12 images to 24 x 24" in capfd.readouterr().err
    s32 = load_splits(f"folder:{root}", image_size=32)
    assert s32.image_shape == (3, 32, 32) and s32.identity != s.identity


def test_a_grey_png_among_rgb_ones_makes_a_colour_set_and_all_grey_a_grey_one(tmp_path, capfd):
    root = flat_folder(tmp_path / "rgb", 11)
    shape_image("circles", (32, 32), mode="L").save(root / "grey.png")
    s = load_splits(f"folder:{root}")
    assert s.image_shape == (3, 32, 32)
    assert "converting 1 of 12 images to RGB" in capfd.readouterr().err
    grey = tmp_path / "grey"
    grey.mkdir()
    for i in range(10):
        shape_image("squares", (20, 20), seed=i, mode="L").save(grey / f"{i}.png")
    g = load_splits(f"folder:{grey}")
    assert g.image_shape == (1, 20, 20)
    assert load_splits(f"folder:{grey}", channels=3).image_shape == (3, 20, 20)


def test_jpeg_and_webp_are_read(tmp_path):
    root = shapes_folder(tmp_path / "jpg", per_class=2, fmt="jpg")
    shapes_folder(tmp_path / "jpg", per_class=2, classes=("webps",), fmt="webp")
    for i in range(4):
        shape_image("squares", seed=i).save(root / "squares" / f"p{i}.png")
    s = load_splits(f"folder:{root}")
    assert len(s.train) + len(s.val) + len(s.test) == 12 and "webps" in s.classes


def test_a_corrupt_png_is_an_error_naming_it_and_nothing_is_cached(tmp_path, capfd):
    root = flat_folder(tmp_path / "broken", 12)
    raw = (root / "img005.png").read_bytes()
    (root / "img005.png").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(LatentspaceError, match=r"img005\.png: unreadable or truncated image"):
        load_splits(f"folder:{root}")
    assert not list((tmp_path / "cache").rglob("*.npy")) and not list((tmp_path / "cache").rglob("meta.json"))
    assert capfd.readouterr().err == "", "a failed decode said more than its error"


def test_a_png_with_a_broken_header_is_an_error_naming_it(tmp_path):
    root = flat_folder(tmp_path / "broken", 12)
    (root / "img003.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)
    with pytest.raises(LatentspaceError, match=r"img003\.png: unreadable image"):
        load_splits(f"folder:{root}")


def test_a_text_file_named_png_is_skipped_and_counted(tmp_path, capfd):
    root = flat_folder(tmp_path / "flat", 12)
    (root / "notes.png").write_text("not a picture")
    (root / "README.txt").write_text("my images")
    (root / ".DS_Store").write_bytes(b"\0\0")
    s = load_splits(f"folder:{root}")
    assert len(s.train) + len(s.val) + len(s.test) == 12 and s.skipped == 2
    assert "skipped 2 files that are not an image" in capfd.readouterr().err


@pytest.mark.parametrize("n, message", [(0, "no files in this folder"), (9, "only 9 images")])
def test_empty_and_too_small_folders(tmp_path, n, message):
    root = tmp_path / "few"
    root.mkdir()
    if n:
        flat_folder(root, n)
    with pytest.raises(LatentspaceError, match=message):
        load_splits(f"folder:{root}")


def test_only_non_images_is_an_error_that_counts_them(tmp_path):
    root = tmp_path / "text"
    root.mkdir()
    (root / "a.png").write_text("x")
    with pytest.raises(LatentspaceError, match=r"no PNG, JPEG or WebP images \(1 file that are not images skipped\)"):
        load_splits(f"folder:{root}")


def test_missing_folder_and_missing_path(tmp_path):
    with pytest.raises(LatentspaceError, match="no such folder"):
        load_splits(f"folder:{tmp_path / 'nope'}")
    with pytest.raises(LatentspaceError, match="needs --data-dir"):
        load_splits("folder")


@pytest.mark.parametrize("size", [8, 15, 129, 512])
def test_image_size_bounds(tmp_path, size):
    with pytest.raises(LatentspaceError, match="--image-size must be between 16 and 128"):
        load_splits(f"folder:{flat_folder(tmp_path / 'f', 10)}", image_size=size)


def test_second_open_reads_the_cache_without_decoding(tmp_path, monkeypatch):
    root = shapes_folder(tmp_path / "shapes", per_class=4)
    first = load_splits(f"folder:{root}")
    calls = []
    monkeypatch.setattr(folder, "conform_image", lambda *a: calls.append(a))
    monkeypatch.setattr(folder, "_headers", lambda *a: calls.append(a))
    second = load_splits(f"folder:{root}")
    assert calls == [], "the folder was decoded again"
    assert torch.equal(first.train.images, second.train.images) and second.identity == first.identity


def test_a_content_change_makes_a_new_identity_and_a_new_decode(tmp_path):
    root = shapes_folder(tmp_path / "shapes", per_class=4)
    before = load_splits(f"folder:{root}")
    shape_image("circles", seed=99).save(root / "circles" / "new.png")
    added = load_splits(f"folder:{root}")
    assert added.identity != before.identity and len(added.train) + len(added.val) + len(added.test) == 13
    st = (root / "circles" / "new.png").stat()
    os.utime(root / "circles" / "new.png", ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert load_splits(f"folder:{root}").identity != added.identity, "a touched file kept the identity"
    caches = list((tmp_path / "cache" / "folders").iterdir())
    assert len(caches) == 1, "the caches of the folder's earlier contents were left behind"


def test_the_parts_are_slices_of_one_memory_map_not_copies(tmp_path):
    root = shapes_folder(tmp_path / "shapes", per_class=10)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # torch.from_numpy must not warn about a read-only array
        s = load_splits(f"folder:{root}")
    data = folder.load_folder(root)
    assert isinstance(data.images, np.memmap)
    base = s.train.images.data_ptr()
    assert s.val.images.data_ptr() == base + len(s.train) * 32 * 32 * 3
    assert s.test.images.data_ptr() == s.val.images.data_ptr() + len(s.val) * 32 * 32 * 3
    x, _ = s.train.__getitems__([0, 3])  # batches are gathered from it as usual
    assert x.shape == (2, 3, 32, 32) and x.dtype == torch.float32


def _mapped_kib(path) -> int:
    """Resident KiB of this process's mappings of `path` (from /proc/self/smaps)."""
    total, inside = 0, False
    for line in open("/proc/self/smaps"):
        head = line.split()
        if len(head) >= 5 and "-" in head[0] and ":" in head[3]:  # a mapping's header line
            inside = line.rstrip().endswith(str(path))
        elif inside and head[0] == "Rss:":
            total += int(head[1])
    return total


def test_batches_are_read_from_the_file_not_through_the_map(tmp_path):
    """Pages touched through a map are this process's resident memory (a folder larger than memory would not
    train); batches are read with pread, the same images in the same order, and the map stays untouched."""
    root = shapes_folder(tmp_path / "shapes", per_class=40, size=(64, 64))
    s = load_splits(f"folder:{root}")
    cache_file = folder.load_folder(root).images.filename
    for part in (s.train, s.val, s.test, s.train.head(50)):
        assert part.rows is not None and len(part.rows) == len(part)
        index = np.random.default_rng(0).permutation(len(part))[:37].tolist()
        x, y = part.__getitems__(index)
        assert torch.equal(x, part.floats(torch.tensor(index))) and torch.equal(y, part.labels[index])
    # a fresh open (the maps above let go): a whole epoch of batches leaves (almost) nothing of the file mapped in
    del s, part, x
    gc.collect()
    assert _mapped_kib(cache_file) == 0
    fresh = load_splits(f"folder:{root}")
    for batch in batch_loader(fresh.train, 16, shuffle=True):
        assert batch[0].shape[1:] == (3, 64, 64)
    assert _mapped_kib(cache_file) < 64, "batches were read through the memory map"
    with pytest.raises(IndexError):
        fresh.train.rows.read([len(fresh.train)])


def test_a_truncated_cache_file_is_a_clear_error_when_read(tmp_path):
    root = shapes_folder(tmp_path / "shapes", per_class=10)
    s = load_splits(f"folder:{root}")
    rows = s.test.rows
    short = tmp_path / "short.npy"
    short.write_bytes(open(rows.path, "rb").read()[: rows.offset + (rows.start + 1) * 32 * 32 * 3])
    with pytest.raises(LatentspaceError, match="truncated"):
        folder.FileRows(str(short), rows.offset, rows.row_shape, rows.start, rows.count).read([1])


def test_run_splits_reloads_the_same_data_with_size_and_channels(tmp_path):
    root = shapes_folder(tmp_path / "shapes", per_class=4)
    train = {"dataset": "folder", "data_dir": str(root), "seed": 0, "image_size": 16, "channels": 1}
    s = run_splits(train)
    assert s.image_shape == (1, 16, 16)
    assert torch.equal(s.test.images, load_splits(f"folder:{root}", image_size=16, channels=1).test.images)


def test_images_both_loose_and_in_class_folders_are_refused(tmp_path):
    root = shapes_folder(tmp_path / "shapes", per_class=4)
    shape_image("circles").save(root / "loose.png")
    with pytest.raises(LatentspaceError, match="both directly in it and in class subfolders"):
        load_splits(f"folder:{root}")


def test_transparent_images_are_put_on_white(tmp_path):
    root = flat_folder(tmp_path / "f", 10)
    Image.new("RGBA", (32, 32), (0, 0, 0, 0)).save(root / "clear.png")
    s = load_splits(f"folder:{root}")
    every = torch.cat([s.train.images, s.val.images, s.test.images])
    assert (every.reshape(len(every), -1) == 255).all(1).sum() == 1
