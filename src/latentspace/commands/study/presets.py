"""The study's budgets by preset: smoke (seconds a step, for tests), quick (a laptop CPU), full (the study's own,
meant for a GPU). Torch-free: the CLI lists them."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Preset:
    name: str
    limit_train: int | None      # training images (None: all 54,000)
    ae_epochs: int
    search_trials: int
    search_epochs: int
    search_limit: int
    map_n: int | None            # test images on the latent maps (None: all 10,000)
    classify_epochs: int
    baseline_epochs: int
    vae_epochs: int
    beta_epochs: int
    betas: str
    gan_epochs: int
    gan_max_minutes: float | None
    gan_width: int               # generator and discriminator width (the study's: 64)
    gan_batch: int
    eval_n: int                  # samples for FID / KID / precision / recall
    inception_n: int             # samples for the Inception FID / KID columns (0: none; slow on a CPU)
    feature_net_epochs: int      # epochs of our feature network, where the dataset has none yet (labelled data)
    prior_minutes: float = 0.0   # the learned flow prior's fit on AE-20's and VAE-20's codes, each (0: no such step)
    flow_epochs: int = 0         # epochs of the flow-matching model, in a preset whose study has its step
    flow: dict = field(default_factory=dict)  # its FlowConfig values besides the defaults
    estimates: dict = field(default_factory=dict)  # seconds per step measured on 2 CPU cores
    fixed: dict = field(default_factory=dict)      # of those, seconds that do not scale with the machine (max_time)
    search_workers: int = 1  # trials trained at once (each on cores / workers threads)
    beta_workers: int = 1    # β-sweep VAEs trained at once (the same)

    def eta(self, keys, scale: float = 1.0, margin: float = 1.1) -> float:
        """Seconds the steps `keys` should take on a machine `scale` times as slow as the estimates' (measured so
        far: spent / estimated), with a margin: a wall-clock budget (the GAN's max_time) stays as it is."""
        total = 0.0
        for k in keys:
            fixed = min(self.fixed.get(k, 0.0), self.estimates.get(k, 0.0))
            total += fixed + (self.estimates.get(k, 0.0) - fixed) * scale * margin
        return total


PRESETS = {
    "smoke": Preset("smoke", limit_train=512, ae_epochs=1, search_trials=2, search_epochs=1, search_limit=256,
                    map_n=500, classify_epochs=1, baseline_epochs=1, vae_epochs=1, beta_epochs=1, betas="1,10,100",
                    gan_epochs=2, gan_max_minutes=None, gan_width=16, gan_batch=64, eval_n=500, inception_n=0,
                    feature_net_epochs=1, prior_minutes=0.05,
                    estimates={"priors": 15, "ae20": 8, "search": 15, "maps": 8, "ae2": 8, "classifier": 15, "vae20": 12,
                               "vae2": 8, "beta": 20, "gan": 15, "features": 2, "summary": 20}),
    # the fast recipe (one-cycle, higher peak rates, the VAE's KL warm-up): better test MSE than the study's constant
    # 1e-3 in a fraction of the epochs. The estimates are this preset's per-step seconds measured end to end on 2
    # quiet CPU cores (10:30 in all, 2026-12-02, README); a busy machine scales them: the progress line measures
    # by how much.
    "quick": Preset("quick", limit_train=None, ae_epochs=4, search_trials=8, search_epochs=2, search_limit=8000,
                    map_n=None, classify_epochs=6, baseline_epochs=4, vae_epochs=3, beta_epochs=2,
                    betas="1,4,10", gan_epochs=6, gan_max_minutes=4.0, gan_width=32, gan_batch=32,
                    eval_n=5000, inception_n=0, feature_net_epochs=4, prior_minutes=0.5,
                    # two trials at a time with one thread each: 0.68x the time of one at a time with two threads
                    # (benchmarks/both_cores.py, two trainings side by side, load 1.5-2.2)
                    search_workers=2, beta_workers=2,
                    estimates={"priors": 90, "ae20": 39, "search": 33, "maps": 20, "ae2": 38, "classifier": 59, "vae20": 79,
                               "vae2": 29, "beta": 51, "gan": 241, "features": 2, "summary": 34},
                    fixed={"gan": 240, "priors": 60}),
    "full": Preset("full", limit_train=None, ae_epochs=30, search_trials=30, search_epochs=10, search_limit=54000,
                   map_n=None, classify_epochs=20, baseline_epochs=20, vae_epochs=30, beta_epochs=30,
                   betas="1,4,10", gan_epochs=300, gan_max_minutes=None, gan_width=64, gan_batch=128,
                   eval_n=10000, inception_n=10000, feature_net_epochs=15, prior_minutes=3.0,
                   # flow matching at its defaults (batch 64): 100 epochs, 84k steps; not in the quick preset, whose
                   # 12 minutes it would double (it learns recognisable clothing in 5 CPU-minutes, issue 24's probe,
                   # but scoring its samples costs minutes more)
                   flow_epochs=100,
                   # flow: 100 epochs at ~250 images/s on 2 cores, extrapolated from 239 images/s on one thread
                   # (docs/flow.md), not measured end to end; its summary row: 10,000 samples at ~16 ms each
                   estimates={"priors": 600, "ae20": 240, "search": 7200, "maps": 60, "ae2": 240, "classifier": 600,
                              "vae20": 300, "vae2": 300, "beta": 900, "gan": 36000, "flow": 21600, "features": 2,
                              "summary": 300},
                   fixed={"priors": 360}),
}
