"""The flow-matching / diffusion model's hyperparameters and its contract (torch-free; the model is in flow.py).

The defaults were measured on Fashion-MNIST with ONE CPU thread under load (benchmarks/flow_sampling.py's
docstring holds the tables): see the comments beside each choice.
"""
from __future__ import annotations

from dataclasses import dataclass

from latentspace.config import option
from latentspace.models.spec import ModelSpec

OBJECTIVES = ("flow", "ddpm")
SOLVERS = ("euler", "heun")
TIME_SAMPLING = ("logit-normal", "uniform")


@dataclass
class FlowConfig:
    objective: str = option("flow", "flow: rectified flow (straight paths, the UNet predicts the velocity); "
                                    "ddpm: ε-prediction with a cosine schedule, sampled by DDIM", choices=OBJECTIVES)
    width: int = option(32, "channels of the UNet's first level (then 2w, 2w, ... per halving)", minimum=8)
    attention: bool = option(False, "self-attention at the UNet's lowest resolution (twice the sampling cost)")
    lr: float = option(2e-3, "AdamW learning rate (constant)", minimum=0.0)
    weight_decay: float = option(0.0, "AdamW weight decay", minimum=0.0)
    grad_clip: float = option(1.0, "clip the gradient's norm to this (0: no clipping)", minimum=0.0)
    ema_decay: float = option(0.999, "decay of the EMA of the weights that samples are drawn with (warmed up: "
                                     "min(decay, (1+t)/(10+t)); 0: the trained weights)", minimum=0.0)
    time_sampling: str = option("logit-normal", "how training draws t: logit-normal (t = sigmoid(N(0, 1)), "
                                                "mid-path times most) or uniform", choices=TIME_SAMPLING)
    sample_steps: int = option(10, "steps of the sampling ODE solve (and of encode's backward solve)", minimum=1)
    solver: str = option("euler", "ODE solver of the flow objective: euler (1 network call a step) or heun "
                                  "(2); ddpm always samples by DDIM", choices=SOLVERS)
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
    train_defaults={"batch_size": 128, "epochs": 20},
    figures=("step_losses", "progress", "trajectory", "samples"),
    loss_label="MSE",
    search_space={"lr": ("float", 1e-4, 1e-2, True), "width": ("int", 16, 64, True),
                  "time_sampling": ("choice", TIME_SAMPLING)},
)
