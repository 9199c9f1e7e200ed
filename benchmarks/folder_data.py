"""An image folder as a dataset: time to decode it the first time, to open it the second time, and the peak
resident memory of `latentspace train ae` on it against the decoded uint8 size (target: under 1.5 x: the
cache is memory-mapped and batches are read from it with pread, so its pages stay in the page cache).

Measured (2026-12-02, 50,000 64 x 64 RGB, `--train-minutes 0.5`): peak RSS of training 0.92 x the decoded
586 MiB (1.81-1.86 x when batches were gathered through the memory map), private memory 0.70 x, 21 MiB above
the same training on 1,000 images; second open 0.55 s; first decode 30.1 s while tests shared the cores
(13.6-23 s on a quiet machine before).

    python benchmarks/folder_data.py                      # 50,000 64 x 64 RGB PNGs in a temporary folder
    python benchmarks/folder_data.py --n 10000 --dir /tmp/imgs --train-minutes 0.5

Every measurement is its own process (a fresh interpreter, a fresh cache for the first decode); peak memory
is the child's own ru_maxrss (os.wait4), so the benchmark's memory does not count. Two baselines: a process that
imports the trainer and loads nothing, and the same training on a folder of 1,000 images of the same shape
(the model, optimiser, batches and activations without the data): peak minus that, over the decoded size, is
what the data costs in memory.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
SMALL = 1000  # images of the folder that measures what training itself costs at the same shape


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def generate(root: Path, n: int, size: int, classes: int = 5) -> None:
    """n size x size RGB PNGs of coloured shapes on noise, in `classes` class subfolders (skipped if there)."""
    import numpy as np
    from PIL import Image, ImageDraw

    marker = root / ".generated"
    if marker.is_file() and marker.read_text() == f"{n} {size} {classes}":
        log(f"reusing the {n} images in {root}")
        return
    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    for c in range(classes):
        (root / f"class{c}").mkdir(parents=True, exist_ok=True)
    for i in range(n):
        c = i % classes
        img = Image.fromarray(rng.integers(0, 60, (size, size, 3), dtype=np.uint8))
        d = ImageDraw.Draw(img)
        a, b = sorted(rng.integers(2, size - 2, 2))
        colour = tuple(int(v) for v in rng.integers(80, 256, 3))
        [d.ellipse, d.rectangle, d.pieslice, d.chord, d.rectangle][c]((a, a, b + 1, b + 1), fill=colour,
                                                                       **({"start": 0, "end": 270} if c in (2, 3) else {}))
        img.save(root / f"class{c}" / f"{i:06d}.png", compress_level=1)
        if (i + 1) % 10000 == 0:
            log(f"generated {i + 1} of {n} images ({time.perf_counter() - t0:.0f} s)")
    marker.write_text(f"{n} {size} {classes}")


PEAK_ANON: dict = {}  # argv[-1] -> peak private (anonymous) resident bytes, sampled from /proc


def _sample_anon(pid: int, key: str, stop: threading.Event) -> None:
    """Peak RssAnon of a process: its private memory, without the memory map's file pages (which the kernel
    shares with the page cache and can drop under pressure: why a dataset larger than memory still trains)."""
    peak = 0
    while not stop.wait(0.1):
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("RssAnon:"):
                    peak = max(peak, int(line.split()[1]) * 1024)
        except OSError:
            break
    PEAK_ANON[key] = peak


def child(argv: list[str], env: dict, key: str = "") -> tuple[float, int, str]:
    """(wall seconds, peak RSS in bytes, stdout+stderr tail) of one child process (its peak private memory goes
    into PEAK_ANON under `key`)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    stop = threading.Event()
    sampler = threading.Thread(target=_sample_anon, args=(p.pid, key, stop), daemon=True)
    sampler.start()
    out = p.stdout.read()
    stop.set()
    sampler.join()
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({p.returncode}):\n{out[-3000:]}")
    return wall, usage.ru_maxrss * 1024, out[-2000:]


