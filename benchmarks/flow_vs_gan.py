"""Benchmark: time to quality of the flow-matching model against the DCGAN, both at their defaults (issue 24.5).

On Fashion-MNIST, one model after the other in this one run, each in its own process with `--threads` threads:
  `latentspace train KIND --max-time M` for each budget M of `--minutes` (5, 10, 20, 40), then `--samples`
  (5,000) samples from seeded noise, scored in our features (FID, KID, precision, recall against the test set)
  and timed (seconds per 1,000 samples at the model's default sampling settings).
The budgets of one model are one run extended by `--resume` (Lightning's Timer is in the checkpoint, so
`--max-time 10` on the resumed 5-minute run trains 5 minutes more; both models use a constant learning rate,
so the run at 10 minutes is the run one would have trained for 10). `--fresh` trains every budget afresh.

Reports, as one JSON line: per budget both FIDs and their ratio (flow / GAN), both sample costs, the crossover
(the first budget at which the flow's FID is at most the GAN's, interpolated linearly in log minutes between
budgets), and the issue's targets: the flow's FID at most the GAN's by 20 minutes, at most 0.5x by 40.
Draws docs/flow_vs_gan.png (FID against training minutes, both models; `--plot` elsewhere).

usage: python benchmarks/flow_vs_gan.py [--minutes 5,10,20,40] [--samples 5000] [--threads 2] [--out DIR]
                                        [--fresh] [--plot PATH] [--parallel]
`--parallel --threads 1` races both at once, one core each (40 CPU-minutes of each in 40 wall minutes on 2 cores).
`--minutes 0.2,0.4 --samples 500` is a dry run of a few minutes (its FIDs mean nothing).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODELS = ("gan", "flow")
TARGETS = {20.0: 1.0, 40.0: 0.5}  # budget (minutes) -> the flow's FID at most this times the GAN's


def _env(threads: int) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    env["OMP_NUM_THREADS"] = str(threads)
    for k in ("LATENTSPACE_RUN_DIR", "LOCAL_RANK", "WORLD_SIZE", "RANK"):
        env.pop(k, None)
    return env


def log(msg: str) -> None:
    print(f"[flow_vs_gan {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def train(kind: str, minutes: float, run_dir: Path, resume: bool, threads: int, seed: int, flags=()) -> float:
    """`latentspace train KIND --max-time minutes [flags]` (resumed when asked); returns the process's wall
    seconds."""
    cmd = [sys.executable, "-m", "latentspace.cli", "train", kind, "--epochs", "100000", "--max-time", str(minutes),
           "--out", str(run_dir), "--no-progress", *flags]
    cmd += ["--resume"] if resume else ["--seed", str(seed)]
    log(" ".join(cmd[2:]))
    t0 = time.time()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=_env(threads), check=False)
    if proc.returncode:
        raise RuntimeError(f"latentspace train {kind} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return time.time() - t0


SCORE = r"""
import json, sys, time, torch
torch.set_num_threads(int(sys.argv[3]))
from latentspace.analysis.scoring import sample_quality
from latentspace.data.images import run_splits, to_uint8
from latentspace.io import read_json
from latentspace.runs import load_run
model, run = load_run(sys.argv[1], checkpoint="last")
n, seed = int(sys.argv[2]), int(sys.argv[4])
z = model.prior_latents(n, torch.Generator().manual_seed(seed))
t0 = time.perf_counter()
with torch.no_grad():
    images = torch.cat([model.decode(z[i:i + 500]) for i in range(0, n, 500)])
wall = time.perf_counter() - t0
q = sample_quality(to_uint8(images), splits=run_splits(run.config()["train"]), n=n, seed=seed)
rows = [r for r in (run.path / "metrics.csv").read_text().splitlines()[1:] if r]
s = read_json(run.summary_file)
print(json.dumps({"fid": q["fid"], "kid": q["kid"], "precision": q["precision"], "recall": q["recall"],
                  "s_per_1000_samples": round(wall / n * 1000, 3), "train_time_s": s["train_time_s"],
                  "images_per_s": s["images_per_s"], "epochs_completed": s["epochs_completed"]}))
