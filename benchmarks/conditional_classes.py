"""Benchmark: does a class-conditional model draw the class it is asked for? (issue 23: the conditional VAE,
target 95 %; issue 24: the conditional flow model, 95 % at the default guidance; issue 25: the conditional GAN, 97 %).

Trains `latentspace train KIND --conditional` with the model's defaults (or takes `--run RUN`), then scores n
samples drawn for every class in turn (n / classes each) in our feature network: the share classified as the
class asked for, per class, and each class's FID against that class's test images. Prints one JSON line.

    python benchmarks/conditional_classes.py --kind vae [--n 10000] [--minutes M] [--run RUN] [-- EXTRA TRAIN FLAGS]

For scale: our feature network itself classifies 93-94 % of the real Fashion-MNIST test images correctly
(`feature-net`'s record), and shirts, T-shirts, pullovers and coats are its usual confusions, so a sample set
is held to a higher bar than the real images where the target is above that.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, log, run_json  # noqa: E402


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--kind", default="vae", help="model kind trained with --conditional (default: vae)")
    p.add_argument("--run", help="score this conditional run instead of training one")
    p.add_argument("--n", type=int, default=10000, help="samples, every class in turn (default: 10000)")
    p.add_argument("--minutes", type=float, help="train with --max-time MINUTES (default: the model's epochs)")
    p.add_argument("extra", nargs="*", help="more `train` flags, after --")
    args = p.parse_args(argv)
    from latentspace.commands.evaluate import evaluate_run
    from latentspace.models.featurenet import load_feature_net

    with tempfile.TemporaryDirectory() as tmp:
        run = Path(args.run) if args.run else Path(tmp) / "run"
        train_s = None
        if not args.run:
            cmd = [sys.executable, "-m", "latentspace.cli", "train", args.kind, "--conditional", "--out", run,
                   "--no-progress", *(["--max-time", args.minutes] if args.minutes else []), *args.extra]
            t0 = time.perf_counter()
            run_json(cmd, timeout=24 * 3600)
            train_s = round(time.perf_counter() - t0, 1)
        log(f"scoring {args.n} samples of {run}")
        m = evaluate_run(run, n=args.n, floor=False)
        real_acc = load_feature_net()[1].get("test_accuracy")
        print(json.dumps({"benchmark": "conditional_classes", "kind": args.kind, "n": args.n,
                          "train_wall_s": train_s, "class_accuracy": round(m["class_accuracy"], 4),
                          "per_class": m["class_accuracy_per_class"], "class_fid": m["class_fid_per_class"],
                          "fid": m["fid"], "feature_net_test_accuracy": real_acc,
                          "command": " ".join(sys.argv)}))


if __name__ == "__main__":
    _ = ROOT
    main()
