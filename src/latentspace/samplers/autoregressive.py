"""A learned prior over a grid of code indices (a VQ-VAE's): a small causal transformer over the h x w indices in
raster order, fitted within a wall-clock budget, sampled one index at a time with a temperature.

    p(grid) = prod_i p(index_i | index_<i [, class])

The sequence starts with a learned start token, or with the class's embedding when the prior is fitted
class-conditional (`fit-prior RUN --kind autoregressive --conditional`: then `generate --class K` draws
class K). Sampling caches each layer's keys and values (one token's work per step), draws all its uniform
numbers first and picks each index by inverting the cumulative distribution, so the same seed gives the same
grids. `temperature` (a sampling setting: `--temperature`) divides the logits: below 1 sharper and less
diverse, above 1 flatter.

Pure torch; the state is a dict of tensors plus JSON-able hyperparameters (`GridPrior.state()`, `hparams`,
`GridPrior.from_state`), saved with torch.save and read with `weights_only=True`. The recipe (`DEFAULTS`, a
small GPT) is chosen, not tuned: benchmarks/vqvae_targets.py measures what its samples reach.
"""
from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from latentspace.errors import LatentspaceError
from latentspace.samplers.base import LatentSampler
from latentspace.samplers.planning import Shuffled, StepPlan, check_budget, checked_hparams

DEFAULTS = {
    "width": 128,          # the transformer's model dimension
    "depth": 4,            # its blocks
    "heads": 4,
    "batch_size": 64,
    "lr": 2e-3,
    "warmup_steps": 100,
    "weight_decay": 0.01,
    "dropout": 0.1,
}
FIT_RECORD = {"grid", "codebook_size", "num_classes", "seed", "fit_steps", "planned_steps", "fit_seconds", "minutes"}
SAMPLE_CHUNK = 1024  # grids drawn at once: the same n always gives the same chunks
DEFAULT_MINUTES = 3.0
MAX_TEMPERATURE = 100.0


class Block(nn.Module):
    """Pre-norm causal self-attention and MLP; `forward` with `cache` appends this step's keys and values."""

    def __init__(self, width: int, heads: int, dropout: float):
        super().__init__()
        self.heads, self.dropout = heads, dropout
        self.norm1, self.norm2 = nn.LayerNorm(width), nn.LayerNorm(width)
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)
        self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(), nn.Linear(4 * width, width))
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, cache: list | None = None) -> torch.Tensor:
        n, t, d = x.shape
        q, k, v = self.qkv(self.norm1(x)).view(n, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        if cache is not None:
            if cache:
                k, v = torch.cat([cache[0], k], 2), torch.cat([cache[1], v], 2)
            cache[:] = [k, v]
        a = F.scaled_dot_product_attention(q, k, v, is_causal=cache is None,
                                           dropout_p=self.dropout if self.training else 0.0)
        x = x + self.drop(self.proj(a.transpose(1, 2).reshape(n, t, d)))
        return x + self.drop(self.mlp(self.norm2(x)))


class GridTransformer(nn.Module):
    """Logits of each index given the ones before it (and the class): N x L indices in, N x L x K logits out."""

    def __init__(self, length: int, codebook_size: int, num_classes: int, width: int, depth: int, heads: int,
                 dropout: float):
        super().__init__()
        self.length = length
        self.tokens = nn.Embedding(codebook_size, width)
        self.positions = nn.Parameter(torch.randn(length, width) * 0.02)
        self.start = nn.Embedding(max(1, num_classes), width)  # one start token, or one per class
        self.blocks = nn.ModuleList(Block(width, heads, dropout) for _ in range(depth))
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, codebook_size)

    def _inputs(self, tokens: torch.Tensor, classes: torch.Tensor) -> torch.Tensor:
        """The start (or class) token, then the first L - 1 indices; positions added."""
        x = torch.cat([self.start(classes)[:, None], self.tokens(tokens[:, :-1])], 1)
        return x + self.positions[: x.shape[1]]

    def forward(self, tokens: torch.Tensor, classes: torch.Tensor) -> torch.Tensor:
        x = self._inputs(tokens, classes)
        for block in self.blocks:
            x = block(x)
        return self.head(self.norm(x))

    @torch.no_grad()
    def sample(self, classes: torch.Tensor, uniforms: torch.Tensor, temperature: float) -> torch.Tensor:
        """One grid per row of `uniforms` (N x L in [0, 1)): each index drawn by inverting the cumulative
        distribution of softmax(logits / temperature) at its uniform number."""
        n = len(uniforms)
        caches = [[] for _ in self.blocks]
        x = self.start(classes)[:, None] + self.positions[:1]
        out = torch.empty(n, self.length, dtype=torch.long)
        for i in range(self.length):
            h = x
            for block, cache in zip(self.blocks, caches):
                h = block(h, cache)
            logits = self.head(self.norm(h[:, -1])).double()
            cdf = torch.softmax(logits / temperature, -1).cumsum(-1)
            index = torch.searchsorted(cdf, uniforms[:, i:i + 1].double() * cdf[:, -1:]).clamp_max(cdf.shape[1] - 1)
            out[:, i] = index[:, 0]
            if i + 1 < self.length:
                x = self.tokens(index) + self.positions[i + 1:i + 2]
        return out


