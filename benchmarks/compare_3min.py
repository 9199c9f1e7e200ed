"""`latentspace compare --minutes 3` with the default families on Fashion-MNIST, as one process: its total wall
time against the issue's target (30 minutes on 2 cores, scoring included) and the leaderboard.

    python benchmarks/compare_3min.py [--minutes 3] [--workers 1] [--out /tmp/compare-3min] [-- EXTRA FLAGS]

Run it on a quiet machine: each family's budget is wall clock, so a busy machine buys fewer epochs. A tiny
proof that it works: `python benchmarks/compare_3min.py --minutes 0.05 -- --limit-train 512 --models ae+gmm,gan`.
Prints the command, the total time, one line per model and a JSON line with everything.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

TARGET_MIN = 30.0
SHOWN = ("fid", "kid", "precision", "recall", "test_mse", "copy_share", "sample_seconds_per_1000", "params",
         "train_seconds", "prior_fit_seconds", "n_final")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, default=3.0)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--out", default="/tmp/compare-3min")
    p.add_argument("extra", nargs="*", help="more `latentspace compare` flags, after --")
    args = p.parse_args()
    out = Path(args.out)
    shutil.rmtree(out, ignore_errors=True)  # a benchmark starts afresh: nothing reused
    cmd = [sys.executable, "-m", "latentspace.cli", "compare", "--minutes", str(args.minutes), "--workers",
           str(args.workers), "--out", str(out), *args.extra]
    print("$", " ".join(cmd[1:]), flush=True)
    t0 = time.time()
    code = subprocess.call(cmd)
    total = time.time() - t0
    rows = []
    asked = json.loads((out / "compare.json").read_text())["models"] if (out / "compare.json").is_file() else []
    for name in asked:  # in the order asked, as the report's leaderboard
        record = out / "steps" / f"score-{name}.json"
        results = json.loads(record.read_text()).get("results", {}) if record.is_file() else {}
        rows += [{k: r.get(k) for k in ("entry", *SHOWN)} for r in results.values()]
    print(f"\ntotal {total / 60:.1f} min (target {TARGET_MIN:g} min on 2 cores), exit code {code}")
    print("model        " + "  ".join(f"{k[:10]:>10}" for k in SHOWN))
    for r in rows:
        print(f"{r['entry']:<12} " + "  ".join(f"{r[k]:>10.4g}" if isinstance(r[k], (int, float)) else f"{'-':>10}"
                                              for k in SHOWN))
    print(json.dumps({"command": " ".join(cmd[1:]), "total_s": round(total, 1), "exit_code": code,
                      "target_s": TARGET_MIN * 60, "leaderboard": rows}))
    return code


if __name__ == "__main__":
    raise SystemExit(main())
