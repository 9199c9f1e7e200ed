"""Flow matching (rectified flow) and DDPM in pixel space: a small UNet learns to turn noise into images.

Time and paths. Images x live in [-1, 1] (the loader's [0, 1], doubled and shifted), ε ~ N(0, I) has their
shape, and t runs from 0 (the image) to 1 (pure noise): x_t = a(t)·x + b(t)·ε.
- objective "flow" (the default; rectified flow): a = 1 - t, b = t, a straight path from image to noise; the
  UNet predicts its velocity v = dx_t/dt = ε - x, trained with the MSE.
- objective "ddpm": a = √ᾱ(t), b = √(1 - ᾱ(t)), ᾱ the cosine schedule (Nichol & Dhariwal 2021, continuous in
  t); the UNet predicts ε, trained with the MSE.
Training draws t from a logit-normal distribution for flow, uniformly for ddpm (as DDPM does), one t per image.

Sampling is deterministic: an ODE solve from t = 1 (the noise) to t = 0 (the image) over `sample_steps` steps of
a uniform time grid. So the starting noise IS the image's latent: `decode(z)` solves forward, `encode(x)` solves
the same grid backwards, image to noise, and decode(encode(x)) ≈ x as far as the solver is accurate. Flow uses
Euler (one network call a step) or Heun (two). DDPM uses DDIM with η = 0, written out here rather than taken
from diffusers' DDIMScheduler: that one works on 1000 discrete timesteps and inverts only through a second
class (DDIMInverseScheduler); the few lines below use the same continuous grid forwards and backwards as flow.

The network is diffusers' UNet2DModel, built from the image shape (`unet`): levels halve the map while it is
over 8 pixels (16 px: 16, 8; 28: 28, 14, 7; 64: 64, 32, 16, 8), channels w, 2w, 2w, ..., one ResNet block a
level, no attention by default (measured: attention at 7x7 doubled the sampling cost). Grey images stay grey:
in_channels = out_channels = C. An image whose size does not halve evenly is padded (reflected) on the way in
and cropped on the way out.

Training keeps an EMA of the weights (`ema_decay`), which is what samples are drawn with, clips the gradient's
norm (`grad_clip`) and uses AdamW at a constant rate: without EMA and clipping torchcfm's CIFAR-10 users got FID
30 instead of 3.5 (torchcfm #63).
"""
from __future__ import annotations

import copy
import itertools
import math

import torch
import torch.nn.functional as F

from latentspace.errors import LatentspaceError
from latentspace.models.base import STUDY_SHAPE, LatentModel
from latentspace.models.flow_config import DEFAULT_GUIDANCE, DEFAULT_SOLVER, DEFAULT_TIME_SAMPLING, FlowConfig
from latentspace.models.nets import check_image_shape
from latentspace.models.optim import ema_update, make_optimizer

TIME_SCALE = 1000.0    # UNet2DModel's sinusoidal time embedding is made for timesteps 0..1000
COSINE_OFFSET = 0.008  # the cosine schedule's s (Nichol & Dhariwal)
ALPHA_BAR_MIN = 1e-4   # ᾱ(1) of the cosine schedule is 0: floored, so that DDIM's x̂0 = (x - bε)/a stays finite
SMALLEST_MAP = 8       # the UNet halves its map while it is larger than this


# ---------------------------------------------------------------------------------------------- the network

def unet_levels(size: int) -> int:
    """Resolutions of the UNet for images `size` pixels wide: halving while the map is over SMALLEST_MAP."""
    levels = 1
    while size > SMALLEST_MAP:
        size, levels = math.ceil(size / 2), levels + 1
    return levels


