"""Benchmark on one GPU, side by side in one run (issue 18): what a GPU user waits for.

    python benchmarks/gpu_bench.py --out DIR [--dry-run] [--seed-loop PATH]

1. autoencoder and VAE training throughput: `latentspace train ae|vae` (data on the device, bf16, channels-last)
   against the study's seed loop moved to the same GPU the way a user would (`seed_loop_cuda`: its networks and
   per-sample DataLoader, model and each batch sent to the device); images/s of the training loops and the ratio;
2. the DCGAN at the study's width (64) and batch 128 for a few epochs: images/s, and 300 epochs extrapolated;
3. the quick preset end to end (`latentspace study --preset quick`), wall seconds per step;
4. the sample metrics of 10,000 images (`latentspace evaluate RUN --n 10000`), seconds;
5. the full preset estimated from the measured step times (the GAN's 300 epochs the largest term).
Writes DIR/gpu_bench.json and prints it as one JSON line. `--dry-run` runs everything tiny on the CPU, to check
the script before a lease is spent on it.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def sh(cmd: list[str], log: Path, timeout: float = 900) -> float:
    """Run a command (output to `log`), fail loudly; returns its wall seconds."""
    t0 = time.perf_counter()
    with open(log, "w") as f:
        p = subprocess.run([str(c) for c in cmd], stdout=f, stderr=subprocess.STDOUT, cwd=ROOT, timeout=timeout,
                           env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "src"),
                                                                                         os.environ.get("PYTHONPATH")]))})
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, cmd))} failed ({p.returncode}); see {log}:\n{log.read_text()[-2000:]}")
    return time.perf_counter() - t0


def last_json(log: Path) -> dict:
    lines = [ln for ln in log.read_text().splitlines() if ln.startswith("{")]
    return json.loads(lines[-1])


def train(kind: str, out: Path, logs: Path, flags: list[str]) -> dict:
    wall = sh([sys.executable, "-m", "latentspace.cli", "train", kind, "--no-progress", "--out", out, *flags],
              logs / f"train-{kind}-{out.name}.log")
    summary = json.loads((out / "summary.json").read_text())
    return {"wall_s": round(wall, 2), "train_s": summary["train_time_s"], "images_per_s": summary["images_per_s"],
            "epochs": summary["epochs_completed"], "device": summary["device"]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=os.environ.get("OUT", "gpu-bench"))
    ap.add_argument("--dry-run", action="store_true", help="tiny budgets on the CPU: checks the script only")
    ap.add_argument("--seed-loop", default=None, help="the study's seed_loop.py (default: beside the checkout)")
    a = ap.parse_args(argv)
    out = Path(a.out).resolve()
    logs = out / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    work = out / "work"
    device = "cpu" if a.dry_run else "cuda"
    epochs = 1 if a.dry_run else 3
    limit = ["--limit-train", "2048"] if a.dry_run else []
    result: dict = {"dry_run": a.dry_run, "device": device}

    # 1. AE and VAE: ours vs the seed loop on the same device
    seed_loop = Path(a.seed_loop or next(p for p in (ROOT / ".gpu" / "seed_loop.py",
                                                      ROOT.parent / "shared" / "reference" / "seed_loop.py")
                                         if p.is_file()))
    for kind in ("ae", "vae"):
        ours = train(kind, work / kind, logs, ["--epochs", str(epochs), "--device", device, "--batch-size", "256",
                                               *limit])
        seed_log = logs / f"seed-{kind}.log"
        sh([sys.executable, ROOT / "benchmarks" / "seed_loop_cuda.py", "--seed-loop", seed_loop, kind, "--epochs",
            str(epochs), "--device", device, *(["--limit", "2048"] if a.dry_run else [])], seed_log)
        seed = last_json(seed_log)
        result[kind] = {"ours": ours, "seed_loop": seed,
                        "throughput_ratio": round(ours["images_per_s"] / seed["train_img_per_s"], 2)}

    # 2. the DCGAN at the study's width and batch 128
    gan_flags = (["--g-width", "16", "--d-width", "16", "--limit-train", "1024"] if a.dry_run else [])
    gan = train("gan", work / "gan", logs, ["--epochs", str(epochs), "--device", device, "--batch-size", "128",
                                            *gan_flags])
    per_epoch = gan["train_s"] / max(gan["epochs"], 1)
    result["gan"] = {**gan, "seconds_per_epoch": round(per_epoch, 2),
                     "estimated_300_epochs_s": round(300 * per_epoch, 1)}

    # 3. the quick preset end to end (smoke on a dry run)
    preset = "smoke" if a.dry_run else "quick"
    study_wall = sh([sys.executable, "-m", "latentspace.cli", "study", "--preset", preset, "--out", work / "study"],
                    logs / "study.log", timeout=1800)
    record = json.loads((work / "study" / "study.json").read_text())
    result["study"] = {"preset": preset, "wall_s": round(study_wall, 1),
                       "steps_s": {k: round(v["seconds"], 1) for k, v in record["steps"].items()},
                       "all_done": all(v["status"] == "done" for v in record["steps"].values())}

    # 4. the sample metrics of 10,000 images
    n = 500 if a.dry_run else 10000
    eval_wall = sh([sys.executable, "-m", "latentspace.cli", "evaluate", work / "gan", "--n", str(n), "--json"],
                   logs / "evaluate.log")
    result["evaluate"] = {"n": n, "wall_s": round(eval_wall, 1)}

    # 5. the full preset from the measured times (its budgets over the quick preset's, step by step)
    sys.path.insert(0, str(ROOT / "src"))
    from latentspace.commands.study.presets import PRESETS

    full, quick = PRESETS["full"], PRESETS["quick"]
    steps = result["study"]["steps_s"]
    scale = {"ae20": full.ae_epochs / quick.ae_epochs, "ae2": full.ae_epochs / quick.ae_epochs,
             "vae20": full.vae_epochs / quick.vae_epochs, "vae2": full.vae_epochs / quick.vae_epochs,
             "beta": full.beta_epochs / quick.beta_epochs,
             "search": full.search_trials * full.search_epochs * full.search_limit
             / (quick.search_trials * quick.search_epochs * quick.search_limit),
             "classifier": full.classify_epochs / quick.classify_epochs}
    estimate = {k: round(steps.get(k, 0) * scale.get(k, 1.0), 1) for k in steps if k != "gan"}
    estimate["gan"] = result["gan"]["estimated_300_epochs_s"] * (54000 / (1024 if a.dry_run else 54000))
    result["full_preset_estimate_s"] = {"steps": estimate, "total": round(sum(estimate.values()), 1)}
    (out / "gpu_bench.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
