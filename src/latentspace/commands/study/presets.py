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
    estimates: dict = field(default_factory=dict)  # seconds per step measured on 2 CPU cores


PRESETS = {
    "smoke": Preset("smoke", limit_train=512, ae_epochs=1, search_trials=2, search_epochs=1, search_limit=256,
                    map_n=500, classify_epochs=1, baseline_epochs=1, vae_epochs=1, beta_epochs=1, betas="1,10,100",
                    gan_epochs=2, gan_max_minutes=None, gan_width=16, gan_batch=64, eval_n=500, inception_n=0, feature_net_epochs=1,
                    estimates={"ae20": 8, "search": 15, "maps": 8, "ae2": 8, "classifier": 15, "vae20": 12,
                               "vae2": 8, "beta": 20, "gan": 15, "features": 2, "summary": 20}),
    "quick": Preset("quick", limit_train=None, ae_epochs=8, search_trials=8, search_epochs=2, search_limit=8000,
                    map_n=None, classify_epochs=6, baseline_epochs=4, vae_epochs=8, beta_epochs=4,
                    betas="1,10,100", gan_epochs=6, gan_max_minutes=4.0, gan_width=32, gan_batch=32,
                    eval_n=5000, inception_n=0, feature_net_epochs=4,
                    estimates={"ae20": 72, "search": 37, "maps": 28, "ae2": 72, "classifier": 63, "vae20": 140,
                               "vae2": 70, "beta": 120, "gan": 245, "features": 2, "summary": 45}),
    "full": Preset("full", limit_train=None, ae_epochs=30, search_trials=30, search_epochs=10, search_limit=54000,
                   map_n=None, classify_epochs=20, baseline_epochs=20, vae_epochs=30, beta_epochs=30,
                   betas="1,10,100", gan_epochs=300, gan_max_minutes=None, gan_width=64, gan_batch=128,
                   eval_n=10000, inception_n=10000, feature_net_epochs=15,
                   estimates={"ae20": 240, "search": 7200, "maps": 60, "ae2": 240, "classifier": 600,
                              "vae20": 300, "vae2": 300, "beta": 900, "gan": 36000, "features": 2, "summary": 120}),
}