def unet(config: FlowConfig, image_shape: tuple, num_classes: int = 0):
    """diffusers' UNet2DModel for images of `image_shape`: channels w, 2w, 2w, ..., one ResNet block a level,
    attention (if asked) only at the lowest resolution; with classes, one embedding per class plus one for
    "no class" (classifier-free guidance), added to the time embedding."""
    from diffusers import UNet2DModel

    c, h, _ = check_image_shape(image_shape)
    levels = unet_levels(h)
    w = config.width
    channels = tuple(w if i == 0 else 2 * w for i in range(levels))
    down = tuple("AttnDownBlock2D" if config.attention and i == levels - 1 else "DownBlock2D" for i in range(levels))
    up = tuple("AttnUpBlock2D" if config.attention and i == 0 else "UpBlock2D" for i in range(levels))
    return UNet2DModel(
        sample_size=h, in_channels=c, out_channels=c, block_out_channels=channels, layers_per_block=1,
        down_block_types=down, up_block_types=up, norm_num_groups=math.gcd(w, 32),
        attention_head_dim=min(32, 2 * w) if config.attention else None,
        num_class_embeds=num_classes + 1 if num_classes else None)


def solver_of(config: FlowConfig) -> str:
    return config.solver or DEFAULT_SOLVER[config.objective]


def check_solver(config: FlowConfig) -> None:
    solver = solver_of(config)
    if (solver == "ddim") != (config.objective == "ddpm"):
        raise LatentspaceError(f"--solver {solver} does not solve --objective {config.objective}: flow takes euler or "
                               f"heun, ddpm takes ddim")


# ---------------------------------------------------------------------------------------------- the model

