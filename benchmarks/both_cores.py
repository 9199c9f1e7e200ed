"""Benchmark (issue 17, target 5): independent trainings on 2 cores, two at a time with one thread each against
one at a time with two threads, side by side in one run (whole processes: `latentspace train KIND`).

This is the choice a step that trains several independent models makes (the search's trials: `--workers`; the
β sweep's VAEs). Prints one JSON line: the wall seconds of both ways and their ratio (< 1: pairs win).

usage: python benchmarks/both_cores.py [--kind vae] [--limit-train 6000] [--epochs 1] [--runs 2]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, env_with_src, log  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kind", default="vae")
    ap.add_argument("--limit-train", type=int, default=6000)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--runs", type=int, default=2)
    a, _ = ap.parse_known_args(argv)
    work = Path(tempfile.mkdtemp(prefix="both-cores-"))

    def cmd(i, way):
        return [sys.executable, "-m", "latentspace.cli", "train", a.kind, "--no-progress", "--device", "cpu",
                "--limit-train", str(a.limit_train), "--epochs", str(a.epochs), "--seed", str(i),
                "--out", str(work / f"{way}-{i}")]

    def env(threads):
        return {**env_with_src(), "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}

    result = {"benchmark": "both_cores", "kind": a.kind, "limit_train": a.limit_train, "epochs": a.epochs,
              "runs": a.runs, "load_before": os.getloadavg()[0]}
    t0 = time.perf_counter()
    for i in range(a.runs):  # one at a time, two threads each
        subprocess.run(cmd(i, "serial"), env=env(2), cwd=ROOT, check=True, capture_output=True)
    result["serial_2_threads_s"] = round(time.perf_counter() - t0, 1)
    log(f"one at a time, 2 threads: {result['serial_2_threads_s']} s")
    t0 = time.perf_counter()
    for start in range(0, a.runs, 2):  # two at a time, one thread each
        procs = [subprocess.Popen(cmd(i, "pairs"), env=env(1), cwd=ROOT, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL) for i in range(start, min(start + 2, a.runs))]
        if any(p.wait() for p in procs):
            raise RuntimeError("a training failed")
    result["pairs_1_thread_s"] = round(time.perf_counter() - t0, 1)
    log(f"two at a time, 1 thread each: {result['pairs_1_thread_s']} s")
    result["pairs_over_serial"] = round(result["pairs_1_thread_s"] / result["serial_2_threads_s"], 3)
    result["load_after"] = os.getloadavg()[0]
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
