"""t-SNE of an autoencoder's 10k test codes (dimension 20): latentspace's openTSNE settings vs scikit-learn.

Side by side in one process, on the same codes, with the same number of threads (default 2):
scikit-learn's TSNE at its defaults (perplexity 30, Barnes-Hut, 1000 iterations) and openTSNE with
`latentspace.analysis.embed.TSNE_PARAMS`; UMAP's time beside them (when umap-learn is installed).

Quality is the final KL divergence. Each library reports its own (approximations, computed from slightly
different affinities), so both maps are also scored exactly against one common P (openTSNE's
perplexity-30 affinities from exact neighbours) with the exact Q over all pairs: `kl_exact`.
Target: openTSNE time <= 1/3 of scikit-learn's, and its KL at most 5% above scikit-learn's.

    python benchmarks/tsne.py                      # trains a small AE (latent 20) first
    python benchmarks/tsne.py --run runs/ae-z20-…  # the test codes of an existing run
    python benchmarks/tsne.py --latents codes.npy  # any N x D array
    python benchmarks/tsne.py --sweep              # also a few other openTSNE settings (for tuning)
    python benchmarks/tsne.py --no-sklearn --sklearn-result '{"time_s": 57, "kl": 1.48, "kl_exact": 1.49}'
                                                   # reuse a scikit-learn measurement (not side by side)

Prints one JSON line per openTSNE setting.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

# candidate settings for --sweep (overrides of TSNE_PARAMS)
SWEEP = {
    "opentsne-defaults": dict(initialization="pca", learning_rate="auto", early_exaggeration_iter=250,
                              early_exaggeration="auto", n_iter=500, negative_gradient_method="auto",
                              neighbors="auto"),
    "annoy-ee250-iter250": dict(neighbors="auto", early_exaggeration_iter=250, n_iter=250),
    "ee250-iter250": dict(early_exaggeration_iter=250, n_iter=250),
    "ee250-iter350": dict(early_exaggeration_iter=250, n_iter=350),
    "ee100-iter400": dict(early_exaggeration_iter=100, n_iter=400),
    "ee250-iter500": dict(early_exaggeration_iter=250, n_iter=500),
    "ee250-iter400-ints2": dict(early_exaggeration_iter=250, n_iter=400, ints_in_interval=2),
}


def test_codes(args) -> np.ndarray:
    if args.latents:
        return np.load(args.latents).astype(np.float32)
    from latentspace.analysis.encode import encode_images
    from latentspace.data.images import run_splits
    from latentspace.runs import load_run

    run_path = args.run
    if run_path is None:
        from latentspace.models.autoencoder_config import AEConfig
        from latentspace.training.config import TrainConfig
        from latentspace.training.trainer import fit

        run_path = Path(tempfile.mkdtemp(prefix="tsne-bench-")) / "ae20"
        print(f"training an autoencoder (latent 20, {args.epochs} epochs) into {run_path}", file=sys.stderr)
        fit("ae", AEConfig(latent_dim=20), TrainConfig(epochs=args.epochs), out=run_path, progress=False)
    model, run = load_run(run_path)
    return encode_images(model, run_splits(run.config()["train"]).test)["latent"]


def common_affinities(x, perplexity: float, n_jobs: int):
    from openTSNE.affinity import PerplexityBasedNN

    return PerplexityBasedNN(x.astype(np.float64), perplexity=perplexity, method="exact", n_jobs=n_jobs,
                             random_state=0, verbose=False).P.tocsr()


def exact_kl(P, y, chunk: int = 1000) -> float:
    """KL(P || Q) with the exact Student-t Q over all pairs of the map y."""
    y = np.asarray(y, dtype=np.float64)
    sq = (y * y).sum(1)
    z = 0.0
    for s in range(0, len(y), chunk):
        d2 = np.maximum(sq[s:s + chunk, None] + sq[None, :] - 2 * y[s:s + chunk] @ y.T, 0)
        w = 1.0 / (1.0 + d2)
        w[np.arange(len(w)), np.arange(s, s + len(w))] = 0.0
        z += w.sum()
    P = P.tocoo()
    p = P.data / P.data.sum()
    d2 = ((y[P.row] - y[P.col]) ** 2).sum(1)
    q = 1.0 / (1.0 + d2) / z
    return float(np.sum(p * np.log(np.maximum(p, 1e-300) / q)))


def timed(fn):
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w0, time.process_time() - c0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--run", help="an autoencoder run (its test codes)")
    p.add_argument("--latents", help="an N x D .npy array instead of a run")
    p.add_argument("--epochs", type=int, default=2, help="epochs of the autoencoder trained when no run is given")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--perplexity", type=float, default=30.0)
    p.add_argument("--sweep", action="store_true", help="also time the settings in SWEEP")
    p.add_argument("--no-umap", action="store_true")
    p.add_argument("--no-sklearn", action="store_true", help="skip scikit-learn (only with --sklearn-result)")
    p.add_argument("--sklearn-result", help="JSON {'time_s', 'kl', 'kl_exact'} from an earlier run")
    args = p.parse_args()
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ[var] = str(args.threads)

    from threadpoolctl import threadpool_limits

    from latentspace.analysis.projection import TSNE_PARAMS, tsne_embedding

    x = test_codes(args)
    with threadpool_limits(args.threads):
        P = common_affinities(x, args.perplexity, args.threads)
        if args.no_sklearn:
            sk = json.loads(args.sklearn_result)
        else:
            from sklearn.manifold import TSNE

            est = TSNE(n_components=2, perplexity=args.perplexity, random_state=0, n_jobs=args.threads)
            y, wall, cpu = timed(lambda: est.fit_transform(x))
            sk = {"time_s": round(wall, 2), "cpu_s": round(cpu, 2), "kl": round(float(est.kl_divergence_), 4),
                  "kl_exact": round(exact_kl(P, y), 4)}
            print(json.dumps({"sklearn": sk}), file=sys.stderr)
        umap_s = None
        if not args.no_umap:
            try:
                from latentspace.analysis.projection import umap_2d

                umap_2d(x[:500])  # compile numba functions outside the timing
                _, umap_s, _ = timed(lambda: umap_2d(x))
                umap_s = round(umap_s, 2)
            except Exception as e:  # umap-learn missing: its time is simply absent
                print(f"umap: {e}", file=sys.stderr)
        configs = {"latentspace": {}}
        if args.sweep:
            configs.update(SWEEP)
        for name, overrides in configs.items():
            (y, kl), wall, cpu = timed(lambda: tsne_embedding(x, seed=0, n_jobs=args.threads,
                                                               perplexity=args.perplexity, **overrides))
            kl_exact = exact_kl(P, y)
            print(json.dumps({
                "benchmark": "tsne", "config": name, "params": {**TSNE_PARAMS, **overrides}, "n": len(x),
                "dim": x.shape[1], "threads": args.threads,
                "sklearn_s": sk["time_s"], "sklearn_kl": sk["kl"], "sklearn_kl_exact": sk["kl_exact"],
                "opentsne_s": round(wall, 2), "opentsne_cpu_s": round(cpu, 2), "opentsne_kl": round(kl, 4),
                "opentsne_kl_exact": round(kl_exact, 4),
                "time_ratio": round(wall / sk["time_s"], 3),
                "kl_ratio": round(kl_exact / sk["kl_exact"], 4),
                "meets_target": bool(wall <= sk["time_s"] / 3 and kl_exact <= 1.05 * sk["kl_exact"]),
                "umap_s": umap_s,
            }), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