class Flow(LatentModel):
    """decode(z): noise image z -> image by the ODE solve; encode(x): image -> noise by the backward solve;
    sample(n) = decode(N(0, I) noise)."""

    kind = "flow"

    def __init__(self, config: FlowConfig, image_shape: tuple = STUDY_SHAPE, num_classes: int = 0):
        super().__init__(config, image_shape, num_classes)  # the base keeps the classes of a conditional config
        if not 0.0 <= config.ema_decay < 1.0:
            raise LatentspaceError(f"--ema-decay must be in [0, 1), got {config.ema_decay}")
        check_solver(config)
        if config.guidance is not None and not self.conditional:
            raise LatentspaceError("--guidance steers a class-conditional run (trained with --conditional); "
                                   "this one was trained without classes")
        self.net = unet(config, self.image_shape, self.num_classes)
        self.net_ema = copy.deepcopy(self.net).requires_grad_(False)  # what samples are drawn with
        self.register_buffer("ema_steps", torch.zeros((), dtype=torch.long))
        # the fixed noise of the per-epoch progress grid, kept in every checkpoint (a resume keeps it)
        self.register_buffer("fixed_noise", torch.randn(config.progress_images, *self.image_shape))
        _, h, _ = self.image_shape
        step = 2 ** (unet_levels(h) - 1)
        self.pad = -h % step  # pixels added at the bottom and right so that every level halves evenly

    # ------------------------------------------------------------------ the contract

    @property
    def latent_shape(self) -> tuple:
        return self.image_shape

    def title(self) -> str:
        c = self.config
        solver = solver_of(c)
        steps = (f"{c.sample_steps} {solver.upper() if solver == 'ddim' else solver.capitalize()} "
                 f"step{'s' if c.sample_steps != 1 else ''}")
        if c.objective == "ddpm":
            name = "class-conditional DDPM" if self.conditional else "DDPM"
        else:
            name = "class-conditional flow matching" if self.conditional else "flow matching"
        return f"{name[0].upper()}{name[1:]} ({steps}{f', guidance {self.guidance:g}' if self.conditional else ''})"

    def progress_latents(self) -> torch.Tensor:
        return self.fixed_noise

    @property
    def guidance(self) -> float:
        """Classifier-free guidance weight w: the prediction is u + w·(c - u), u without a class, c with it."""
        return DEFAULT_GUIDANCE if self.config.guidance is None else self.config.guidance

    @torch.no_grad()
    def decode(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Noise images (n x C x H x W, or flattened n x C*H*W) -> images in [0, 1], by the ODE solve t = 1 -> 0."""
        labels = self.check_labels(labels, len(z))
        x = self.solve(z.reshape(len(z), *self.image_shape).to(self.device, torch.float32), 1.0, 0.0, labels=labels)
        return x.add_(1).mul_(0.5).clamp_(0, 1)

    @torch.no_grad()
    def encode(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Images in [0, 1] -> their noise (n x C x H x W), by the backward solve t = 0 -> 1."""
        labels = self.check_labels(labels, len(x))
        return self.solve(x.to(self.device, torch.float32) * 2 - 1, 0.0, 1.0, labels=labels)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.decode(z)

    # ------------------------------------------------------------------ paths and the network's prediction

    def coefficients(self, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(a(t), b(t)) of x_t = a·x + b·ε."""
        if self.config.objective == "flow":
            return 1 - t, t
        s = COSINE_OFFSET
        alpha_bar = (torch.cos((t + s) / (1 + s) * math.pi / 2) / math.cos(s / (1 + s) * math.pi / 2)) ** 2
        alpha_bar = alpha_bar.clamp(ALPHA_BAR_MIN, 1.0)
        return alpha_bar.sqrt(), (1 - alpha_bar).sqrt()

    def predict(self, net, x: torch.Tensor, t: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """The network's output (flow: velocity, ddpm: ε) for x_t at times t (one per image), of classes `labels`
        (index num_classes: no class)."""
        h, w = x.shape[-2:]
        if self.pad:
            x = F.pad(x, (0, self.pad, 0, self.pad), mode="reflect")
        out = net(x, t * TIME_SCALE, class_labels=labels).sample
        return out[..., :h, :w]

    def guided(self, x: torch.Tensor, t: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        """The EMA network's prediction, with classifier-free guidance for a conditional model: one call on the
        batch twice over, with its classes and without (w = 1: the conditional prediction alone)."""
        if labels is None:
            return self.predict(self.net_ema, x, t)
        w = self.guidance
        if w == 1.0:
            return self.predict(self.net_ema, x, t, labels)
        both = self.predict(self.net_ema, torch.cat([x, x]), torch.cat([t, t]),
                            torch.cat([labels, torch.full_like(labels, self.num_classes)]))
        cond, uncond = both.chunk(2)
        return uncond + w * (cond - uncond)

    # ------------------------------------------------------------------ sampling: the ODE solve

    def time_grid(self, t_from: float, t_to: float, steps: int) -> list[float]:
        return torch.linspace(t_from, t_to, steps + 1, dtype=torch.float64).tolist()

    def solve(self, x: torch.Tensor, t_from: float, t_to: float, steps: int | None = None,
              labels: torch.Tensor | None = None) -> torch.Tensor:
        """x at time t_from carried to t_to (either direction) in `steps` steps (default: sample_steps), a chunk
        of images at a time (`chunk`)."""
        grid = self.time_grid(t_from, t_to, steps or self.config.sample_steps)
        out = []
        chunk = self.chunk if labels is None or self.guidance == 1.0 else max(1, self.chunk // 2)
        for i, part in enumerate(x.split(chunk)):
            part_labels = None if labels is None else labels[i * chunk:(i + 1) * chunk]
            for t, s in itertools.pairwise(grid):
                part = self.step(part, t, s, part_labels)
            out.append(part)
        return torch.cat(out) if len(out) != 1 else out[0]

    @property
    def chunk(self) -> int:
        """Images per network call when sampling: on a CPU, ~1.6 M activations at the first level (127 images of
        16 x 28 x 28) kept the maps in cache. Measured (1 thread, width 16, 28 px): 1.43 ms per image and step at
        100, 1.94 at 250, 2.54 at 500, 3.58 at 1,000, the batch the commands decode; width 32: 4.6 at 50, 6.4 at 250.
        A GPU takes them all at once."""
        if self.device.type != "cpu":
            return 4096
        _, h, w = self.image_shape
        return max(8, 1_600_000 // (self.config.width * (h + self.pad) * (w + self.pad)))

    def step(self, x: torch.Tensor, t: float, s: float, labels: torch.Tensor | None = None) -> torch.Tensor:
        """One deterministic step from time t to time s, with the EMA weights."""
        n = len(x)
        t_ = torch.full((n,), t, device=x.device)
        if self.config.objective == "ddpm":  # DDIM (η = 0): predict ε and x̂0, put them back together at s
            a_t, b_t = self.coefficients(t_[:1])
            a_s, b_s = self.coefficients(torch.full((1,), s, device=x.device))
            eps = self.guided(x, t_, labels)
            x0 = ((x - b_t * eps) / a_t).clamp(-1, 1)  # the images live in [-1, 1]
            if t > 0:
                # and ε re-derived from the clipped x̂0 (diffusers' use_clipped_model_output): FID 17.9 against 28.2
                # with the network's ε and 22.7 without clipping (20 steps, width 16, 36k images, 500 samples)
                eps = (x - a_t * x0) / b_t
            return a_s * x0 + b_s * eps
        v = self.guided(x, t_, labels)
        x_s = x + (s - t) * v  # Euler
        if solver_of(self.config) == "euler" or s == 0.0:
            # Heun's correction needs the slope at s, and at the image end (t = 0) the network's velocity is
            # E[ε - x | x] = -x, no tangent of any path: the last step is an Euler step, as in EDM (Karras 2022)
            return x_s
        return x + (s - t) * 0.5 * (v + self.guided(x_s, torch.full((n,), s, device=x.device), labels))

    @torch.no_grad()
    def trajectory(self, z: torch.Tensor, times: list[float], labels=None) -> tuple[list, list]:
        """The solve from noise z (t = 1) through `times` (descending, ending at 0): the state x_t and the
        network's estimate of the finished image x̂0 at each, both in [0, 1] (for the trajectory figure)."""
        labels = self.check_labels(labels, len(z))
        x = z.reshape(len(z), *self.image_shape).to(self.device, torch.float32)
        states, estimates, t_prev = [], [], 1.0
        per_unit = self.config.sample_steps  # steps per unit of time, as the sampler takes them
        for t in times:
            if t < t_prev:
                x = self.solve(x, t_prev, t, max(1, round(per_unit * (t_prev - t))), labels)
            t_prev = t
            tt = torch.full((len(x),), float(t), device=x.device)
            out = self.guided(x, tt, labels)
            a, b = self.coefficients(tt.view(-1, 1, 1, 1))
            x0 = x - tt.view(-1, 1, 1, 1) * out if self.config.objective == "flow" else (x - b * out) / a
            states.append(x.add(1).mul(0.5).clamp(0, 1))
            estimates.append(x0.add(1).mul(0.5).clamp(0, 1))
        return states, estimates

    # ------------------------------------------------------------------ training

    def draw_times(self, n: int, device) -> torch.Tensor:
        if (self.config.time_sampling or DEFAULT_TIME_SAMPLING[self.config.objective]) == "uniform":
            return torch.rand(n, device=device)
        return torch.sigmoid(torch.randn(n, device=device))

    def drop_labels(self, labels: torch.Tensor) -> torch.Tensor:
        """Classifier-free guidance's training: `label_dropout` of the labels become "no class" (index
        num_classes), so that one network learns both predictions."""
        dropped = torch.rand(len(labels), device=labels.device) < self.config.label_dropout
        return torch.where(dropped, torch.full_like(labels, self.num_classes), labels)

    def loss(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """The objective's MSE on a batch of images in [-1, 1], at random times and noise (labels: their classes,
        for a conditional model, already dropped where they should be)."""
        t = self.draw_times(len(x), x.device)
        eps = torch.randn_like(x)
        a, b = self.coefficients(t.view(-1, 1, 1, 1))
        target = eps - x if self.config.objective == "flow" else eps
        return F.mse_loss(self.predict(self.net, a * x + b * eps, t, labels), target)

    def training_step(self, batch, batch_idx):
        x = batch[0] * 2 - 1
        loss = self.loss(x, self.drop_labels(batch[1].long()) if self.conditional else None)
        self.log("train_loss", loss, on_step=False, on_epoch=True, prog_bar=True, batch_size=len(x), sync_dist=True)
        return {"loss": loss}  # the finite-loss guard and the per-step loss figure read it

    def on_train_batch_end(self, outputs, batch, batch_idx):
        ema_update(self.net_ema, self.net, int(self.ema_steps), self.config.ema_decay)
        self.ema_steps += 1

    def configure_gradient_clipping(self, optimizer, gradient_clip_val=None, gradient_clip_algorithm=None):
        if self.config.grad_clip > 0:
            self.clip_gradients(optimizer, gradient_clip_val=self.config.grad_clip, gradient_clip_algorithm="norm")

    def configure_optimizers(self):
        return make_optimizer(self.net.parameters(), "adamw", self.config.lr, self.config.weight_decay)
