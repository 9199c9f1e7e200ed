"""Benchmark: the VQ-VAE's targets of issue 26, side by side with AE-20 and VAE-20 at equal training time.

On Fashion-MNIST, one model after the other in this one run, each in its own process with `--threads` threads
(2 by default: the issue's "2 cores"):
  `latentspace train ae --latent-dim 20`, `train vae --latent-dim 20` and `train vqvae` (its defaults: 512 codes,
  a 7 x 7 grid), each for `--minutes` of training (`--max-time`, wall clock: run it on a quiet machine);
  then `latentspace fit-prior RUN --kind autoregressive --minutes P` on the VQ-VAE (`--prior-minutes`, default 3,
  the prior's own default; reported apart; `--charge-prior` takes P off the VQ-VAE's training time instead, so
  that training plus prior fit equal the others' training);
  then each model's test reconstruction MSE, and `--samples` (5,000) samples scored in our features (FID, KID,
  precision, recall against the test set): the VAE's from N(0, I), the VQ-VAE's from its autoregressive prior
  (temperature 1), the AE's from its default Gaussian mixture (for reference); and the VQ-VAE's codebook use at
  the end (share of the codes the test set uses, RUN/codebook.json, and the last epoch's validation share).

Targets (issue 26.5): VQ-VAE MSE <= AE-20's; VQ-VAE + prior FID <= VAE-20's (N(0, I)); codebook use > 90 %.
Prints a table (stderr) and one JSON line (stdout).

usage: python benchmarks/vqvae_targets.py [--minutes 10] [--prior-minutes 3] [--samples 5000] [--threads 2]
                                          [--out DIR] [--charge-prior] [--seed 0]
`--minutes 0.1 --prior-minutes 0.05 --samples 300 --limit-train 2048` is a dry run of a few minutes (its
numbers mean nothing).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import env_with_src, log

MODELS = {"ae": ["--latent-dim", "20"], "vae": ["--latent-dim", "20"], "vqvae": []}
SAMPLERS = {"ae": "gmm", "vae": "prior", "vqvae": "autoregressive"}
USE_TARGET = 0.9  # share of the codebook in use at the end


def _env(threads: int) -> dict:
    env = env_with_src()
    env["OMP_NUM_THREADS"] = str(threads)
    return env


def cli(args: list[str], threads: int) -> float:
    """`latentspace ARGS` in its own process; returns its wall seconds."""
    cmd = [sys.executable, "-m", "latentspace.cli", *args]
    log(" ".join(cmd[2:]))
    t0 = time.time()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=_env(threads), check=False)
    if proc.returncode:
        raise RuntimeError(f"latentspace {args[0]} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return time.time() - t0


SCORE = r"""
import json, sys, time, torch
torch.set_num_threads(int(sys.argv[3]))
from latentspace.analysis.reconstruction import reconstruction_metrics
from latentspace.analysis.scoring import sample_quality
from latentspace.data.images import run_splits
from latentspace.io import read_json
from latentspace.runs import load_run
from latentspace.samplers.store import draw
model, run = load_run(sys.argv[1])
n, seed, sampler = int(sys.argv[2]), int(sys.argv[4]), sys.argv[5]
splits = run_splits(run.config()["train"])
out = {"test_mse": reconstruction_metrics(model, splits.test)["test_mse"]}
t0 = time.perf_counter()
drawn = draw(model, n, seed, sampler, train=splits.train)
out["s_per_1000_samples"] = round((time.perf_counter() - t0) / n * 1000, 3)
q = sample_quality(drawn.images, splits=splits, n=n, seed=seed)
out.update({k: q[k] for k in ("fid", "kid", "precision", "recall")}, sampler=drawn.description)
s = read_json(run.summary_file)
out.update(train_time_s=s["train_time_s"], epochs_completed=s["epochs_completed"])
if (run.path / "codebook.json").is_file():
    from latentspace.figures.plots import read_metrics
    out["test_codes_used"] = read_json(run.path / "codebook.json")["test_codes_used"]
    out["val_codes_used"] = float(read_metrics(run.metrics_file)["val_codes_used"][-1])