def check_options(options: dict) -> dict:
    hp = checked_hparams("autoregressive prior", options, DEFAULTS, FIT_RECORD, counts=("width", "depth", "heads",
                         "batch_size"), numbers=("lr", "weight_decay", "dropout", "warmup_steps"))
    if hp["width"] % hp["heads"]:
        raise LatentspaceError(f"autoregressive prior: width {hp['width']} is not a multiple of heads {hp['heads']}")
    if not hp["lr"] > 0 or not hp["dropout"] < 1:
        raise LatentspaceError(f"autoregressive prior options need lr > 0 and dropout < 1, got lr {hp['lr']}, "
                               f"dropout {hp['dropout']}")
    return hp


def check_temperature(temperature) -> float:
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not math.isfinite(temperature) \
            or not 0 < temperature <= MAX_TEMPERATURE:
        raise LatentspaceError(f"--temperature must be a number above 0 and at most {MAX_TEMPERATURE:g}, "
                               f"got {temperature!r}")
    return float(temperature)


class GridPrior:
    """A fitted prior over h x w grids of indices 0..K-1 (optionally conditioned on one of C classes)."""

    def __init__(self, hparams: dict, net: GridTransformer):
        self.hparams, self.net = hparams, net.eval()

    @property
    def grid(self) -> tuple[int, int]:
        return tuple(self.hparams["grid"])

    @property
    def num_classes(self) -> int:
        return int(self.hparams.get("num_classes", 0))

    def classes(self, n: int, labels: torch.Tensor | None) -> torch.Tensor:
        """The class of each of n grids: the labels a conditional prior needs, zeros (the start token) else."""
        if not self.num_classes:
            if labels is not None:
                raise LatentspaceError("this autoregressive prior was fitted without classes; fit it with "
                                       "`latentspace fit-prior RUN --kind autoregressive --conditional` to draw a class")
            return torch.zeros(n, dtype=torch.long)
        if labels is None:
            raise LatentspaceError(f"this autoregressive prior is class-conditional: give the classes "
                                   f"(0..{self.num_classes - 1})")
        labels = torch.as_tensor(labels, dtype=torch.long).reshape(-1).cpu()
        if len(labels) != n or (n and (int(labels.min()) < 0 or int(labels.max()) >= self.num_classes)):
            raise LatentspaceError(f"{n} classes in 0..{self.num_classes - 1} needed, got {labels.tolist()[:10]}")
        return labels

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator, labels: torch.Tensor | None = None,
               temperature: float = 1.0) -> torch.Tensor:
        """n grids (n x h x w LongTensor); the same n, generator state, classes and temperature give the same."""
        if int(n) < 1:
            raise LatentspaceError(f"the number of samples must be at least 1, got {n}")
        temperature = check_temperature(temperature)
        classes = self.classes(int(n), labels)
        h, w = self.grid
        uniforms = torch.rand(int(n), h * w, generator=generator)
        out = [self.net.sample(c, u, temperature)
               for c, u in zip(classes.split(SAMPLE_CHUNK), uniforms.split(SAMPLE_CHUNK))]
        return torch.cat(out).view(int(n), h, w)

    @torch.no_grad()
    def nll(self, grids, labels=None, batch_size: int = 1000) -> float:
        """Mean negative log-likelihood of grids, in nats per index (what the fit lowers)."""
        tokens = torch.as_tensor(np.asarray(grids), dtype=torch.long).reshape(len(grids), -1)
        classes = self.classes(len(tokens), None if labels is None else torch.as_tensor(labels))
        total = 0.0
        for s in range(0, len(tokens), batch_size):
            t = tokens[s:s + batch_size]
            logits = self.net(t, classes[s:s + batch_size])
            total += float(F.cross_entropy(logits.reshape(-1, logits.shape[-1]), t.reshape(-1), reduction="sum"))
        return total / tokens.numel()

    def state(self) -> dict[str, torch.Tensor]:
        return {k: v.detach().clone() for k, v in self.net.state_dict().items()}

    @classmethod
    def from_state(cls, state: dict[str, torch.Tensor], hparams: dict) -> GridPrior:
        """Rebuild a prior from `state()` and `hparams`; a state that does not fit them is refused in one line."""
        hp = check_options(dict(hparams))
        try:
            h, w = (int(v) for v in hp["grid"])
            net = build_net(h * w, int(hp["codebook_size"]), int(hp.get("num_classes", 0)), hp)
            net.load_state_dict(state)
        except (KeyError, TypeError, ValueError, RuntimeError) as e:
            raise LatentspaceError(f"an autoregressive prior's state does not fit its hyperparameters "
                                   f"({type(e).__name__}: {str(e).splitlines()[0][:200]})") from None
        if not all(bool(torch.isfinite(v).all()) for v in state.values() if v.is_floating_point()):
            raise LatentspaceError("an autoregressive prior's state has non-finite values")
        return cls(hp, net)


