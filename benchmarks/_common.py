"""Shared machinery of the throughput benchmarks: run each contestant in its own process, one after
the other, and report images/s of its training loop, its wall time and its test MSE side by side.

Contestants
- seed: `shared/reference/seed_loop.py` (the study's plain PyTorch loop), given the same number of
  training images per epoch as ours (`--limit`).
- pythae: Pythae's trainer (installed in `.venv-bench`, see `make bench-env`) with our exact encoder
  and decoder (`latentspace.models.nets`), our train split as its train data and our validation split as its
  eval data, Adam lr 1e-3, weight decay 1e-5 as ours.
- latentspace: `latentspace train KIND` as a user runs it (a fresh process; the default trainer), and
  variants with extra flags (e.g. `--devices 2`).
Every number is measured in this one run; ratios are what to compare across machines.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_VENV = Path(os.environ.get("LATENTSPACE_BENCH_VENV", ROOT / ".venv-bench"))
RESULTS = ROOT / "benchmarks" / "results"


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def seed_loop_path() -> Path | None:
    candidates = [os.environ.get("LATENTSPACE_SEED_LOOP"), ROOT.parent / "shared" / "reference" / "seed_loop.py",
                  Path("/work/shared/reference/seed_loop.py")]
    for c in candidates:
        if c and Path(c).is_file():
            return Path(c)
    return None


THREADS: int | None = None  # --threads: OMP_NUM_THREADS for every contestant's process


def env_with_src() -> dict:
    env = dict(os.environ)
    if THREADS:
        env["OMP_NUM_THREADS"] = str(THREADS)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    for k in ("MASTER_PORT", "MASTER_ADDR", "WORLD_SIZE", "LOCAL_RANK", "NODE_RANK", "RANK", "LATENTSPACE_RUN_DIR"):
        env.pop(k, None)
    return env


def run_json(cmd: list[str], timeout: float = 3600) -> tuple[dict, float]:
    """Run a command that prints one JSON line last; returns (that dict, wall seconds of the process)."""
    log("$ " + " ".join(map(str, cmd)))
    t0 = time.perf_counter()
    p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=env_with_src(), cwd=ROOT,
                       timeout=timeout)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed ({p.returncode}):\n{p.stderr[-3000:]}")
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
    return (json.loads(lines[-1]) if lines else {}), wall


def test_mse_of_run(run_dir: Path, splits) -> float:
    """Test MSE (per pixel, images in [0, 1]) of a run's final weights: equal epochs for everyone."""
    import torch

    from latentspace.runs import load_run
    model, _ = load_run(run_dir, checkpoint="last")
    with torch.no_grad():
        sq, n = 0.0, 0
        for s in range(0, len(splits.test), 1000):
            x = splits.test.floats(slice(s, s + 1000)).contiguous()
            sq += torch.sum((model.decode(model.encode(x)).clamp(0, 1) - x) ** 2, dtype=torch.float64).item()
            n += x.numel()
    return sq / n


def run_seed(kind: str, epochs: int, n_train: int, latent: int, batch: int) -> dict:
    path = seed_loop_path()
    if path is None:
        raise FileNotFoundError("seed_loop.py not found (set LATENTSPACE_SEED_LOOP)")
    out, wall = run_json([sys.executable, path, kind, "--epochs", epochs, "--limit", n_train, "--latent", latent,
                          "--bs", batch])
    return {"train_img_per_s": out["train_img_per_s"], "train_time_s": round(out["images_seen"] /
            out["train_img_per_s"], 2), "wall_s": round(wall, 2), "images_seen": out["images_seen"],
            "test_mse": out["test_mse"], "command": f"{path.name} {kind} --epochs {epochs} --limit {n_train}"}


def run_pythae(kind: str, epochs: int, splits, latent: int, batch: int, seed: int) -> dict:
    py = BENCH_VENV / "bin" / "python"
    if not py.is_file():
        raise FileNotFoundError(f"{py} missing: run `make bench-env` (Pythae lives in its own venv)")
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data.npz"
        import numpy as np
        np.savez(data, train=splits.train.images.numpy(), val=splits.val.images.numpy(),
                 test=splits.test.images.numpy())
        out, wall = run_json([py, ROOT / "benchmarks" / "_pythae_runner.py", kind, data, "--epochs", epochs,
                              "--latent", latent, "--bs", batch, "--seed", seed])
    out["wall_s"] = round(wall, 2)
    return out


