"""`latentspace runs` over 200 run directories: the whole command as a process (Python's start-up, the CLI's
parser, reading every run's JSON files, the table), median of --repeats, against the target of 1 s.

    python benchmarks/runs_table.py [--runs 200] [--repeats 5]

The runs are written into a temporary directory the way training leaves them (config.json, summary.json,
evaluation.json for every second one, one in ten unfinished, a checkpoints/ and figures/ each; half of them
nested two levels down, as studies and sweeps nest them). Prints one JSON line; `in_process_s` is the same
listing without the process start-up.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 1.0


def write_runs(root: Path, n: int) -> None:
    for i in range(n):
        run = root / (f"study-{i % 10}/steps/ae-{i:03d}" if i % 2 else f"ae-{i:03d}")
        (run / "checkpoints").mkdir(parents=True)
        (run / "figures" / "progress").mkdir(parents=True)
        (run / "config.json").write_text(json.dumps({
            "model": "ae", "model_config": {"latent_dim": 20, "width": 1.0, "lr": 0.008},
            "train": {"epochs": 4, "batch_size": 96, "dataset": "fashion-mnist", "seed": i},
            "dataset": "fashion-mnist", "seed": i, "image_shape": [1, 28, 28],
            "environment": {"torch": "2.13.0", "python": "3.11"}}, indent=2))
        if i % 10:
            (run / "summary.json").write_text(json.dumps({"finished": True, "epochs_completed": 4,
                                                          "best_val_loss": 0.01 + i / 1e4, "train_time_s": 25.0,
                                                          "wall_time_s": 27.0, "figures": ["figures/loss.png"]}))
        if i % 2 == 0:
            (run / "evaluation.json").write_text(json.dumps({"test_mse": 0.011, "fid": 3.5 + i / 100, "kid": 0.02,
                                                             "precision": 0.7, "recall": 0.2}))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=200)
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args()
    src = Path(__file__).resolve().parent.parent / "src"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(src), os.environ.get("PYTHONPATH", "")])}
    sys.path.insert(0, str(src))
    from latentspace.commands.runs import format_table, list_runs

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_runs(root, args.runs)
        command = [sys.executable, "-m", "latentspace.cli", "runs", str(root), "--sort", "fid"]
        times, out = [], ""
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            out = subprocess.run(command, capture_output=True, text=True, env=env, check=True).stdout
            times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        rows = list_runs(root, sort="fid")
        format_table(rows, root)
        in_process = time.perf_counter() - t0
    listed = int(out.strip().splitlines()[-1].split()[0])
    median = statistics.median(times)
    print(json.dumps({"benchmark": "runs_table", "runs": args.runs, "listed": listed,
                      "command_s_median": round(median, 3), "command_s_max": round(max(times), 3),
                      "in_process_s": round(in_process, 4), "target_s": TARGET_S,
                      "met": median < TARGET_S and listed == args.runs,
                      "load_average_1min": round(os.getloadavg()[0], 2)}))


if __name__ == "__main__":
    main()