def build_net(length: int, codebook_size: int, num_classes: int, hp: dict) -> GridTransformer:
    return GridTransformer(length, codebook_size, num_classes, hp["width"], hp["depth"], hp["heads"], hp["dropout"])


def check_grids(grids, codebook_size: int) -> torch.Tensor:
    grids = torch.as_tensor(np.asarray(grids))
    if grids.ndim != 3 or len(grids) < 2 or grids.is_floating_point():
        raise LatentspaceError(f"an autoregressive prior is fitted on N x h x w integer code grids (N >= 2), got "
                               f"{tuple(grids.shape)} {grids.dtype}")
    if int(grids.min()) < 0 or int(grids.max()) >= codebook_size:
        raise LatentspaceError(f"code indices must lie in 0..{codebook_size - 1}, got "
                               f"{int(grids.min())}..{int(grids.max())}")
    return grids.long()


def fit(grids, codebook_size: int, labels=None, minutes: float = DEFAULT_MINUTES,
        log: Callable[[str], None] | None = None, seed: int = 0, steps: int | None = None, **options) -> GridPrior:
    """Fit a prior on N x h x w grids of indices 0..codebook_size-1 (conditioned on `labels`, N class indices,
    when given) within `minutes` of wall clock, or exactly `steps` steps (then deterministic for a seed)."""
    log = log or (lambda line: None)
    hp = check_options(dict(options))
    check_budget(minutes, steps)
    grids = check_grids(grids, int(codebook_size))
    n, h, w = grids.shape
    tokens = grids.reshape(n, h * w)
    num_classes = 0
    if labels is not None:
        labels = torch.as_tensor(np.asarray(labels), dtype=torch.long).reshape(-1)
        if len(labels) != n or int(labels.min()) < 0:
            raise LatentspaceError(f"a conditional prior needs one class index (>= 0) per grid, got {len(labels)} "
                                   f"for {n} grids")
        num_classes = int(labels.max()) + 1
        if num_classes < 2:
            raise LatentspaceError("a class-conditional prior needs at least two classes in its data")
    classes = labels if labels is not None else torch.zeros(n, dtype=torch.long)
    g = torch.Generator().manual_seed(int(seed))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))  # the initial weights and the dropout masks
        net = build_net(h * w, int(codebook_size), num_classes, hp)
        decay = [p for name, p in net.named_parameters() if p.ndim >= 2 and "tokens" not in name and "start" not in name]
        rest = [p for name, p in net.named_parameters() if not (p.ndim >= 2 and "tokens" not in name
                                                                 and "start" not in name)]
        opt = torch.optim.AdamW([{"params": decay, "weight_decay": hp["weight_decay"]},
                                 {"params": rest, "weight_decay": 0.0}], lr=hp["lr"], betas=(0.9, 0.95))
        batch = min(hp["batch_size"], n)
        plan = StepPlan(minutes, steps, log=log, name="autoregressive prior")
        batches = Shuffled(n, batch, g)
        net.train()
        while plan.next():
            plan.set_lr(opt, hp["lr"], hp["warmup_steps"])
            take = batches.take()
            logits = net(tokens[take], classes[take])
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tokens[take].reshape(-1))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
            plan.done(loss.item())
    plan.finish()
    record = plan.record()
    log(f"autoregressive prior: fitted in {record['fit_seconds']:.1f} s, {record['fit_steps']} steps")
    hparams = {**hp, "grid": [h, w], "codebook_size": int(codebook_size), "num_classes": num_classes,
               "seed": int(seed), **record}
    return GridPrior(hparams, net)


