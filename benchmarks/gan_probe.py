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

from _gan import draw, emit, fid, load, log, set_threads, train_gan

VARIANTS = {
    "bce": {},                                                   # the default before issue 25
    "bce-diffaug": {"augment": "diffaug"},
    "bce-tc": {"augment": "diffaug:translation,cutout"},
    "hinge": {"loss": "hinge"},                                  # spectral norm in D with it
    "hinge-diffaug": {"loss": "hinge", "augment": "diffaug"},
    "hinge-tc": {"loss": "hinge", "augment": "diffaug:translation,cutout"},
    "hinge-ttur": {"loss": "hinge", "lr_d": 8e-4},
    "bce-ttur": {"lr_d": 8e-4},
    "hinge-nosn": {"loss": "hinge", "spectral_norm": False},
}
DATA = {"full": {}, "small": {"limit_train": 500}}


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
            scores = {which: fid(draw(model, a.samples, ema=which == "ema"), a.samples) for which in ("plain", "ema")}
            emit({"probe": "gan", "data": a.data, "variant": name, "seed": a.seed, "minutes": a.minutes, **info,
                  "fid": scores["plain"]["fid"], "fid_ema": scores["ema"]["fid"], "scores": scores})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
