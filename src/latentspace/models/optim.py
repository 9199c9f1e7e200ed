"""The one optimizer factory: the study's table-1 choices, fused kernels where PyTorch has them."""
from __future__ import annotations

import math

import torch

from latentspace.models.autoencoder_config import OPTIMIZER_NAMES, SCHEDULES

FUSED = ("adam", "adamw")  # one fused kernel per step instead of ~10 ops per tensor: same update rule


def make_optimizer(params, name: str, lr: float, weight_decay: float = 0.0,
                   betas: tuple[float, float] | None = None) -> torch.optim.Optimizer:
    """The optimizer `name`; Adam and AdamW use PyTorch's fused implementation where it exists
    (CPU and CUDA, torch >= 2.4), which on this network's ~26 small tensors saves ~1.5 ms a step."""
    params = list(params)
    kwargs = {"lr": lr, "weight_decay": weight_decay}
    if name in FUSED:
        if betas is not None:
            kwargs["betas"] = betas
        cls = torch.optim.Adam if name == "adam" else torch.optim.AdamW
        if _fusable(params):
            try:
                return cls(params, fused=True, **kwargs)
            except (RuntimeError, TypeError, ValueError):  # an older torch or an unsupported device/dtype
                pass
        return cls(params, **kwargs)
    if name == "sgd":
        return torch.optim.SGD(params, momentum=0.9, **kwargs)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, **kwargs)
    raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZER_NAMES)}")


@torch.no_grad()
def ema_update(average: torch.nn.Module, online: torch.nn.Module, step: int, decay: float) -> None:
    """Move `average`'s weights towards `online`'s by 1 - min(decay, (1+step)/(10+step)) (the warm-up lets the
    first steps' random weights fade at once) and copy its buffers; one fused lerp over all tensors. The DCGAN's
    EMA generator and the flow model's sampling weights are both kept by it."""
    d = min(decay, (1 + step) / (10 + step))
    torch._foreach_lerp_(list(average.parameters()), list(online.parameters()), 1.0 - d)
    for b_avg, b in zip(average.buffers(), online.buffers()):
        b_avg.copy_(b)


def _fusable(params: list) -> bool:
    tensors = [t for p in params for t in (p["params"] if isinstance(p, dict) else [p])]
    return bool(tensors) and all(t.device.type in ("cpu", "cuda") and t.is_floating_point() for t in tensors)


def budget_steps(trainer) -> float:
    """The steps the trainer's budget allows: its epoch budget's steps, or fewer where a wall-clock budget
    (`--max-time`) ends it first, as training's `TimeBudget` callback estimates from the speed so far. Schedules over the budget (the
    learning rate's, the VAE's KL warm-up) read this, so a run stopped by the clock still completes them."""
    by_epochs = trainer.estimated_stepping_batches
    by_time = getattr(trainer, "time_budget_steps", None)
    return min(by_epochs, by_time) if by_time else by_epochs



class LRFactor:
    """The learning rate's factor at step t of `total` (the scheduler's lr_lambda).

    An object, not a closure, so that LambdaLR's state_dict (and so Lightning's checkpoint) keeps `total`:
    a resumed run continues the very same curve even if its budget was extended, and past `total` the
    factor stays at its final value instead of failing.
      onecycle: cosine warm-up from 1/25 to 1 over `warmup` of the steps, then cosine down to 1/25/1e4
                (OneCycleLR's curve, without its momentum cycling);
      cosine:   linear warm-up from 0 over `warmup` of the steps, then cosine down to 0.
    """

    def __init__(self, kind: str, total: int, warmup: float):
        if kind not in SCHEDULES:
            raise ValueError(f"unknown schedule {kind!r}; choose one of {', '.join(SCHEDULES)}")
        self.kind, self.total, self.warmup = kind, max(1, int(total)), min(max(float(warmup), 0.0), 1.0)

    def __call__(self, step: int) -> float:
        if self.kind == "constant":
            return 1.0
        t = min(step, self.total - 1)
        if self.kind == "cosine":
            up = round(self.warmup * self.total)
            if t < up:
                return (t + 1) / up
            return 0.5 * (1 + math.cos(math.pi * (t - up + 1) / max(1, self.total - up)))
        start, end = 1 / 25, 1 / 25 / 1e4  # OneCycleLR's div_factor and final_div_factor
        peak = self.warmup * self.total - 1  # OneCycleLR's phase boundaries, to the step
        if t <= peak:
            return start + (1.0 - start) * 0.5 * (1 - math.cos(math.pi * t / peak)) if peak > 0 else 1.0
        return end + (1.0 - end) * 0.5 * (1 + math.cos(math.pi * (t - peak) / max(1e-9, self.total - 1 - peak)))


def make_schedule(optimizer: torch.optim.Optimizer, kind: str, total_steps: int, warmup: float):
    """Lightning's scheduler dict (stepped every batch) for `kind`, or None for a constant learning rate."""
    if kind == "constant":
        return None
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, LRFactor(kind, total_steps, warmup))
    return {"scheduler": scheduler, "interval": "step", "name": "lr"}


def configure(module, config):
    """configure_optimizers for a LightningModule whose config is an OptimConfig: the optimizer and its
    schedule over the trainer's whole budget (trainer.estimated_stepping_batches)."""
    # a model's own config need not have the schedule's fields (one written before them): PyTorch's β2, constant
    beta2 = getattr(config, "beta2", None)
    schedule = getattr(config, "schedule", "constant")
    opt = make_optimizer(module.parameters(), config.optimizer, config.lr, config.weight_decay,
                         betas=None if beta2 is None else (0.9, beta2))
    if schedule == "constant":
        return opt
    try:
        trainer = module.trainer
    except RuntimeError:  # a LightningModule not attached to a Trainer (built by hand)
        trainer = None
    total = budget_steps(trainer) if trainer is not None else 1
    total = int(total) if math.isfinite(total) else 1
    return {"optimizer": opt, "lr_scheduler": make_schedule(opt, schedule, total, getattr(config, "warmup", 0.0))}