def run_latentspace(kind: str, epochs: int, splits, latent: int, batch: int, seed: int, limit: int | None,
                    devices: int = 1) -> dict:
    """`latentspace train KIND` in a fresh process. With devices > 1 (DDP, one process per device) the batch
    size is per process, so each gets batch / devices: the global batch stays `batch`."""
    extra = ["--devices", str(devices)] if devices > 1 else []
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp) / "run"
        cmd = [sys.executable, "-m", "latentspace.cli", "train", kind, "--latent-dim", latent, "--epochs", epochs,
               "--batch-size", batch // devices, "--seed", seed, "--out", run_dir, "--no-progress", *extra]
        if limit:
            cmd += ["--limit-train", limit]
        _, wall = run_json(cmd)
        summary = json.loads((run_dir / "summary.json").read_text())
        mse = test_mse_of_run(run_dir, splits)
    return {"train_img_per_s": summary["images_per_s"], "train_time_s": summary["train_time_s"],
            "fit_wall_s": summary["wall_time_s"], "wall_s": round(wall, 2), "test_mse": round(mse, 5),
            "images_seen": len(splits.train) * epochs,
            "command": f"latentspace train {kind} --latent-dim {latent} --epochs {epochs} --batch-size "
                       f"{batch // devices} " + " ".join(extra)}


def ratio(a, b):
    return round(a / b, 2) if a and b else None


def benchmark(name: str, kind: str, argv=None) -> dict:
    import argparse
    ap = argparse.ArgumentParser(description=f"{kind} training throughput vs the seed loop and Pythae")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--limit", type=int, default=None, help="train on the first N training images (quick check)")
    ap.add_argument("--latent", type=int, default=20)
    ap.add_argument("--bs", type=int, default=256)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=None,
                    help="OMP_NUM_THREADS for every contestant process (default: PyTorch's choice, all cores; "
                         "under DDP Lightning gives each process cores / devices)")
    ap.add_argument("--only", default="seed,pythae,latentspace,latentspace_ddp2",
                    help="comma-separated contestants")
    a = ap.parse_args(argv)
    global THREADS
    THREADS = a.threads
    sys.path.insert(0, str(ROOT / "src"))
    from latentspace.data.images import load_splits
    splits = load_splits("fashion-mnist", seed=a.seed, limit_train=a.limit)
    n_train = len(splits.train)
    log(f"{name}: {kind}, {a.epochs} epochs, {n_train} training images per epoch, batch {a.bs}, latent {a.latent}")
    runners = {
        "seed": lambda: run_seed(kind, a.epochs, n_train, a.latent, a.bs),
        "pythae": lambda: run_pythae(kind, a.epochs, splits, a.latent, a.bs, a.seed),
        "latentspace": lambda: run_latentspace(kind, a.epochs, splits, a.latent, a.bs, a.seed, a.limit),
        "latentspace_ddp2": lambda: run_latentspace(kind, a.epochs, splits, a.latent, a.bs, a.seed, a.limit, devices=2),
    }
    results = {}
    for who in a.only.split(","):
        try:
            results[who] = runners[who]()
        except Exception as e:  # a missing contestant is reported, the others still run
            results[who] = {"error": str(e).splitlines()[0][:300]}
        log(f"{who}: {json.dumps(results[who])}")
    ratios = {}
    for ours in [k for k in results if k.startswith("latentspace")]:
        for ref in ("seed", "pythae"):
            r = ratio(results[ours].get("train_img_per_s"), results.get(ref, {}).get("train_img_per_s"))
            if r is not None:
                ratios[f"{ours}/{ref}"] = r
            w = ratio(results.get(ref, {}).get("wall_s"), results[ours].get("wall_s"))
            if w is not None:
                ratios[f"{ours}/{ref} (wall speed-up)"] = w
    report = {"benchmark": name, "model": kind, "epochs": a.epochs, "train_images_per_epoch": n_train,
              "batch_size": a.bs, "latent_dim": a.latent, "cpus": os.cpu_count(),
              "omp_num_threads": a.threads or os.environ.get("OMP_NUM_THREADS"),
              "load_average_at_end": [round(x, 2) for x in os.getloadavg()], "results": results,
              "throughput_ratios": ratios, "targets": {"vs_seed": 2.5 if kind == "ae" else None, "vs_pythae": 2.0}}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(report, indent=1))
    print(json.dumps(report), flush=True)
    return report
