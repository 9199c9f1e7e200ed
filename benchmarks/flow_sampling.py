"""Benchmark: what sampling a flow-matching run costs and what it gives, per solver and step count.

For one trained `latentspace train flow` run (or one trained here first, `--train-minutes M`):
  - for each SOLVER:STEPS in `--grid`: `--n` samples from the same seeded noise, their wall seconds per 1,000
    (and the process's CPU seconds), their FID/KID in our features against the test set, and the FID's ratio to
    the 20-step Euler FID of the same weights;
  - the encode -> decode round trip (image -> noise -> image, the same solver and steps both ways) on `--n-mse`
    test images: its MSE (images in [0, 1]) against the steps: how accurate the ODE solve is;
  - the issue-24 target at the run's own sampling settings: 5,000 samples in at most 120 s on 2 cores, with FID
    within 10 % of the 20-step Euler FID.
Prints one JSON line. Run it on a quiet machine with `--threads 2` for the final figures; exploratory runs use
`--threads 1` (the numbers then say so).

usage: python benchmarks/flow_sampling.py RUN [--grid euler:20,euler:10,heun:5,...] [--n 5000] [--threads 2]
       python benchmarks/flow_sampling.py --train-minutes 5 [--out DIR] [...]     (trains a default run first)
`--n 200 --grid euler:2,heun:1 --mse-steps 1,2` is a dry run of a minute.

Measurements (Fashion-MNIST; ONE thread per process while other sessions loaded the 2 shared cores, so wall
times are not final figures; CPU seconds and ratios within one process are what compare):
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

TARGET_S_PER_5000 = 120.0  # issue 24, point 6, on 2 cores
TARGET_FID_RATIO = 1.10    # within 10 % of the 20-step Euler FID of the same weights
REFERENCE = ("euler", 20)


def parse_grid(text: str) -> list[tuple[str, int]]:
    out = []
    for item in text.split(","):
        solver, _, steps = item.strip().partition(":")
        out.append((solver, int(steps)))
    return out


def sample_timed(model, n: int, seed: int, batch: int = 500):
    """(uint8 samples, wall seconds, CPU seconds) of n samples from seeded noise."""
    import torch

    from latentspace.data.images import to_uint8

    z = model.prior_latents(n, torch.Generator().manual_seed(seed))
    t0, c0 = time.perf_counter(), time.process_time()
    images = torch.cat([model.decode(z[i:i + batch]) for i in range(0, n, batch)])
    return to_uint8(images), time.perf_counter() - t0, time.process_time() - c0


def round_trip_mse(model, images, steps: int) -> float:
    import torch

    model.config.sample_steps = steps
    with torch.no_grad():
        return float(((model.decode(model.encode(images)) - images) ** 2).mean())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", nargs="?", help="a finished `latentspace train flow` run")
    ap.add_argument("--train-minutes", type=float, help="train a run with the defaults for this long first")
    ap.add_argument("--out", help="where that run goes (default: a temporary directory)")
    ap.add_argument("--grid", default="euler:20,euler:15,euler:12,euler:10,heun:8,heun:6,heun:5,heun:4,heun:3",
                    help="SOLVER:STEPS pairs to score (euler:20, the reference, is always added)")
    ap.add_argument("--n", type=int, default=5000, help="samples scored per setting")
    ap.add_argument("--mse-steps", default="1,2,5,10,20,50", help="steps of the encode -> decode round trips")
    ap.add_argument("--n-mse", type=int, default=500, help="test images of the round trips")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)

    import torch

    torch.set_num_threads(a.threads)
    from latentspace.analysis.scoring import sample_quality
    from latentspace.data.images import run_splits
    from latentspace.runs import load_run

    with tempfile.TemporaryDirectory() as tmp:
        run_dir = a.run
        if run_dir is None:
            if not a.train_minutes:
                ap.error("give a RUN or --train-minutes")
            from latentspace.models.flow_config import SPEC, FlowConfig
            from latentspace.training.config import TrainConfig
            from latentspace.training.trainer import fit

            run_dir = Path(a.out or tmp) / "flow-run"
            fit("flow", FlowConfig(), TrainConfig(**{**SPEC.train_defaults, "epochs": 1000,
                                                     "max_time": a.train_minutes, "seed": a.seed}),
                out=run_dir, progress=False)
        model, run = load_run(run_dir)
        splits = run_splits(run.config()["train"])
        from latentspace.models.flow import solver_of

        default = (solver_of(model.config), model.config.sample_steps)
        grid = list(dict.fromkeys([REFERENCE, default, *parse_grid(a.grid)]))
        rows = []
        for solver, steps in grid:
            model.config.solver, model.config.sample_steps = solver, steps
            images, wall, cpu = sample_timed(model, a.n, a.seed)
            q = sample_quality(images, splits=splits, n=a.n, seed=a.seed)
            rows.append({"solver": solver, "steps": steps, "nfe": 2 * steps - 1 if solver == "heun" else steps,
                         "s_per_1000": round(wall / a.n * 1000, 2), "cpu_s_per_1000": round(cpu / a.n * 1000, 2),
                         "fid": round(q["fid"], 4), "kid": round(q["kid"], 5)})
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
        ref_fid = rows[0]["fid"]
        for r in rows:
            r["fid_ratio"] = round(r["fid"] / ref_fid, 4)
        model.config.solver = default[0]
        x = splits.test.floats(slice(0, a.n_mse))
        mse = {int(s): round_trip_mse(model, x, int(s)) for s in a.mse_steps.split(",")}
        at_default = next(r for r in rows if (r["solver"], r["steps"]) == default)
        s_per_5000 = at_default["s_per_1000"] * 5
        print(json.dumps({
            "benchmark": "flow_sampling", "run": str(run_dir), "threads": a.threads, "n": a.n,
            "default": {"solver": default[0], "steps": default[1]}, "table": rows,
            "encode_decode_mse": {"solver": default[0], "images": a.n_mse, "by_steps": mse},
            "target": {"s_per_5000": round(s_per_5000, 1), "limit_s": TARGET_S_PER_5000,
                       "fid_ratio": at_default["fid_ratio"], "limit_ratio": TARGET_FID_RATIO,
                       "pass": s_per_5000 <= TARGET_S_PER_5000 and at_default["fid_ratio"] <= TARGET_FID_RATIO},
        }), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
