"""Pythae's trainer on our exact networks (runs inside .venv-bench; called by the throughput benchmarks).

usage: python _pythae_runner.py ae|vae DATA.npz --epochs N [--latent D] [--bs B] [--seed S]
DATA.npz holds uint8 arrays train / val / test (N x 28 x 28). Prints one JSON line.
The AE is Pythae's `AE` (loss: MSE summed over pixels, averaged over the batch). The VAE is Pythae's
`BetaVAE` with beta 0.5: its loss 0.5 * sum-MSE + 0.5 * KL is latentspace's (sum-MSE + KL) halved,
the same objective (plain `VAE` would weigh the KL twice as much as ours).
"""
import argparse
import json
import logging
import tempfile
import time

import numpy as np
import torch
import torch.nn.functional as F
from pythae.models import AE, AEConfig, BetaVAE, BetaVAEConfig
from pythae.models.base.base_utils import ModelOutput
from pythae.models.nn import BaseDecoder, BaseEncoder
from pythae.pipelines import TrainingPipeline
from pythae.trainers import BaseTrainerConfig
from pythae.trainers.training_callbacks import TrainingCallback
from torch import nn

from latentspace.models.nets import Decoder, Encoder  # PYTHONPATH=src: nets.py imports torch only


class PEncoder(BaseEncoder):
    def __init__(self, latent: int, vae: bool):
        super().__init__()
        self.net = Encoder(latent)
        self.log_var = nn.Linear(self.net.hidden, latent) if vae else None

    def forward(self, x):
        h = self.net.trunk(x)
        out = ModelOutput(embedding=self.net.head(h))
        if self.log_var is not None:
            out["log_covariance"] = self.log_var(h)
        return out


class PDecoder(BaseDecoder):
    def __init__(self, latent: int):
        super().__init__()
        self.net = Decoder(latent)

    def forward(self, z):
        return ModelOutput(reconstruction=self.net(z))


class Timer(TrainingCallback):
    """Time from the start of each epoch's training loop to the start of its evaluation."""

    def __init__(self):
        self.t0, self.train_time, self.epochs = None, 0.0, 0

    def on_train_step_begin(self, training_config, **kwargs):
        self.t0 = time.perf_counter()

    def on_eval_step_begin(self, training_config, **kwargs):
        if self.t0 is not None:
            self.train_time += time.perf_counter() - self.t0
            self.epochs += 1
            self.t0 = None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("kind", choices=["ae", "vae"])
    ap.add_argument("data")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--latent", type=int, default=20)
    ap.add_argument("--bs", type=int, default=256)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    logging.getLogger("pythae").setLevel(logging.WARNING)
    for name in list(logging.root.manager.loggerDict):
        if name.startswith("pythae"):
            logging.getLogger(name).setLevel(logging.WARNING)
    t_start = time.perf_counter()
    torch.manual_seed(a.seed)
    d = np.load(a.data)
    as_float = lambda u8: (u8.astype(np.float32) / 255.0)[:, None]
    train, val, test = as_float(d["train"]), as_float(d["val"]), as_float(d["test"])
    vae = a.kind == "vae"
    if vae:
        model = BetaVAE(BetaVAEConfig(input_dim=(1, 28, 28), latent_dim=a.latent, beta=0.5),
                        encoder=PEncoder(a.latent, True), decoder=PDecoder(a.latent))
    else:
        model = AE(AEConfig(input_dim=(1, 28, 28), latent_dim=a.latent),
                   encoder=PEncoder(a.latent, False), decoder=PDecoder(a.latent))
    timer = Timer()
    with tempfile.TemporaryDirectory() as out:
        cfg = BaseTrainerConfig(output_dir=out, num_epochs=a.epochs, learning_rate=1e-3,
                                per_device_train_batch_size=a.bs, per_device_eval_batch_size=a.bs,
                                optimizer_cls="Adam", optimizer_params={"weight_decay": 1e-5}, seed=a.seed,
                                no_cuda=True)
        TrainingPipeline(training_config=cfg, model=model)(train_data=train, eval_data=val, callbacks=[timer])
    model.eval()
    with torch.no_grad():
        x = torch.from_numpy(test)
        recon = torch.cat([model.decoder(model.encoder(x[i:i + 1000]).embedding).reconstruction
                           for i in range(0, len(x), 1000)])
        mse = F.mse_loss(recon.clamp(0, 1), x).item()
    seen = len(train) * timer.epochs
    print(json.dumps({"train_img_per_s": round(seen / timer.train_time, 1), "train_time_s": round(timer.train_time, 2),
                      "process_wall_s": round(time.perf_counter() - t_start, 2), "images_seen": seen,
                      "test_mse": round(mse, 5), "torch": torch.__version__, "threads": torch.get_num_threads(),
                      "command": f"pythae {'BetaVAE(beta=0.5)' if vae else 'AE'} BaseTrainer, our Encoder/Decoder"}))


if __name__ == "__main__":
    main()
