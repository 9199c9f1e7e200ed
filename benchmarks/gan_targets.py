"""Issue 25's targets (a)-(d), side by side in one run: each contestant trained in this process for the same CPU
time (benchmarks/_gan.py), FID of 5,000 samples in our features.

(a) full Fashion-MNIST: the new default (`latentspace train gan`) against the default before issue 25 (BCE, no
    spectral norm, no augmentation, plain generator; `TODAY` below); target: FID at most 0.6x.
(b) small data, `--limit-train 500`, scored against the test set: `--recipe small-data` against the same recipe
    with `--augment none`; target: at most 0.5x.
(c) conditional (`--conditional`, full data): the share of samples our feature network classifies as the class
    asked for (target: at least 97 %), and each class's FID (its 500 samples against its test images).
(d) a folder of 300 RGB 32 x 32 pictures (Fashion-MNIST garments recoloured procedurally: a bright colour shaded by
    the garment's grey levels on a vertical gradient of two dark colours, padded from 28 to 32; `train/` 300,
    `val/` 50, `test/` 2,000, ten class folders), `latentspace train gan --dataset folder:PATH --recipe small-data`.
    The feature space: our feature network trained on 10,000 other recoloured training images (disjoint from the
    300), since 350 images are too few to train one. Reports FID against the folder's 2,000 test images, and the
    copy check: each sample's distance to its nearest training image against that training image's distance to
    its own nearest other training image (a sample closer than that is copy-like), with the folder's test
    images as the control (real pictures that are not copies); figures/nearest.png shows samples above their
    nearest training images.

usage: python benchmarks/gan_targets.py [--minutes 10] [--targets a,b,c,d] [--samples 5000] [--out DIR]
       python benchmarks/gan_targets.py --minutes 0.3 --samples 500        # a dry run: everything runs (minutes)
Prints one JSON line per target as it finishes, then one with all of them.
"""
from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np
import torch
from _gan import copy_check, draw, emit, fid, load, log, nearest, set_threads, train_gan

# the default before issue 25 (Adam 4e-4, (0.5, 0.99), batch 16: gan_fid.py's last recipe), spelled out so that
# it stays what it was whatever the defaults become
TODAY = {"loss": "bce", "spectral_norm": False, "augment": "none", "ema": False, "lr_d": None, "lr": 4e-4,
         "beta1": 0.5, "beta2": 0.99, "batch_size": 16}
TARGETS = {"a": 0.6, "b": 0.5, "c": 0.97}
FOLDER_COUNTS = {"train": 30, "val": 5, "test": 200}  # per class: 300, 50 and 2,000 images


def target_a(root: Path, minutes: float, n: int) -> dict:
    out = {}
    for name, model in (("today", TODAY), ("new_default", {})):
        run, info = train_gan(root / f"a-{name}", minutes, model)
        out[name] = {**fid(draw(load(run.path), n), n), **info, "run": str(run.path)}
    ratio = out["new_default"]["fid"] / out["today"]["fid"]
    return {"target": "a", **out, "fid_ratio": round(ratio, 4), "goal": TARGETS["a"], "pass": ratio <= TARGETS["a"]}


def target_b(root: Path, minutes: float, n: int) -> dict:
    out = {}
    for name, model in (("without_diffaug", {"augment": "none"}), ("small_data_recipe", {})):
        run, info = train_gan(root / f"b-{name}", minutes, model, {"limit_train": 500}, recipe="small-data",
                              figures=True)
        out[name] = {**fid(draw(load(run.path), n), n), **info, "run": str(run.path)}
    ratio = out["small_data_recipe"]["fid"] / out["without_diffaug"]["fid"]
    return {"target": "b", **out, "fid_ratio": round(ratio, 4), "goal": TARGETS["b"], "pass": ratio <= TARGETS["b"]}


