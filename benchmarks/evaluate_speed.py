"""How long scoring 10k samples takes (target: under 30 s on 2 cores), side by side with the plain way.

Ours: `sample_quality` with the test-set features cached (after a first, cold call that fills the
cache), sample features computed once and shared by FID, KID and precision/recall.
Plain: torchmetrics FID and KID fed images, so each runs the feature network on both the 10k
samples and the 10k test images (what one gets without the cache), plus our precision/recall.

Prints one JSON line: seconds for each, their ratio, and whether the 30 s target is met.
Usage: python benchmarks/evaluate_speed.py [--n 10000] [--threads T]
"""
from __future__ import annotations

import argparse
import json
import time

import torch


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--n", type=int, default=10000)
    p.add_argument("--threads", type=int, default=None)
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    from torchmetrics.image.fid import FrechetInceptionDistance
    from torchmetrics.image.kid import KernelInceptionDistance

    from latentspace.analysis import quality as Q
    from latentspace.analysis import scoring as E
    from latentspace.data.images import load_splits, to_float
    from latentspace.models.featurenet import load_feature_net

    splits = load_splits("fashion-mnist")
    samples = splits.train.images[: args.n].numpy()  # stand-ins for generated images
    net, _ = load_feature_net("fashion-mnist")

    E._MEMORY.clear()
    t = time.perf_counter()
    cold = E.sample_quality(samples, n=args.n)  # may still read the disk cache of an earlier run
    cold_s = time.perf_counter() - t
    t = time.perf_counter()
    warm = E.sample_quality(samples, n=args.n)
    warm_s = time.perf_counter() - t
    assert warm == cold

    class ImageFeatures(torch.nn.Module):
        """What a user without our feature cache would do: the network run on the images inside torchmetrics."""
        num_features = net.arch.feature_dim

        def forward(self, x):
            with torch.no_grad():
                return net.features(to_float(x[:, 0])).double()

    t = time.perf_counter()
    extractor = ImageFeatures()
    fid = FrechetInceptionDistance(feature=extractor, input_img_size=(1, 28, 28))
    kid = KernelInceptionDistance(feature=extractor, subsets=100, subset_size=min(1000, args.n))
    real_u8, fake_u8 = splits.test.images[: args.n, None], torch.from_numpy(samples)[:, None]
    for metric in (fid, kid):
        for start in range(0, args.n, 500):
            metric.update(real_u8[start:start + 500], real=True)
            metric.update(fake_u8[start:start + 500], real=False)
    plain_fid = float(fid.compute())
    kid.compute()
    real_f = Q.extract_features(net, splits.test.images[: args.n]).features
    Q.precision_recall(real_f, Q.extract_features(net, samples).features)
    plain_s = time.perf_counter() - t

    print(json.dumps({
        "benchmark": "evaluate_speed", "n": args.n, "threads": torch.get_num_threads(),
        "ours_cached_s": round(warm_s, 2), "ours_first_call_s": round(cold_s, 2), "plain_torchmetrics_s": round(plain_s, 2),
        "speedup_vs_plain": round(plain_s / warm_s, 2), "target_s": 30, "meets_target": warm_s < 30,
        "fid": round(warm["fid"], 4), "fid_plain": round(plain_fid, 4),
    }))


if __name__ == "__main__":
    main()
