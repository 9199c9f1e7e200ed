"""The flow-matching / diffusion model's hyperparameters and its contract (torch-free; the model is in flow.py).

The defaults were measured on Fashion-MNIST with ONE CPU thread under load (benchmarks/flow_sampling.py's
docstring holds the tables): see the comments beside each choice.
"""
from __future__ import annotations

from dataclasses import dataclass

from latentspace.config import option
from latentspace.errors import LatentspaceError
from latentspace.models.spec import ModelSpec

OBJECTIVES = ("flow", "ddpm")
SOLVERS = ("euler", "heun", "ddim")
DEFAULT_SOLVER = {"flow": "heun", "ddpm": "ddim"}
DEFAULT_TIME_SAMPLING = {"flow": "logit-normal", "ddpm": "uniform"}
TIME_SAMPLING = ("logit-normal", "uniform")


DEFAULT_GUIDANCE = 2.0


def _fraction(flag: str):
    def check(value) -> None:
        if value is not None and not 0.0 <= value < 1.0:
            raise LatentspaceError(f"{flag} must be in [0, 1), got {value}")
    return check


@dataclass
class FlowConfig:
    objective: str = option("flow", "flow: rectified flow (straight paths, the UNet predicts the velocity); "
                                    "ddpm: ε-prediction with a cosine schedule, sampled by DDIM", choices=OBJECTIVES)
    # width 16 (0.27 M parameters) against 32 (1.06 M), the same 10 CPU-minutes each (1 thread): FID 2.57 against
    # 3.86 (Euler 20, 1,000 samples); it trains 3.2x and samples 3.1x as fast (239 vs 74 images/s; 1.4 vs 4.5 ms
    # per image and step)
    width: int = option(16, "channels of the UNet's first level (then 2w, 2w, ... per halving)", minimum=8)
    attention: bool = option(False, "self-attention at the UNet's lowest resolution (twice the sampling cost)")
    lr: float = option(2e-3, "AdamW learning rate (constant)", minimum=0.0)
    weight_decay: float = option(0.0, "AdamW weight decay", minimum=0.0)
    grad_clip: float = option(1.0, "clip the gradient's norm to this (0: no clipping)", minimum=0.0)
    ema_decay: float = option(0.999, "decay of the EMA of the weights that samples are drawn with (warmed up: "
                                     "min(decay, (1+t)/(10+t)); 0: the trained weights)", minimum=0.0)
    # flow, width 16, 36k images: logit-normal FID 4.99, uniform 5.77 (Euler 20); ddpm with logit-normal t left
    # noise in its samples (FID 22-28: t < 0.1, where ε-prediction removes the last noise, is drawn 1.4 % of the time)
    time_sampling: str = option(None, "how training draws t: logit-normal (t = sigmoid(N(0, 1)), mid-path times "
                                      "most) or uniform (default: logit-normal for flow, uniform for ddpm)",
                                choices=TIME_SAMPLING)
    # 6 Heun steps (11 network calls) against 20 Euler steps, the same weights (width 16, 10 CPU-minutes), 1,000
    # samples: FID 2.46 against 2.57, round-trip MSE 0.0009 against 0.0046, at 0.53x the cost (the table is in
    # benchmarks/flow_sampling.py)
    sample_steps: int = option(6, "steps of the sampling ODE solve (and of encode's backward solve)", minimum=1)
    solver: str = option(None, "ODE solver: euler (1 network call a step) or heun (2, the last one 1) for flow; "
                               "ddim for ddpm (default: heun for flow, ddim for ddpm)", choices=SOLVERS)
    conditional: bool = option(False, "condition on the data's classes (class embeddings; classifier-free "
                                      "guidance: `generate --class K --guidance W`)")
    label_dropout: float = option(0.1, "fraction of training labels replaced by 'no class' (conditional)",
                                  minimum=0.0, check=_fraction("--label-dropout"))
    guidance: float = option(None, f"classifier-free guidance weight w of a conditional run (1: none; default: "
                                   f"{DEFAULT_GUIDANCE})", minimum=0.0)
    progress_images: int = option(64, "images of the fixed-noise grid drawn after every epoch", minimum=1)


SPEC = ModelSpec(
    kind="flow", title="Flow matching",
    summary="Flow matching (rectified flow; --objective ddpm for DDPM/DDIM) with a small UNet in pixel space: "
            "decode(z) solves the ODE from noise z to an image, encode(x) solves it back.",
    config_cls=FlowConfig, module="latentspace.models.flow:Flow",
    encoder=True,       # the backward ODE solve: image -> its noise
    prior="normal",     # the noise image the ODE starts from
    objective="fid",    # its loss says little about its samples
    monitor=None,       # no validation pass: the checkpoint kept is the last one
    latent_field=None,  # the latent is a noise image of the data's shape, set by no config field
    # the ODE's steps and solver and the guidance weight: `generate`/`evaluate --sample-steps 20 --guidance 3`
    # draw from the same weights differently, without retraining
    sampling_options=("sample_steps", "guidance", "solver"),
    invertible=True,    # encode and decode are the same ODE solved both ways (round-trip MSE 0.0009 at 6 Heun steps)
    # encoding 500 images at the defaults took 17 s (1 thread, loaded machine): the explorer's map of all 10,000
    # test images would have kept it from starting for ~6 minutes; with 1,000 it started in 38 s
    encode_limit=1000,
    # batch 128 / 64 / 32, the same 36k images (width 16, lr 2e-3, 1 thread): FID 4.74 / 3.82 / 3.51 at 6 Heun
    # steps, at 228 / 224 / 200 images/s; 64 keeps most of the gain at longer budgets' less noisy gradients (lr 4e-3
    # at 128: 5.41; lr 1e-3 at 64: 4.29 at 20 Euler steps against 3.97)
    train_defaults={"batch_size": 64, "epochs": 20},
    figures=("step_losses", "progress", "trajectory", "samples"),
    loss_label="MSE",
    search_space={"lr": ("float", 1e-4, 1e-2, True), "width": ("int", 16, 64, True),
                  "time_sampling": ("choice", TIME_SAMPLING)},
)
