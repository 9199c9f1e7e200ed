"""Run every benchmark in this folder (benchmarks/*.py, except this file and _helpers) one after the
other and print their JSON lines. Extra arguments go to every benchmark (e.g. `--limit 5000`)."""
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    failed = 0
    for script in sorted(HERE.glob("*.py")):
        if script.name.startswith("_") or script.name == Path(__file__).name:
            continue
        print(f"# {script.name}", file=sys.stderr, flush=True)
        p = subprocess.run([sys.executable, str(script), *sys.argv[1:]], stdout=subprocess.PIPE, text=True)
        lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
        if p.returncode != 0 or not lines:
            print(f'{{"benchmark": "{script.stem}", "error": "exit code {p.returncode}"}}', flush=True)
            failed += 1
        else:
            print(lines[-1], flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