"""


def score(run_dir: Path, n: int, threads: int, seed: int) -> dict:
    proc = subprocess.run([sys.executable, "-c", SCORE, str(run_dir), str(n), str(threads), str(seed)],
                          capture_output=True, text=True, env=_env(threads), check=False)
    if proc.returncode:
        raise RuntimeError(f"scoring {run_dir} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def crossover(budgets: list[float], flow: list[float], gan: list[float]) -> float | None:
    """The first training minutes at which the flow's FID reaches the GAN's (linear in log minutes between
    budgets); the first budget if it is ahead from the start; None if it never is."""
    diff = [f - g for f, g in zip(flow, gan)]
    for i, d in enumerate(diff):
        if d <= 0:
            if i == 0:
                return budgets[0]
            d0 = diff[i - 1]
            lo, hi = math.log(budgets[i - 1]), math.log(budgets[i])
            return round(math.exp(lo + (hi - lo) * d0 / (d0 - d)), 2)
    return None


def plot(budgets: list[float], results: dict, path: Path, threads: int, n: int) -> Path:
    sys.path.insert(0, str(ROOT / "src"))
    from latentspace.figures.plots import plt, save

    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    names = {"gan": "DCGAN", "flow": "Flow matching"}
    for i, kind in enumerate(MODELS):
        fids = [r["fid"] for r in results[kind]]
        cost = results[kind][-1]["s_per_1000_samples"]
        ax.plot(budgets, fids, "-o", color=f"C{i}", label=f"{names[kind]} ({cost:.2g} s per 1,000 samples)")
    from matplotlib import ticker

    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(budgets, [f"{b:g}" for b in budgets])
    ax.xaxis.set_minor_formatter(ticker.NullFormatter())
    for axis in (ax.yaxis,):
        axis.set_major_formatter(ticker.FormatStrFormatter("%g"))
        axis.set_minor_formatter(ticker.FormatStrFormatter("%g"))
    ax.set_xlabel(f"training minutes ({threads} CPU thread{'s' if threads > 1 else ''})")
    ax.set_ylabel(f"FID, our features ({n} samples)")
    ax.set_title("Time to quality on Fashion-MNIST, both at their defaults")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    return save(fig, path)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", default="5,10,20,40", help="training budgets, minutes, comma-separated")
    ap.add_argument("--samples", type=int, default=5000, help="samples scored per model and budget")
    ap.add_argument("--threads", type=int, default=2, help="CPU threads of every process")
    ap.add_argument("--out", help="keep the runs here (default: a temporary directory)")
    ap.add_argument("--fresh", action="store_true", help="train every budget afresh instead of extending one run")
    ap.add_argument("--plot", type=Path, default=ROOT / "docs" / "flow_vs_gan.png")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--parallel", action="store_true",
                    help="race both models at once, each on its own core (use with --threads 1 on 2 cores)")
    a = ap.parse_args(argv)
    if a.parallel and a.threads * len(MODELS) > (os.cpu_count() or 1):
        ap.error(f"--parallel with --threads {a.threads} needs {a.threads * len(MODELS)} cores, "
                 f"this machine has {os.cpu_count()}")
    budgets = sorted(float(m) for m in a.minutes.split(",") if m.strip())
    results: dict[str, list[dict]] = {k: [] for k in MODELS}

    def race(kind: str, out: Path) -> None:
        for i, minutes in enumerate(budgets):
            run_dir = out / (f"{kind}-{minutes:g}min" if a.fresh else kind)
            wall = train(kind, minutes, run_dir, resume=bool(i) and not a.fresh, threads=a.threads, seed=a.seed)
            results[kind].append({"minutes": minutes, "process_wall_s": round(wall, 1),
                                  **score(run_dir, a.samples, a.threads, a.seed)})
            log(f"{kind} {minutes:g} min: {json.dumps(results[kind][-1])}")

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(a.out or tmp)
        if a.parallel:  # one core each: every minute of training is a CPU-minute of its own core
            with ThreadPoolExecutor(len(MODELS)) as pool:
                for done in [pool.submit(race, kind, out) for kind in MODELS]:
                    done.result()
        else:
            for kind in MODELS:
                race(kind, out)
    flow = [r["fid"] for r in results["flow"]]
    gan = [r["fid"] for r in results["gan"]]
    targets = {f"{m:g}": {"flow_over_gan_fid": round(flow[budgets.index(m)] / gan[budgets.index(m)], 3),
                          "limit": limit, "pass": flow[budgets.index(m)] <= limit * gan[budgets.index(m)]}
               for m, limit in TARGETS.items() if m in budgets}
    figure = plot(budgets, results, a.plot, a.threads, a.samples)
    if a.out:
        (Path(a.out) / "results.json").write_text(json.dumps(results))
    print(json.dumps({
        "benchmark": "flow_vs_gan", "threads": a.threads, "samples": a.samples, "budgets_min": budgets,
        "fresh_runs": a.fresh, "parallel": a.parallel, "gan": results["gan"], "flow": results["flow"],
        "fid_ratio_flow_over_gan": [round(f / g, 3) for f, g in zip(flow, gan)],
        "crossover_min": crossover(budgets, flow, gan), "targets": targets, "plot": str(figure),
    }), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
