"""Training throughput (images/s) of `ae` and `gan` by image shape, before and after networks were built from the
data's shape (issue 15), side by side in one run.

Contestants (each a fresh process, on synthetic uint8 images, the model's own training step under Lightning's
Trainer on the CPU, the same batch size, timed over a fixed number of steps after a warm-up):
- before 1x28x28: the code at main c97ef78 (a `git worktree` of it, `--before DIR`, made if missing);
- after 1x28x28, 3x32x32 and 3x64x64: this tree.
Before and after at 28 x 28 alternate for `--rounds` rounds (the median is reported) so load drifts hit both.

usage: python benchmarks/shape_throughput.py [--steps 30] [--warmup 5] [--batch-size 128] [--rounds 2]
                                             [--kinds ae,gan] [--shapes 3x32x32,3x64x64] [--out NAME]
Prints a table and writes benchmarks/results/NAME.json (default shape_throughput.json).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
BEFORE_COMMIT = "c97ef78"


def worker(kind: str, shape: tuple, steps: int, warmup: int, batch_size: int) -> dict:
    """Train `kind` for warmup + steps batches of synthetic images of `shape`; images/s over the timed steps."""
    import lightning as L
    import torch

    from latentspace.data.images import ImageSet
    from latentspace.data.loader import batch_loader
    from latentspace.models import get_spec
    from latentspace.training.trainer import quiet_lightning

    quiet_lightning()
    L.seed_everything(0, verbose=False)
    c, h, w = shape
    n = batch_size * (steps + warmup)
    g = torch.Generator().manual_seed(0)
    images = ImageSet(torch.randint(0, 256, (n, h, w, c), dtype=torch.uint8, generator=g), torch.zeros(n).long(), ())
    spec = get_spec(kind)
    model = spec.build(spec.config_cls(), shape)
    times = []

    class Clock(L.Callback):
        def on_train_batch_start(self, trainer, module, batch, batch_idx):
            times.append(time.perf_counter())

        def on_train_end(self, trainer, module):
            times.append(time.perf_counter())

    trainer = L.Trainer(max_epochs=1, accelerator="cpu", devices=1, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, num_sanity_val_steps=0,
                        callbacks=[Clock()])
    trainer.fit(model, batch_loader(images, batch_size, shuffle=True, drop_last=True))
    timed = times[-1] - times[warmup]
    return {"kind": kind, "shape": list(shape), "steps": steps, "batch_size": batch_size,
            "images_per_s": round(steps * batch_size / timed, 1), "seconds": round(timed, 2),
            "parameters": sum(p.numel() for p in model.parameters()), "threads": torch.get_num_threads()}


def run_worker(src: Path, kind: str, shape: tuple, args) -> dict:
    env = {**os.environ, "PYTHONPATH": str(src)}
    cmd = [sys.executable, __file__, "--worker", kind, "--shape", "x".join(map(str, shape)),
           "--steps", str(args.steps), "--warmup", str(args.warmup), "--batch-size", str(args.batch_size)]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if out.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--worker")
    p.add_argument("--shape", default="1x28x28")
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--kinds", default="ae,gan")
    p.add_argument("--shapes", default="3x32x32,3x64x64", help="the shapes measured after only (none: '')")
    p.add_argument("--out", default="shape_throughput")
    p.add_argument("--before", default="/tmp/latentspace-before", help=f"a checkout of {BEFORE_COMMIT}")
    args = p.parse_args()
    if args.worker:
        shape = tuple(int(v) for v in args.shape.split("x"))
        print(json.dumps(worker(args.worker, shape, args.steps, args.warmup, args.batch_size)))
        return
    before = Path(args.before)
    if not (before / "src" / "latentspace").is_dir():
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(before), BEFORE_COMMIT], check=True)
    after_src = ROOT / "src"
    load = os.getloadavg()
    rows = []
    study = (1, 28, 28)
    colour = [tuple(int(v) for v in s.split("x")) for s in args.shapes.split(",") if s]
    for kind in args.kinds.split(","):
        res = {"before": [], "after": []}
        for _ in range(args.rounds):
            res["before"].append(run_worker(before / "src", kind, study, args))
            res["after"].append(run_worker(after_src, kind, study, args))
        b = statistics.median(r["images_per_s"] for r in res["before"])
        a = statistics.median(r["images_per_s"] for r in res["after"])
        rows.append({"kind": kind, "code": "before", "shape": "1x28x28", "images_per_s": b, "ratio": 1.0,
                     "runs": [r["images_per_s"] for r in res["before"]], "parameters": res["before"][0]["parameters"]})
        rows.append({"kind": kind, "code": "after", "shape": "1x28x28", "images_per_s": a, "ratio": round(a / b, 3),
                     "runs": [r["images_per_s"] for r in res["after"]], "parameters": res["after"][0]["parameters"]})
        for shape in colour:
            r = run_worker(after_src, kind, shape, args)
            rows.append({"kind": kind, "code": "after", "shape": "x".join(map(str, shape)),
                         "images_per_s": r["images_per_s"], "ratio": round(r["images_per_s"] / b, 3),
                         "runs": [r["images_per_s"]], "parameters": r["parameters"]})
    print(f"{'model':<5} {'code':<7} {'shape':<8} {'images/s':>9} {'vs before 28':>13} {'parameters':>11}  runs")
    for r in rows:
        print(f"{r['kind']:<5} {r['code']:<7} {r['shape']:<8} {r['images_per_s']:>9.1f} {r['ratio']:>13.3f} "
              f"{r['parameters']:>11,d}  {r['runs']}")
    result = {"benchmark": "shape_throughput", "before_commit": BEFORE_COMMIT, "steps": args.steps,
              "warmup": args.warmup, "batch_size": args.batch_size, "rounds": args.rounds,
              "threads_env": os.environ.get("OMP_NUM_THREADS"), "load_average_at_start": [round(v, 2) for v in load],
              "load_average_at_end": [round(v, 2) for v in os.getloadavg()], "rows": rows,
              "date": time.strftime("%Y-%m-%d %H:%M:%S")}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{args.out}.json").write_text(json.dumps(result, indent=1))
    print(json.dumps(result))  # the one line run_all.py collects
    print(f"load average {result['load_average_at_start']} -> {result['load_average_at_end']}; "
          f"written {RESULTS / (args.out + '.json')}")


if __name__ == "__main__":
    main()