print(json.dumps(out))
"""


def score(run_dir: Path, n: int, threads: int, seed: int, sampler: str) -> dict:
    log(f"scoring {run_dir.name}: {n} samples from {sampler}")
    proc = subprocess.run([sys.executable, "-c", SCORE, str(run_dir), str(n), str(threads), str(seed), sampler],
                          capture_output=True, text=True, env=_env(threads), check=False)
    if proc.returncode:
        raise RuntimeError(f"scoring {run_dir} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def table(results: dict, minutes: float, prior_minutes: float, charged: bool) -> str:
    rows = [f"{'model':<10} {'train min':>9} {'test MSE':>9} {'FID':>8} {'KID':>8} {'prec':>6} {'recall':>6}  sampler"]
    for kind, r in results.items():
        rows.append(f"{kind:<10} {r['train_time_s'] / 60:>9.2f} {r['test_mse']:>9.5f} {r['fid']:>8.2f} "
                    f"{r['kid']:>8.4f} {r['precision']:>6.3f} {r['recall']:>6.3f}  {r['sampler']}")
    vq = results["vqvae"]
    rows.append(f"VQ-VAE prior: {prior_minutes:g} min ({'taken off' if charged else 'beside'} its {minutes:g} "
                f"training minutes); codebook in use at the end: {vq['test_codes_used']:.1%} of test cells' codes, "
                f"{vq['val_codes_used']:.1%} in the last validation epoch")
    return "\n".join(rows)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0, help="training minutes of each model (default: 10)")
    ap.add_argument("--prior-minutes", type=float, default=3.0, help="fit minutes of the VQ-VAE's prior (default: 3)")
    ap.add_argument("--charge-prior", action="store_true",
                    help="take the prior's minutes off the VQ-VAE's training time (equal total time)")
    ap.add_argument("--samples", type=int, default=5000, help="samples scored per model (default: 5000)")
    ap.add_argument("--threads", type=int, default=2, help="CPU threads of every process (default: 2)")
    ap.add_argument("--limit-train", type=int, help="train on the first N images (dry runs only)")
    ap.add_argument("--out", help="keep the runs here (default: a temporary directory)")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    if a.charge_prior and a.prior_minutes >= a.minutes:
        ap.error("--charge-prior needs --prior-minutes below --minutes")
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(a.out or tmp)
        for kind, flags in MODELS.items():
            run_dir = out / kind
            minutes = a.minutes - a.prior_minutes if kind == "vqvae" and a.charge_prior else a.minutes
            extra = ["--limit-train", str(a.limit_train)] if a.limit_train else []
            wall = cli(["train", kind, *flags, "--epochs", "100000", "--max-time", f"{minutes:g}", "--seed",
                        str(a.seed), "--out", str(run_dir), "--no-progress", *extra], a.threads)
            prior_wall = None
            if kind == "vqvae":
                prior_wall = cli(["fit-prior", str(run_dir), "--kind", "autoregressive", "--minutes",
                                  f"{a.prior_minutes:g}"], a.threads)
            results[kind] = {"process_wall_s": round(wall, 1), **score(run_dir, a.samples, a.threads, a.seed,
                                                                          SAMPLERS[kind])}
            if prior_wall is not None:
                results[kind]["prior_fit_wall_s"] = round(prior_wall, 1)
            log(f"{kind}: {json.dumps(results[kind])}")
        if a.out:
            (out / "results.json").write_text(json.dumps(results))
    vq, ae, vae = results["vqvae"], results["ae"], results["vae"]
    targets = {"mse_at_most_ae20": {"vqvae": vq["test_mse"], "ae20": ae["test_mse"],
                                    "pass": vq["test_mse"] <= ae["test_mse"]},
               "fid_at_most_vae20": {"vqvae_prior": vq["fid"], "vae20_normal": vae["fid"],
                                     "pass": vq["fid"] <= vae["fid"]},
               "codebook_use_above_90pc": {"test_codes_used": vq["test_codes_used"],
                                           "pass": vq["test_codes_used"] > USE_TARGET}}
    print(table(results, a.minutes, a.prior_minutes, a.charge_prior), file=sys.stderr, flush=True)
    print(json.dumps({"benchmark": "vqvae_targets", "threads": a.threads, "samples": a.samples,
                      "train_minutes": a.minutes, "prior_minutes": a.prior_minutes, "prior_charged": a.charge_prior,
                      "limit_train": a.limit_train, "results": results, "targets": targets}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
