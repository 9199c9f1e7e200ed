"""Autoencoder training throughput (images/s) and test MSE after N epochs, side by side in one run:
the study's seed loop, Pythae (our encoder/decoder), `latentspace train ae` (default and `--devices 2`).

usage: python benchmarks/ae_throughput.py [--epochs 5] [--limit N] [--only seed,pythae,latentspace,...]
Prints one JSON line (also written to benchmarks/results/ae_throughput.json).
Targets (issue 2): >= 2.5x the seed loop's and >= 2x Pythae's images/s, test MSE no worse.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import benchmark  # noqa: E402

if __name__ == "__main__":
    benchmark("ae_throughput", "ae")
