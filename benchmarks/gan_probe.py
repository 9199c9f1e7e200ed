"""Probes that chose the GAN's defaults (issue 25): variants trained one after the other in ONE process, each for
the same CPU time (benchmarks/_gan.py), then FID of 5,000 samples in our features against 5,000 test images.

Every variant trains with `ema=True` (the average costs the same in every variant and does not touch training),
so each row gives the plain generator's FID and the EMA generator's from the same run.

usage: python benchmarks/gan_probe.py --data full|small [--minutes 3] [--variants a,b] [--seed 0] [--threads 1]
"full" is all of Fashion-MNIST's training split; "small" its first 500 images (`--limit-train 500`), scored
against the same test images.

Measured: see the tables below (filled in from this script's output).
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from _gan import copy_check, draw, emit, fid, load, log, set_threads, train_gan

VARIANTS = {
    "bce": {},                                                   # the default before issue 25
    "bce-diffaug": {"augment": "diffaug"},
    "bce-tc": {"augment": "diffaug:translation,cutout"},
    "hinge": {"loss": "hinge"},                                  # spectral norm in D with it
    "hinge-diffaug": {"loss": "hinge", "augment": "diffaug"},
    "hinge-tc": {"loss": "hinge", "augment": "diffaug:translation,cutout"},
    "hinge-ttur": {"loss": "hinge", "lr_d": 8e-4},
    "bce-ttur": {"lr_d": 8e-4},
    "bce-slowd": {"lr_d": 2e-4},
    "hinge-nosn": {"loss": "hinge", "spectral_norm": False},
}
# "tiny": 150 images, so that 3 CPU-minutes show each image to D as often as 10 minutes on 500 do (about 200
# times): memorisation, which DiffAugment is for, needs that many passes to show
DATA = {"full": {}, "small": {"limit_train": 500}, "tiny": {"limit_train": 150}}


def copies_of(samples, limit_train: int | None, seed: int) -> dict | None:
    """The copy check (_gan.copy_check) of samples against the training images of a small-data run, in our
    features, with 2,000 test images as the control; None for the full training set."""
    if not limit_train:
        return None
    from latentspace.analysis.quality import extract_features
    from latentspace.data.images import load_splits
    from latentspace.models.featurenet import load_feature_net

    net, _ = load_feature_net("fashion-mnist")
    splits = load_splits("fashion-mnist", seed=seed, limit_train=limit_train)  # as the trainer loads them
    f = {name: extract_features(net, x).features for name, x in
         (("samples", samples[:2000]), ("train", splits.train.images), ("test", splits.test.images[:2000]))}
    return copy_check(f["samples"], f["train"], f["test"])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", choices=tuple(DATA), default="full")
    ap.add_argument("--minutes", type=float, default=3.0, help="CPU-minutes of training per variant")
    ap.add_argument("--variants", default="bce,hinge,bce-diffaug,hinge-diffaug")
    ap.add_argument("--samples", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", help="keep the runs here (default: a temporary directory)")
    a = ap.parse_args(argv)
    set_threads(a.threads)
    names = [v.strip() for v in a.variants.split(",") if v.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(a.out or tmp)
        for name in names:
            log(f"{name} on {a.data} data, {a.minutes} CPU-minutes")
            run, info = train_gan(root / f"{a.data}-{name}-s{a.seed}", a.minutes,
                                  {**VARIANTS[name], "ema": True}, {**DATA[a.data], "seed": a.seed})
            model = load(run.path)
            samples = {which: draw(model, a.samples, ema=which == "ema") for which in ("plain", "ema")}
            scores = {which: fid(images, a.samples) for which, images in samples.items()}
            copies = copies_of(samples["plain"], DATA[a.data].get("limit_train"), a.seed)
            emit({"probe": "gan", "data": a.data, "variant": name, "seed": a.seed, "minutes": a.minutes, **info,
                  "fid": scores["plain"]["fid"], "fid_ema": scores["ema"]["fid"], "scores": scores, "copies": copies})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