OPEN = ("import sys, time; t0 = time.perf_counter(); from latentspace.data.images import load_splits; "
        "t1 = time.perf_counter(); s = load_splits(sys.argv[1]); t2 = time.perf_counter(); "
        "print('OPEN', t2 - t1, t1 - t0, len(s.train) + len(s.val) + len(s.test), *s.image_shape)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=50000, help="images (default: 50000)")
    ap.add_argument("--size", type=int, default=64, help="pixels a side (default: 64)")
    ap.add_argument("--dir", help="the image folder (generated there if absent; default: a temporary one)")
    ap.add_argument("--train-minutes", type=float, default=0.5, help="--max-time of the training run (default: 0.5)")
    ap.add_argument("--out", default=str(RESULTS / "folder_data.json"))
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="folder-bench-"))
    root = Path(args.dir) if args.dir else work / "images"
    generate(root, args.n, args.size)
    env = {**os.environ, "LATENTSPACE_CACHE": str(work / "cache"), "PYTHONPATH": str(ROOT / "src")}
    py = sys.executable
    dataset = f"folder:{root}"

    log("first open: decoding into a fresh cache")
    wall1, rss1, out1 = child([py, "-c", OPEN, dataset], env)
    first = float(out1.split("OPEN")[-1].split()[0])
    log(f"first open {first:.1f} s; second open")
    wall2, rss2, out2 = child([py, "-c", OPEN, dataset], env)
    fields = out2.split("OPEN")[-1].split()
    second, n, shape = float(fields[0]), int(fields[2]), tuple(int(v) for v in fields[3:6])
    decoded = n * shape[0] * shape[1] * shape[2]

    log("baseline: the trainer imported, no data")
    _, rss0, _ = child([py, "-c", "import latentspace.training.trainer, latentspace.models.autoencoder"], env)
    cli = "import sys; from latentspace.cli import main; sys.exit(main(sys.argv[1:]))"

    def train(folder, out):
        return child([py, "-c", cli, "train", "ae", "--dataset", f"folder:{folder}", "--epochs", "1", "--max-time",
                      str(args.train_minutes), "--out", str(out), "--no-progress"], env, key=str(out))

    small = work / "small"
    generate(small, SMALL, args.size)
    log(f"training ae for up to {args.train_minutes} min on {SMALL} images of the same shape (training's own memory)")
    _, rss_small, _ = train(small, work / "run-small")
    log(f"training ae for up to {args.train_minutes} min on the folder")
    wall3, rss3, out3 = train(root, work / "run")
    summary = json.loads((work / "run" / "summary.json").read_text()) if (work / "run" / "summary.json").is_file() else {}

    result = {
        "images": n, "image_shape": list(shape), "decoded_bytes": decoded,
        "first_open_s": round(first, 2), "first_open_process_s": round(wall1, 2), "decode_peak_rss_bytes": rss1,
        "second_open_s": round(second, 3), "second_open_process_s": round(wall2, 2),
        "baseline_rss_bytes": rss0, "train_small_peak_rss_bytes": rss_small, "small_images": SMALL,
        "train_peak_minus_small_over_decoded": round((rss3 - rss_small) / decoded, 3),
        "train_peak_rss_bytes": rss3, "train_process_s": round(wall3, 1),
        "train_peak_over_decoded": round(rss3 / decoded, 3),
        "train_peak_minus_baseline_over_decoded": round((rss3 - rss0) / decoded, 3),
        "train_peak_anon_bytes": PEAK_ANON.get(str(work / "run")),
        "train_peak_anon_over_decoded": round(PEAK_ANON.get(str(work / "run"), 0) / decoded, 3),
        "train_small_peak_anon_bytes": PEAK_ANON.get(str(work / "run-small")),
        "train_summary": {k: summary.get(k) for k in ("epochs", "train_time_s", "images_per_s") if k in summary},
        "train_log_tail": out3.strip().splitlines()[-3:],
        "cpu_count": os.cpu_count(), "created": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    mib = 1 << 20
    rows = [("images", f"{n} x {shape[0]} x {shape[1]} x {shape[2]}"),
            ("decoded uint8 size", f"{decoded / mib:.0f} MiB"),
            ("first open (decode)", f"{first:.1f} s in-process, {wall1:.1f} s whole process"),
            ("second open", f"{second:.3f} s in-process, {wall2:.1f} s whole process"),
            ("peak RSS, decoding", f"{rss1 / mib:.0f} MiB"),
            ("peak RSS, baseline (no data)", f"{rss0 / mib:.0f} MiB"),
            (f"peak RSS, train ae on {SMALL} images", f"{rss_small / mib:.0f} MiB (training's own memory)"),
            ("peak RSS, train ae", f"{rss3 / mib:.0f} MiB = {rss3 / decoded:.2f} x decoded; above the baseline "
                                   f"{(rss3 - rss0) / decoded:.2f} x, above training on {SMALL} images "
                                   f"{(rss3 - rss_small) / decoded:.2f} x"),
            ("peak private memory, train ae", f"{PEAK_ANON.get(str(work / 'run'), 0) / mib:.0f} MiB = "
                                              f"{PEAK_ANON.get(str(work / 'run'), 0) / decoded:.2f} x decoded (RssAnon: "
                                              f"without the memory map's page-cache pages); on {SMALL} images "
                                              f"{PEAK_ANON.get(str(work / 'run-small'), 0) / mib:.0f} MiB")]
    w = max(len(k) for k, _ in rows)
    print("\n".join(f"{k:<{w}}  {v}" for k, v in rows))
    print(f"written: {args.out}")
    print(json.dumps({"benchmark": "folder_data", **{k: v for k, v in result.items() if k != "train_log_tail"}}))


if __name__ == "__main__":
    main()