class AutoregressivePrior(LatentSampler):
    """The registry's `autoregressive` sampler: a `GridPrior` fitted on a model's training grids."""

    name = "autoregressive"

    def __init__(self, model, conditional: bool = False, **options):
        if not isinstance(conditional, bool):
            raise LatentspaceError(f"conditional must be true or false, got {conditional!r}")
        check_options(options)
        super().__init__(model, conditional=conditional, **options)
        self.prior: GridPrior | None = None

    @property
    def description(self) -> str:
        return f"a learned autoregressive prior{' (class-conditional)' if self.options['conditional'] else ''} " \
               f"over the code grid"

    @property
    def num_classes(self) -> int:
        return self.prior.num_classes if self.prior is not None else 0

    def fit_codes(self, codes, labels, minutes, log) -> None:
        options = {k: v for k, v in self.options.items() if k != "conditional"}
        if self.options["conditional"] and labels is None:
            raise LatentspaceError("--conditional: the run's data have no classes to condition the prior on")
        self.prior = fit(codes, self.model.codebook_size, labels=labels if self.options["conditional"] else None,
                         minutes=minutes or DEFAULT_MINUTES, log=log, **options)
        self.fit_info = {"hparams": dict(self.prior.hparams), "steps": self.prior.hparams["fit_steps"]}

    def state(self) -> dict[str, torch.Tensor]:
        return self.prior.state()

    def load_state(self, state) -> None:
        self.prior = GridPrior.from_state(state, self.fit_info.get("hparams", {}))

    def sample(self, n: int, generator: torch.Generator, labels: torch.Tensor | None = None,
               temperature: float = 1.0) -> torch.Tensor:
        return self.prior.sample(n, generator, labels, temperature=temperature)