def target_c(root: Path, minutes: float, n: int) -> dict:
    from latentspace.analysis.quality import extract_features, fid_kid
    from latentspace.data.images import load_splits
    from latentspace.models.featurenet import load_feature_net

    run, info = train_gan(root / "c-conditional", minutes, {"conditional": True}, figures=True)
    model = load(run.path)
    k = model.num_classes
    per_class = max(2, n // k)
    labels = torch.arange(k).repeat_interleave(per_class)
    samples = draw(model, len(labels), labels=labels)
    net, _ = load_feature_net("fashion-mnist")
    fake = extract_features(net, samples)
    test = load_splits("fashion-mnist").test
    real = extract_features(net, test.images)
    recognised = (fake.probs.argmax(1) == labels).float()
    classes = {}
    for c in range(k):
        f, r = fake.features[labels == c], real.features[test.labels == c]
        q = fid_kid(r, f, kid_subset_size=min(len(f), len(r), 1000))
        classes[test.classes[c]] = {"fid": round(float(q["fid"]), 4), "recognised": round(float(recognised[labels == c].mean()), 4)}
    share = float(recognised.mean())
    return {"target": "c", "recognised": round(share, 4), "goal": TARGETS["c"], "pass": share >= TARGETS["c"],
            "per_class": classes, "samples_per_class": per_class, "overall": fid(samples, n), **info,
            "run": str(run.path)}


# ---------------------------------------------------------------- (d): a folder of 300 colour pictures

def recolour(grey: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """N x 28 x 28 grey garments -> N x 32 x 32 x 3: a bright colour shaded by the grey levels over a vertical
    gradient between two dark colours, padded by 2 pixels of background."""
    g = np.pad(grey, ((0, 0), (2, 2), (2, 2))).astype(np.float64)[..., None] / 255.0
    n = len(g)
    top, bottom = rng.uniform(0, 0.45, (n, 1, 1, 3)), rng.uniform(0, 0.45, (n, 1, 1, 3))
    t = np.linspace(0, 1, 32)[None, :, None, None]
    background = top * (1 - t) + bottom * t
    colour = rng.uniform(0.45, 1.0, (n, 1, 1, 3))
    return np.round((background * (1 - g) + colour * g) * 255).astype(np.uint8)


def _first_per_class(labels: np.ndarray, per_class: int, skip: int = 0) -> np.ndarray:
    return np.concatenate([np.flatnonzero(labels == c)[skip:skip + per_class] for c in range(10)])


def build_folder(path: Path) -> Path:
    """The folder of target (d), made once (a marker file says it is complete)."""
    from PIL import Image

    from latentspace.data.images import load_splits

    marker = path / ".complete"
    if marker.is_file():
        return path
    fm = load_splits("fashion-mnist")
    rng = np.random.default_rng(25)
    train_x, train_y = fm.train.arrays(), fm.train.labels.numpy()
    parts = {"train": (train_x, train_y, 0), "val": (train_x, train_y, FOLDER_COUNTS["train"]),
             "test": (fm.test.arrays(), fm.test.labels.numpy(), 0)}
    for part, (x, y, skip) in parts.items():
        index = _first_per_class(y, FOLDER_COUNTS[part], skip)
        for i, image in zip(index, recolour(x[index], rng)):
            d = path / part / fm.classes[y[i]].replace("/", "-")
            d.mkdir(parents=True, exist_ok=True)
            Image.fromarray(image).save(d / f"{i:05d}.png")
    marker.write_text("300 train, 50 val, 2000 test\n")
    return path


def recoloured_feature_net(root: Path):
    """Our feature network trained on 10,000 recoloured training images that are not in the folder."""
    from latentspace.commands.feature_net import train_feature_net
    from latentspace.data.images import ImageSet, Splits, load_splits
    from latentspace.models.featurenet import FeatureNet, FeatureNetArch

    out = root / "feature-net"
    fm = load_splits("fashion-mnist")
    rng = np.random.default_rng(2025)
    used = FOLDER_COUNTS["train"] + FOLDER_COUNTS["val"]
    x, y = fm.train.arrays(), fm.train.labels.numpy()
    index = _first_per_class(y, 1000, skip=used)
    train = ImageSet(torch.from_numpy(recolour(x[index], rng)), torch.from_numpy(y[index]), fm.classes, "recoloured")
    test_index = _first_per_class(fm.test.labels.numpy(), 100, skip=FOLDER_COUNTS["test"])
    test = ImageSet(torch.from_numpy(recolour(fm.test.arrays()[test_index], rng)),
                    fm.test.labels[test_index], fm.classes, "recoloured")
    splits = Splits(train, test, test, fm.classes, "recoloured-fashion-mnist", content="recoloured-features-v1")
    if not any(out.glob("*.pt")):
        record = train_feature_net(splits=splits, out_dir=out, progress=False)
        log(f"feature network for (d): test accuracy {record.get('test_accuracy')}")
    pt = next(out.glob("*.pt"))
    meta = json.loads(pt.with_suffix(".json").read_text())
    net = FeatureNet(FeatureNetArch(**meta["architecture"]))
    net.load_state_dict(torch.load(pt, map_location="cpu", weights_only=True))
    return net.eval(), meta


def target_d(root: Path, minutes: float, n: int) -> dict:
    from latentspace.analysis.quality import compare, extract_features
    from latentspace.data.images import load_splits
    from latentspace.figures.plots import plot_image_rows

    folder = build_folder(root / "folder-300")
    net, meta = recoloured_feature_net(root)
    run, info = train_gan(root / "d-folder", minutes, {}, {"dataset": f"folder:{folder}"}, recipe="small-data",
                          figures=True)
    model = load(run.path)
    splits = load_splits(f"folder:{folder}")
    samples = draw(model, n)
    shape = tuple(splits.image_shape)
    fake = extract_features(net, samples, shape=shape)
    train = extract_features(net, splits.train.arrays(), shape=shape)
    test = extract_features(net, splits.test.arrays(), shape=shape)
    q = compare(test, fake)
    copies = copy_check(fake.features, train.features, test.features)
    _, idx = nearest(fake.features[:10], train.features)
    figure = plot_image_rows([samples[:10], splits.train.arrays()[idx.numpy()]],
                             ["sample", "nearest training\nimage (features)"],
                             "Folder of 300 pictures: samples above their nearest training images",
                             run.figures / "nearest.png")
    return {"target": "d", "train_images": len(splits.train), "fid": round(float(q["fid"]), 4),
            "precision": round(float(q["precision"]), 4), "recall": round(float(q["recall"]), 4),
            "copies": copies, "feature_net_test_accuracy": meta.get("test_accuracy"), **info,
            "run": str(run.path), "figures": [str(run.figures / f) for f in ("samples.png", "augmented.png")]
            + [str(figure)]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0, help="CPU-minutes of training per contestant")
    ap.add_argument("--targets", default="a,b,c,d")
    ap.add_argument("--samples", type=int, default=5000, help="samples scored (and test images they meet)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", help="keep runs, the folder and figures here (default: a temporary directory)")
    a = ap.parse_args(argv)
    set_threads(a.threads)
    steps = {"a": target_a, "b": target_b, "c": target_c, "d": target_d}
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(a.out or tmp)
        for t in [t.strip() for t in a.targets.split(",") if t.strip()]:
            log(f"target ({t}), {a.minutes} CPU-minutes per contestant")
            results[t] = steps[t](root, a.minutes, a.samples)
            emit(dict(results[t]))
    emit({"benchmark": "gan_targets", "minutes": a.minutes, "samples": a.samples, "threads": a.threads,
          "targets": results, "pass": {t: r.get("pass") for t, r in results.items()}})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
