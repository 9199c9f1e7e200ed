"""VAE training throughput (images/s) and test reconstruction MSE after N epochs, side by side in one
run: Pythae's VAE on our exact networks (BetaVAE with beta 0.5 = our loss halved, see _pythae_runner.py),
the study's seed loop (`seed_loop.py vae`), `latentspace train vae` (default and `--devices 2`).

usage: python benchmarks/vae_throughput.py [--epochs 5] [--limit N] [--only pythae,seed,latentspace,...]
Prints one JSON line (also written to benchmarks/results/vae_throughput.json).
Target (issue 3): >= 2x Pythae's images/s, reconstruction (test MSE of decode(μ)) no worse.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import benchmark  # noqa: E402

if __name__ == "__main__":
    benchmark("vae_throughput", "vae")
