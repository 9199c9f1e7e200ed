"""The commands' options and choices, torch-free so that `latentspace --help` answers at once."""
from __future__ import annotations

from dataclasses import dataclass

from latentspace.config import option

GENERATE_MODES = ("traverse", "grid", "prior", "interpolate")
SPLITS = ("train", "val", "test")


@dataclass
class BetaSweepConfig:
    # every β of the default grid keeps active units and a traversal that changes the image; the study's 1,10,100
    # on our loss's scale ends at β = 100 with none (see beta_sweep.BETA_SCALE_NOTE: the study's β ÷ 65,025)
    betas: str = option("1,4,10", "comma-separated values of β, one VAE each (the study's: 1,10,100, "
                        "on a loss 65,025 times larger than ours)")
    top_k: int = option(5, "traverse the k most active dimensions (largest mean KL) of each β", minimum=1)
    range: float = option(3.0, "traverse each dimension over ±this many σ of the prior", minimum=0.0)
    steps: int = option(11, "values per traversed dimension (columns)", minimum=2)
    image: int = option(0, "index of the test image whose code is traversed", minimum=0)
    workers: int = option(1, "VAEs trained at once, each on cores / workers threads (on 2 cores, 2 at a time "
                             "took 0.68x the time of one at a time: benchmarks/both_cores.py)", minimum=1)
