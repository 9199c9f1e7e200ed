"""Run every benchmark in this folder (benchmarks/*.py except this file and _helpers), one after the
other, and print their JSON lines.

usage: python benchmarks/run_all.py [--only NAME,NAME] [-- ARGS for each selected benchmark]
e.g.   python benchmarks/run_all.py --only ae_throughput,vae_throughput -- --epochs 1 --limit 5000
"""
import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
GPU_ONLY = {"gpu_bench", "seed_loop_cuda"}


def main() -> int:
    argv = sys.argv[1:]
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", help="comma-separated benchmark names (file names without .py)")
    a = ap.parse_args(argv[:argv.index("--")] if "--" in argv else argv)
    # the GPU scripts run on a lent GPU through gpu_check.sh (they need its device and carried files), not here
    scripts = [s for s in sorted(HERE.glob("*.py")) if not s.name.startswith("_") and s.name != Path(__file__).name
               and s.stem not in GPU_ONLY]
    if a.only:
        wanted = set(a.only.split(","))
        unknown = wanted - {s.stem for s in scripts}
        if unknown:
            ap.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
        scripts = [s for s in scripts if s.stem in wanted]
    failed = 0
    for script in scripts:
        print(f"# {script.name}", file=sys.stderr, flush=True)
        p = subprocess.run([sys.executable, str(script), *extra], stdout=subprocess.PIPE, text=True)
        lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
        if p.returncode != 0 or not lines:
            print(json.dumps({"benchmark": script.stem, "error": f"exit code {p.returncode}"}), flush=True)
            failed += 1
        else:
            print(lines[-1], flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
