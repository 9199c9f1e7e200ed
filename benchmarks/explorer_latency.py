"""Explorer decode round trip: POST /api/decode -> PNG over HTTP on 127.0.0.1, p50 / p95 over N requests.

    python benchmarks/explorer_latency.py [--run RUN] [--requests 500]

Starts `latentspace explore RUN --port 0` as a separate process (a real server), sends the requests
one after another over one keep-alive connection (as the page does), each with a fresh random code
inside the run's slider range. Side by side, in this process: the same decodes without HTTP (model +
PNG encoding only), so the ratio shows what the web layer costs. Without --run, a tiny autoencoder
(latent 20, one epoch on 256 images) is trained into a temporary directory first.
Prints one JSON line. Target: p95 <= 20 ms on CPU. On a busy machine the wall-clock latency is mostly
waiting for a core; `server_cpu_ms_per_request` (the server's own CPU time per request) and the load
average are reported beside it.
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

import numpy as np

TARGET_P95_MS = 20.0


def tiny_run(root: Path) -> Path:
    from latentspace.models.autoencoder_config import AEConfig
    from latentspace.training.config import TrainConfig
    from latentspace.training.trainer import fit

    return fit("ae", AEConfig(latent_dim=20), TrainConfig(epochs=1, limit_train=256, batch_size=128),
               out=root / "ae-z20", progress=False).path


def start_server(run: Path, timeout: float = 300.0):
    env = dict(os.environ)
    src = str(Path(__file__).resolve().parents[1] / "src")
    env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.Popen([sys.executable, "-m", "latentspace.cli", "explore", str(run), "--port", "0",
                             "--limit-test", "1000"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=env)
    deadline = time.monotonic() + timeout
    lines = []
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if line.startswith("latentspace explorer: http://"):
            return proc, line.split()[2]
    proc.kill()
    raise SystemExit("the explorer did not start:\n" + "".join(lines))


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process (Linux /proc): what the server spent, whatever the load."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def stats(ms: list[float]) -> dict:
    a = np.asarray(ms)
    return {"p50_ms": round(float(np.percentile(a, 50)), 3), "p95_ms": round(float(np.percentile(a, 95)), 3),
            "mean_ms": round(float(a.mean()), 3), "max_ms": round(float(a.max()), 3)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", help="run directory (default: train a tiny one)")
    ap.add_argument("--requests", type=int, default=500)
    ap.add_argument("--warmup", type=int, default=20)
    args = ap.parse_args()

    import httpx
    import torch

    from latentspace.data.images import to_uint8
    from latentspace.explorer.served import png_bytes
    from latentspace.runs import load_run

    with tempfile.TemporaryDirectory() as tmp:
        run = Path(args.run) if args.run else tiny_run(Path(tmp))
        proc, url = start_server(run)
        try:
            with httpx.Client(base_url=url, timeout=30) as client:
                info = client.get("/api/runs").json()["runs"][0]
                low, high = np.array(info["low"]), np.array(info["high"])
                rng = np.random.default_rng(0)
                codes = rng.uniform(low, high, size=(args.requests + args.warmup, len(low))).astype(np.float32)
                http_ms = []
                cpu0 = None
                for k, z in enumerate(codes):
                    if k == args.warmup:
                        cpu0 = cpu_seconds(proc.pid)
                    t0 = time.perf_counter()
                    r = client.post("/api/decode", json={"run": info["name"], "z": z.tolist()})
                    r.raise_for_status()
                    body = r.content
                    dt = (time.perf_counter() - t0) * 1000
                    assert body[:8] == b"\x89PNG\r\n\x1a\n"
                    if k >= args.warmup:
                        http_ms.append(dt)
                cpu1 = cpu_seconds(proc.pid)
        finally:
            proc.terminate()
            proc.wait(10)

        model, _ = load_run(run)
        torch.set_num_threads(1)  # as the server does (explorer/serve.py)
        local_ms = []
        for k, z in enumerate(codes):
            t0 = time.perf_counter()
            with torch.inference_mode():
                png_bytes(to_uint8(model.decode(torch.from_numpy(z[None])))[0])
            dt = (time.perf_counter() - t0) * 1000
            if k >= args.warmup:
                local_ms.append(dt)

    http, local = stats(http_ms), stats(local_ms)
    print(json.dumps({
        "benchmark": "explorer_decode_round_trip", "requests": args.requests, "latent_dim": len(low),
        "png_bytes": len(body), "http": http, "in_process": local,
        "http_over_in_process_p50": round(http["p50_ms"] / max(local["p50_ms"], 1e-9), 2),
        "server_cpu_ms_per_request": (round((cpu1 - cpu0) * 1000 / args.requests, 3)
                                      if cpu0 is not None and cpu1 is not None else None),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "target_p95_ms": TARGET_P95_MS, "meets_target": http["p95_ms"] <= TARGET_P95_MS,
        "torch_threads": torch.get_num_threads(), "cpus": os.cpu_count(),
    }))


if __name__ == "__main__":
    main()
