"""Benchmark (issue 17): time to quality on this CPU, `latentspace train ae|vae` with its defaults against the
study's seed loop (`shared/reference/seed_loop.py`), side by side in one run, counted as whole processes
(start-up, data, training, checkpoints and figures included).

For each model: the seed loop for 1 .. 10 epochs (its curve of test MSE against wall seconds; its 10-epoch
MSE is the target) and `latentspace train KIND` with its defaults (the fast recipe), plus shorter budgets of
the same recipe for our curve. Target: our default reaches a test MSE no worse than the seed loop's after 10
epochs in at most one third of the seed loop's wall time. The VAE's test MSE is through μ; its ELBO terms on
the test set are reported beside. Writes benchmarks/results/time_to_quality.json (and a PNG of the curves) and
prints one JSON line.

Measured (2026-12-02, 2 cores, load 0.6-1.9, `--models vae,ae --seed-points 3,10 --our-epochs 1`):
- `train ae` defaults (one-cycle to 8e-3, β2 0.95, 2 epochs of 96): test MSE 0.01248 in 26.0 s against the seed loop's
  0.01267 in 85.3 s: 0.30x the time (met, narrowly: batch 128 needs 3 epochs, 0.01175 in 32 s);
- `train vae` defaults (one-cycle to 8e-3, 2 epochs of 128, KL weight warmed up over the run): 0.01840 in 25.1 s
  (ELBO 25.30) against 0.01996 in 87.3 s: 0.29x (met). Before the warm-up: 0.02039 in 46.6 s for 3 epochs of 64.
The seed loop's 10 AE epochs took 148-262 s on the same machine on 2026-12-01: read the ratios with the load.

usage: python benchmarks/time_to_quality.py [--models ae,vae] [--seed-points 1,2,4,7,10] [--our-epochs 1,2]
       [--threads N]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, ROOT, env_with_src, log, run_json, seed_loop_path  # noqa: E402


def timed(cmd: list) -> float:
    import subprocess

    log("$ " + " ".join(map(str, cmd)))
    t0 = time.perf_counter()
    p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=env_with_src(), cwd=ROOT)
    if p.returncode != 0:
        raise RuntimeError(f"{cmd[:4]} failed:\n{p.stderr[-3000:]}")
    return time.perf_counter() - t0


def test_metrics(run_dir: Path) -> dict:
    sys.path.insert(0, str(ROOT / "src"))
    from latentspace.analysis.reconstruction import elbo_terms, reconstruction_metrics
    from latentspace.data.images import load_splits
    from latentspace.runs import load_run

    model, _ = load_run(run_dir, checkpoint="last")
    test = load_splits("fashion-mnist").test
    out = {"test_mse": reconstruction_metrics(model, test)["test_mse"]}
    if model.spec.gaussian_posterior:
        out.update(elbo_terms(model, test))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", default="ae,vae")
    ap.add_argument("--seed-points", default="1,2,4,7,10", help="epochs of the seed loop's curve (the last: target)")
    ap.add_argument("--our-epochs", default="1,2", help="shorter budgets of our recipe, for our curve")
    ap.add_argument("--threads", type=int, default=None)
    a = ap.parse_args(argv)
    if a.threads:
        os.environ["OMP_NUM_THREADS"] = str(a.threads)
    seed_loop = seed_loop_path()
    result = {"benchmark": "time_to_quality", "load": os.getloadavg()[0], "threads": a.threads}
    work = Path(tempfile.mkdtemp(prefix="ttq-"))
    for kind in a.models.split(","):
        seed_curve = []
        for epochs in map(int, a.seed_points.split(",")):
            out, wall = run_json([sys.executable, seed_loop, kind, "--epochs", epochs])
            seed_curve.append({"epochs": epochs, "wall_s": round(wall, 1), "test_mse": out["test_mse"]})
        target = seed_curve[-1]
        ours_curve = []
        for epochs in [*map(int, a.our_epochs.split(",")), None]:  # None: the defaults, untouched
            run_dir = work / f"{kind}-{epochs or 'default'}"
            flags = ["--epochs", str(epochs)] if epochs else []
            wall = timed([sys.executable, "-m", "latentspace.cli", "train", kind, "--no-progress", "--out", run_dir,
                          *flags])
            summary = json.loads((run_dir / "summary.json").read_text())
            ours_curve.append({"epochs": summary["epochs_completed"], "defaults": epochs is None,
                               "wall_s": round(wall, 1), **{k: round(v, 5) for k, v in test_metrics(run_dir).items()}})
        default = ours_curve[-1]
        result[kind] = {"seed_loop": seed_curve, "ours": ours_curve,
                        "time_ratio": round(default["wall_s"] / target["wall_s"], 3),
                        "mse_ratio": round(default["test_mse"] / target["test_mse"], 3),
                        "meets_target": default["test_mse"] <= target["test_mse"]
                        and default["wall_s"] <= target["wall_s"] / 3}
        log(f"{kind}: ours {default['test_mse']:.5f} in {default['wall_s']} s, seed loop {target['test_mse']:.5f} "
            f"in {target['wall_s']} s -> time ratio {result[kind]['time_ratio']}")
    result["load_end"] = os.getloadavg()[0]  # 1-minute load average: on a shared machine, read the times with it
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "time_to_quality.json").write_text(json.dumps(result, indent=2))
    plot(result, RESULTS / "time_to_quality.png")
    print(json.dumps(result))
    return 0


def plot(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    kinds = [k for k in ("ae", "vae") if k in result]
    fig, axes = plt.subplots(1, len(kinds), figsize=(6 * len(kinds), 4), squeeze=False)
    for ax, kind in zip(axes[0], kinds):
        for name, label, style in (("seed_loop", "seed loop (study's recipe)", "o--"), ("ours", "latentspace", "s-")):
            pts = result[kind][name]
            ax.plot([p["wall_s"] for p in pts], [p["test_mse"] for p in pts], style, label=label)
        target = result[kind]["seed_loop"][-1]
        ax.axhline(target["test_mse"], color="grey", lw=0.8, ls=":")
        ax.axvline(target["wall_s"] / 3, color="grey", lw=0.8, ls=":", label="a third of the seed loop's time")
        ax.set(title=f"{kind}: test MSE against wall-clock seconds (whole processes)", xlabel="seconds",
               ylabel="test MSE", yscale="log")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    sys.exit(main())
